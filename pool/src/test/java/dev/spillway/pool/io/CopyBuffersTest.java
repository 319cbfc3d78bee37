package dev.spillway.pool.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Copy buffers: sizes, reuse, and the cap on what is kept. */
class CopyBuffersTest {
    @Test
    void aBufferIsAPowerOfTwoAtLeastAsLongAsAskedFromSixtyFourKiB() {
        assertThat(CopyBuffers.size(1)).isEqualTo(64 << 10);
        assertThat(CopyBuffers.size(64 << 10)).isEqualTo(64 << 10);
        assertThat(CopyBuffers.size((64 << 10) + 1)).isEqualTo(128 << 10);
        assertThat(CopyBuffers.size(1 << 20)).isEqualTo(1 << 20);
        assertThat(CopyBuffers.size((1 << 20) - 5)).isEqualTo(1 << 20);
        assertThat(CopyBuffers.take(3000).length).isEqualTo(64 << 10);
        // Past the largest size kept: exactly as long as asked, and never kept.
        byte[] huge = CopyBuffers.take((4 << 20) + 1);
        assertThat(huge.length).isEqualTo((4 << 20) + 1);
    }

    @Test
    void aBufferGivenBackIsTakenAgainAndNoMoreThanTheCapIsKept() {
        // Drain whatever other tests left.
        List<byte[]> held = new ArrayList<>();
        for (int i = 0; i < CopyBuffers.KEEP * 2; i++) {
            held.add(CopyBuffers.take(1 << 20));
        }
        byte[] b = held.get(0);
        CopyBuffers.give(b);
        assertThat(CopyBuffers.take(1 << 20)).isSameAs(b);
        // Give back more than the cap: only KEEP come back, the rest are new arrays.
        Map<byte[], Boolean> given = new IdentityHashMap<>();
        for (byte[] x : held) {
            given.put(x, true);
            CopyBuffers.give(x);
        }
        int reused = 0;
        for (int i = 0; i < CopyBuffers.KEEP * 2; i++) {
            if (given.containsKey(CopyBuffers.take(1 << 20))) {
                reused++;
            }
        }
        assertThat(reused).isEqualTo(CopyBuffers.KEEP);
        // Arrays not of a kept size are not kept.
        CopyBuffers.give(new byte[1000]);
        CopyBuffers.give(new byte[(1 << 20) + 1]);
        byte[] next = CopyBuffers.take(1000);
        assertThat(next.length).isEqualTo(64 << 10);
    }
}
