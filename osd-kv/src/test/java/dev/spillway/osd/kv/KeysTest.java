package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class KeysTest {
    @Test
    void theAttributeKeyIsTheObjectPrefixThenA() {
        for (Fid f : new Fid[] {
            new Fid(0x200000400L, 1, 0), new Fid(-1L, -1, -1), new Fid(0x0102030405060708L, 0x090a0b0c, 0x0d0e0f10)
        }) {
            byte[] want = ByteBuffer.allocate(Keys.SUB_PREFIX)
                    .put(Keys.OBJECT)
                    .putLong(f.seq())
                    .putInt(f.oid())
                    .putInt(f.ver())
                    .put(Keys.ATTR)
                    .array();
            assertThat(Keys.attr(f)).as("%s", f).isEqualTo(want);
            assertThat(Keys.subStart(f, Keys.ATTR)).isEqualTo(want);
        }
    }
}
