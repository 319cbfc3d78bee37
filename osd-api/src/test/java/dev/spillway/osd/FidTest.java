package dev.spillway.osd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FidTest {
    @Test
    void textFormIsLustres() {
        assertThat(new Fid(0x200000400L, 1, 0).toString()).isEqualTo("[0x200000400:0x1:0x0]");
        assertThat(new Fid(-1L, -1, -1).toString()).isEqualTo("[0xffffffffffffffff:0xffffffff:0xffffffff]");
    }

    @Test
    void parseAcceptsWithAndWithoutBrackets() {
        assertThat(Fid.parse("[0x200000400:0x1:0x0]")).isEqualTo(new Fid(0x200000400L, 1, 0));
        assertThat(Fid.parse("0x200000400:0x1:0x0")).isEqualTo(new Fid(0x200000400L, 1, 0));
        assertThat(Fid.parse(" [0xffffffffffffffff:0xffffffff:0xffffffff] ")).isEqualTo(new Fid(-1L, -1, -1));
    }

    @Test
    void parseRejectsGarbageNamingIt() {
        assertThatThrownBy(() -> Fid.parse("[0x1:0x2]")).hasMessageContaining("[0x1:0x2]");
        assertThatThrownBy(() -> Fid.parse("bucket/key")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Fid.parse("[0x1:0x123456789:0x0]")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bytesSortLikeFids() {
        Random r = new Random(1);
        List<Fid> fids = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            fids.add(new Fid(r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(3), r.nextInt(), r.nextInt(3) - 1));
        }
        for (int i = 1; i < fids.size(); i++) {
            Fid a = fids.get(i - 1);
            Fid b = fids.get(i);
            assertThat(Integer.signum(Arrays.compareUnsigned(a.toBytes(), b.toBytes())))
                    .isEqualTo(Integer.signum(a.compareTo(b)));
            assertThat(Fid.fromBytes(a.toBytes())).isEqualTo(a);
            assertThat(Fid.parse(a.toString())).isEqualTo(a);
        }
    }

    @Test
    void equalityAndHashAreTheRecordsOwn() {
        // The values the generated record methods gave before equals/hashCode were written out
        // (hashes pick stripes and cache slots; they must not move).
        assertThat(new Fid(0x200000400L, 1, 0).hashCode()).isEqualTo(986017);
        assertThat(new Fid(-1L, -1, -1).hashCode()).isEqualTo(-32);
        assertThat(new Fid(0x123456789abcdefL, 0x7fffffff, 3).hashCode()).isEqualTo(143165036);
        assertThat(new Fid(0, 0, 0).hashCode()).isZero();
        Fid a = new Fid(0x200000400L, 7, 2);
        assertThat(a).isEqualTo(new Fid(0x200000400L, 7, 2)).isNotEqualTo(a.withVersion(3));
        assertThat(a).isNotEqualTo(new Fid(0x200000401L, 7, 2)).isNotEqualTo(new Fid(0x200000400L, 8, 2));
        assertThat(a.equals(null)).isFalse();
        assertThat(a.equals("[0x200000400:0x7:0x2]")).isFalse();
    }
}
