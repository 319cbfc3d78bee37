package dev.spillway.pool.ops;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.device.DeviceTable;
import dev.spillway.pool.meta.PoolFids;

/**
 * Hands out fresh copy keys. The high-water mark is persisted (durably) a block ahead of use, so
 * a key is never reused after a crash, and allocation costs no I/O but once per block.
 */
public final class CopyKeys {
    private static final long BLOCK = 1 << 16;
    private final Osd md;
    // Guarded by this: the next key and the persisted bound it must stay below.
    private long next;
    private long bound;

    public CopyKeys(Osd md) throws OsdException {
        this.md = md;
        this.next = DeviceTable.counter(md, "copy");
        this.bound = next;
    }

    public synchronized Fid next() throws OsdException {
        if (next >= bound) {
            bound = next + BLOCK;
            DeviceTable.setCounter(md, "copy", bound);
        }
        return PoolFids.copy(next++);
    }
}
