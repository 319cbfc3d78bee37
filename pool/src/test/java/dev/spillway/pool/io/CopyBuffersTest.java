package dev.spillway.pool.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Copy buffers: sizes, reuse per size, and the budget on what is kept. */
class CopyBuffersTest {
    @BeforeEach
    void empty() {
        CopyBuffers.clear();
    }

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
        CopyBuffers.give(huge);
        assertThat(CopyBuffers.take((4 << 20) + 1)).isNotSameAs(huge);
    }

    @Test
    void aBufferGivenBackIsTakenAgainBySize() {
        byte[] mib = CopyBuffers.take(1 << 20);
        byte[] small = CopyBuffers.take(4096);
        CopyBuffers.give(small);
        CopyBuffers.give(mib);
        // Each size from its own: a small buffer kept does not stand in the way of a large one.
        assertThat(CopyBuffers.take(1 << 20)).isSameAs(mib);
        assertThat(CopyBuffers.take(5000)).isSameAs(small);
        assertThat(CopyBuffers.take(1 << 20)).isNotSameAs(mib);
    }

    @Test
    void noMoreThanTheBudgetIsKept() {
        int n = (int) (2 * CopyBuffers.BUDGET >> 20);
        List<byte[]> held = new ArrayList<>();
        Map<byte[], Boolean> given = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            held.add(CopyBuffers.take(1 << 20));
        }
        for (byte[] b : held) {
            given.put(b, true);
            CopyBuffers.give(b);
        }
        int reused = 0;
        for (int i = 0; i < n; i++) {
            if (given.containsKey(CopyBuffers.take(1 << 20))) {
                reused++;
            }
        }
        assertThat(reused).isEqualTo((int) (CopyBuffers.BUDGET >> 20));
        // Arrays not of a kept size are not kept.
        byte[] odd = new byte[(1 << 20) + 1];
        CopyBuffers.give(odd);
        CopyBuffers.give(new byte[1000]);
        assertThat(CopyBuffers.take(1000).length).isEqualTo(64 << 10);
    }
}
