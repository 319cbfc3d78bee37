package dev.spillway.osd.spi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.spi.Declare.Op;
import org.junit.jupiter.api.Test;

class DeclareTest {
    private final Fid f = Fid.of(1, 1);

    private Declare write(long off, long len) {
        return new Declare(Op.WRITE, f, null, off, len, 0, null);
    }

    @Test
    void aWriteIsCoveredByAnEnclosingRange() {
        assertThat(write(0, 100).covers(write(10, 90))).isTrue();
        assertThat(write(0, 100).covers(write(10, 91))).isFalse();
        assertThat(write(-1, 100).covers(write(5000, 100))).isTrue();
        assertThat(write(-1, 100).covers(write(5000, 101))).isFalse();
    }

    @Test
    void otherObjectsAndOpsAreNotCovered() {
        assertThat(write(0, 100).covers(new Declare(Op.WRITE, Fid.of(1, 2), null, 0, 1, 0, null)))
                .isFalse();
        assertThat(write(0, 100).covers(new Declare(Op.PUNCH, f, null, 0, 1, 0, null)))
                .isFalse();
    }

    @Test
    void xattrsMatchByNameAndSize() {
        Declare d = new Declare(Op.SET_XATTR, f, null, 0, 10, 0, "user.a");
        assertThat(d.covers(new Declare(Op.SET_XATTR, f, null, 0, 10, 0, "user.a")))
                .isTrue();
        assertThat(d.covers(new Declare(Op.SET_XATTR, f, null, 0, 11, 0, "user.a")))
                .isFalse();
        assertThat(d.covers(new Declare(Op.SET_XATTR, f, null, 0, 1, 0, "user.b")))
                .isFalse();
        assertThat(new Declare(Op.SET_XATTR, f, null, 0, 10, 0, null)
                        .covers(new Declare(Op.SET_XATTR, f, null, 0, 1, 0, "user.b")))
                .isTrue();
    }
}
