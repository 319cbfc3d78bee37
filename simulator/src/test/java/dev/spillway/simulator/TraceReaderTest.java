package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceReaderTest {
    @Test
    void csvWithHeaderTextIdsAndOps() throws Exception {
        String csv = """
                time,object,size,op
                # a comment
                10,a,100,r
                11,b,200,write
                12,a,100
                13.5,42,300,PUT
                """;
        Trace t = TraceReader.csv("t.csv", new BufferedReader(new StringReader(csv)));
        assertThat(t.length()).isEqualTo(4);
        assertThat(t.objects()).isEqualTo(3);
        assertThat(t.footprintBytes()).isEqualTo(600);
        assertThat(t.isWrite(0)).isFalse();
        assertThat(t.isWrite(1)).isTrue();
        assertThat(t.isWrite(3)).isTrue();
        assertThat(t.id(0)).isEqualTo(t.id(2));
        assertThat(t.id(3)).isEqualTo(42);
        assertThat(t.timeSeconds(3)).isEqualTo(13);
        assertThat(t.nextAccess(0)).isEqualTo(2);
        assertThat(t.nextAccess(1)).isEqualTo(Trace.NEVER);
        assertThat(t.writes()).isEqualTo(2);
    }

    @Test
    void badInputSaysWhereAndWhat() {
        assertThatThrownBy(() -> TraceReader.csv("t.csv", new BufferedReader(new StringReader("1,a,10\n2,b,x\n"))))
                .hasMessageContaining("t.csv:2")
                .hasMessageContaining("bad size");
        assertThatThrownBy(() -> TraceReader.csv("t.csv", new BufferedReader(new StringReader("1,a,10,delete\n"))))
                .hasMessageContaining("t.csv:1")
                .hasMessageContaining("unknown op");
        assertThatThrownBy(() -> TraceReader.oracleGeneral("x.bin", new byte[25]))
                .hasMessageContaining("x.bin")
                .hasMessageContaining("24-byte");
    }

    @Test
    void oracleGeneralFileRoundTrip(@TempDir Path dir) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(5).putLong(7).putInt(4096).putLong(2); // libCacheSim vtime: request 2, counted from 1
        b.putInt(6).putLong(7).putInt(4096).putLong(-1);
        Path f = dir.resolve("two.oracleGeneral.bin");
        Files.write(f, b.array());
        Trace t = TraceReader.read(f);
        assertThat(t.length()).isEqualTo(2);
        assertThat(t.objects()).isEqualTo(1);
        assertThat(t.nextAccess(0)).isEqualTo(1);
        assertThat(t.nextAccess(1)).isEqualTo(Trace.NEVER);
        Path c = dir.resolve("t.csv");
        Files.writeString(c, "1,9,10,r\n");
        assertThat(TraceReader.read(c).length()).isEqualTo(1);
    }

    @Test
    void theBundledTraceCarriesConsistentNextAccesses() {
        Trace t = TraceReader.bundled();
        Trace recomputed =
                Trace.withComputedNextAccess("x", new long[t.length()], ids(t), sizes(t), new boolean[t.length()]);
        for (int i = 0; i < t.length(); i++) {
            assertThat(t.nextAccess(i)).isEqualTo(recomputed.nextAccess(i));
        }
    }

    private static long[] ids(Trace t) {
        long[] a = new long[t.length()];
        for (int i = 0; i < a.length; i++) {
            a[i] = t.id(i);
        }
        return a;
    }

    private static long[] sizes(Trace t) {
        long[] a = new long[t.length()];
        for (int i = 0; i < a.length; i++) {
            a[i] = t.size(i);
        }
        return a;
    }
}
