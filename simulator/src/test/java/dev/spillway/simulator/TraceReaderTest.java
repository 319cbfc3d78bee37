package dev.spillway.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceReaderTest {
    static Trace csv(String text) throws IOException {
        return TraceReader.read(
                "t.csv", TraceFormat.CSV, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void csvWithHeaderTextIdsAndOps() throws Exception {
        Trace t = csv("""
                time,object,size,op
                # a comment
                10,a,100,r
                11,b,200,write
                12,a,100
                13.5,42,300,PUT
                """);
        assertThat(t.length()).isEqualTo(4);
        assertThat(t.objects()).isEqualTo(3);
        assertThat(t.footprintBytes()).isEqualTo(600);
        assertThat(t.isWrite(0)).isFalse();
        assertThat(t.isWrite(1)).isTrue();
        assertThat(t.isWrite(3)).isTrue();
        assertThat(t.id(0)).isEqualTo(t.id(2));
        assertThat(t.object(0)).isEqualTo(t.object(2)).isZero();
        assertThat(t.id(3)).isEqualTo(42);
        assertThat(t.nextAccess(0)).isEqualTo(2);
        assertThat(t.nextAccess(1)).isEqualTo(Trace.NEVER);
        assertThat(t.writes()).isEqualTo(2);
    }

    @Test
    void badInputSaysWhereAndWhat(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> csv("1,a,10\n2,b,x\n"))
                .hasMessageContaining("t.csv:2")
                .hasMessageContaining("bad size");
        assertThatThrownBy(() -> csv("1,a,10,delete\n"))
                .hasMessageContaining("t.csv:1")
                .hasMessageContaining("unknown op");
        assertThatThrownBy(() -> TraceReader.read("x.oracleGeneral.bin", TraceFormat.ORACLE_GENERAL, in(new byte[25])))
                .hasMessageContaining("x.oracleGeneral.bin")
                .hasMessageContaining("24 bytes");
        assertThatThrownBy(() -> TraceReader.read("w1.trace", TraceFormat.CLOUD_PHYSICS, in(new byte[6])))
                .hasMessageContaining("w1.trace")
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> TraceReader.read("a.lis", TraceFormat.ARC, in("5 1 0 0\nx 2 0 1\n")))
                .hasMessageContaining("a.lis:2");
        Path odd = Files.writeString(dir.resolve("mystery.bin"), "1\n");
        assertThatThrownBy(() -> TraceReader.read(odd))
                .hasMessageContaining("mystery.bin")
                .hasMessageContaining("FORMAT:FILE")
                .hasMessageContaining("lirs");
        assertThatThrownBy(() -> TraceReader.read(dir.resolve("absent.lis").toString()))
                .isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("absent.lis");
        Path bad = Files.write(dir.resolve("bad.lis.xz"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> TraceReader.read(bad)).hasMessageContaining("bad.lis.xz");
    }

    @Test
    void arcLinesExpandToOneAccessPerBlock() throws Exception {
        Trace t = TraceReader.read("a.lis", TraceFormat.ARC, in("100 3 0 0\n\n101 1 0 1\n"));
        assertThat(t.length()).isEqualTo(4);
        assertThat(t.objects()).isEqualTo(3);
        assertThat(t.id(0)).isEqualTo(100);
        assertThat(t.id(2)).isEqualTo(102);
        assertThat(t.id(3)).isEqualTo(101);
        assertThat(t.size(3)).isEqualTo(4096);
        assertThat(t.nextAccess(1)).isEqualTo(3);
    }

    @Test
    void cloudPhysicsIdsAreUnsignedBigEndian() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN);
        b.putInt(7).putInt(-1).putInt(7);
        Trace t = TraceReader.read("w1.trace", TraceFormat.CLOUD_PHYSICS, in(b.array()));
        assertThat(t.length()).isEqualTo(3);
        assertThat(t.id(1)).isEqualTo(0xFFFF_FFFFL);
        assertThat(t.objects()).isEqualTo(2);
        assertThat(t.footprintBytes()).isEqualTo(8192);
    }

    @Test
    void lirsSkipsCheckpointLines() throws Exception {
        Trace t = TraceReader.read("x.trace", TraceFormat.LIRS, in("1\n*\n2\n1\n"));
        assertThat(t.length()).isEqualTo(3);
        assertThat(t.objects()).isEqualTo(2);
    }

    @Test
    void formatsAndCompressionComeFromTheNameOrAPrefix(@TempDir Path dir) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(5).putLong(7).putInt(4096).putLong(2);
        b.putInt(6).putLong(7).putInt(4096).putLong(-1);
        Path f = Files.write(dir.resolve("two.oracleGeneral.bin"), b.array());
        Trace t = TraceReader.read(f);
        assertThat(t.name()).isEqualTo("two.oracleGeneral.bin");
        assertThat(t.length()).isEqualTo(2);
        assertThat(t.objects()).isEqualTo(1);
        assertThat(t.nextAccess(0)).isEqualTo(1);
        Path c = Files.writeString(dir.resolve("t.csv"), "1,9,10,r\n");
        assertThat(TraceReader.read(c).length()).isEqualTo(1);
        Path l = Files.writeString(dir.resolve("odd-name"), "3\n4\n");
        assertThat(TraceReader.read("lirs:" + l).length()).isEqualTo(2);
        // The committed fixtures are compressed with the real tools (xz -9, zstd -19).
        assertThat(TraceReader.read(fixture("w106-first20000.trace.xz")).length())
                .isEqualTo(20_000);
        Trace oltp = TraceReader.read(fixture("OLTP-first5000.lis.zst"));
        assertThat(oltp.name()).isEqualTo("OLTP-first5000.lis");
        assertThat(oltp.length()).isEqualTo(5_000);
    }

    @Test
    void theBundledTraceAgreesWithItsOwnNextAccessColumn() throws Exception {
        Trace t = TraceReader.bundled();
        byte[] raw;
        try (InputStream in = TraceReader.class.getResourceAsStream(TraceReader.BUNDLED)) {
            raw = in.readAllBytes();
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < t.length(); i++) {
            long v = b.getLong(i * 24 + 16); // libCacheSim's vtime counts from 1; -1: never
            assertThat((long) t.nextAccess(i)).isEqualTo(v < 0 ? Trace.NEVER : v - 1);
            assertThat(t.id(i)).isEqualTo(b.getLong(i * 24 + 4));
        }
    }

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(TraceReaderTest.class.getResource("/traces/" + name).toURI());
    }

    private static InputStream in(byte[] b) {
        return new ByteArrayInputStream(b);
    }

    private static InputStream in(String s) {
        return in(s.getBytes(StandardCharsets.US_ASCII));
    }
}
