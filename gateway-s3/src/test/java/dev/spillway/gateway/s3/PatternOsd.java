package dev.spillway.gateway.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import java.nio.ByteBuffer;

/**
 * A test-only OSD that stores no body bytes, so a 5 GiB upload needs neither RAM nor disk: every
 * DATA object's body must be {@link #pattern} of its own offset. A write is checked byte by byte
 * against the pattern (EIO if one differs) and then only grows the object (a hole in osd-mem); a
 * read returns the pattern. So what it proves is that each byte the gateway wrote landed at the
 * right offset of the right object and that reads stream it back in order; it does not prove
 * that a device stores 5 GiB.
 */
final class PatternOsd extends FilterOsd {
    PatternOsd(Osd in) {
        super(in);
    }

    /** The byte every DATA body holds at {@code offset}. */
    static byte pattern(long offset) {
        long x = offset * 0x9E3779B97F4A7C15L;
        return (byte) (x >>> 56 ^ offset >>> 20);
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new FilterTransaction(tx) {
            @Override
            public void declareWrite(Fid fid, long offset, long length) throws OsdException {
                in.declareTruncate(fid, offset + length);
            }

            @Override
            public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                long pos = offset;
                while (src.hasRemaining()) {
                    if (src.get() != pattern(pos)) {
                        throw new OsdException(Errno.EIO, name(), fid, "byte at " + pos + " is not the pattern");
                    }
                    pos++;
                }
                // The gateway only appends, so the write's end is the new size.
                in.truncate(fid, pos);
            }
        };
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        int start = dst.position();
        int n = super.read(fid, offset, dst);
        if (getAttr(fid).kind() == ObjectKind.DATA) {
            for (int i = 0; i < n; i++) {
                dst.put(start + i, pattern(offset + i));
            }
        }
        return n;
    }
}
