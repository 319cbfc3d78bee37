package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.nio.ByteBuffer;

/**
 * Hands out the gateway's FIDs from its own sequence range. The high-water mark is persisted in
 * the superblock (synchronously) before any FID below it is handed out, a batch at a time, so a
 * crash can skip FIDs but never hand one out twice.
 */
final class FidAllocator {
    static final int BATCH = 4096;
    static final int FIRST_OID = 16;
    // Leave the top of each sequence unused: oids are unsigned 32-bit.
    private static final long OID_LIMIT = 0xFFFF_F000L;

    private final Osd osd;
    private final Fid superblock;
    private final byte[] key;
    private final long firstSeq;
    private final long seqCount;

    // Guarded by this: the next FID to hand out and the persisted limit of the current batch.
    private long seq;
    private long nextOid;
    private long limitOid;

    FidAllocator(Osd osd, Fid superblock, byte[] key, long firstSeq, long seqCount, byte[] persisted) {
        this.osd = osd;
        this.superblock = superblock;
        this.key = key;
        this.firstSeq = firstSeq;
        this.seqCount = seqCount;
        ByteBuffer b = ByteBuffer.wrap(persisted);
        this.seq = b.getLong();
        this.nextOid = Integer.toUnsignedLong(b.getInt());
        this.limitOid = nextOid;
    }

    static byte[] encode(long seq, long oid) {
        return ByteBuffer.allocate(12).putLong(seq).putInt((int) oid).array();
    }

    /** The next unused FID. Must not be called with a transaction of this thread started. */
    synchronized Fid next() throws OsdException {
        if (nextOid >= limitOid) {
            refill();
        }
        return Fid.of(seq, (int) nextOid++);
    }

    private void refill() throws OsdException {
        long s = seq;
        long from = nextOid;
        if (from + BATCH > OID_LIMIT) {
            s++;
            from = FIRST_OID;
            if (s >= firstSeq + seqCount) {
                throw new OsdException(
                        Errno.ENOSPC,
                        osd.name(),
                        superblock,
                        "the S3 gateway's FID sequences 0x" + Long.toHexString(firstSeq) + "+" + seqCount
                                + " are used up");
            }
        }
        long limit = from + BATCH;
        byte[] value = encode(s, limit);
        try {
            Tx.run(
                    osd,
                    tx -> {
                        tx.declareInsert(superblock, key.length, value.length);
                        tx.setSync(true);
                    },
                    tx -> {
                        tx.upsert(superblock, key, value);
                        return null;
                    });
        } catch (S3Exception e) {
            throw new IllegalStateException(e);
        }
        seq = s;
        nextOid = from;
        limitOid = limit;
    }
}
