package dev.spillway.osd.kv;

import dev.spillway.osd.spi.storage.StorageFile;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.List;
import org.rocksdb.RocksDBException;

/** Copying body bytes out of pieces: inline blocks, extent files and holes. */
final class BodyIo {
    private static final byte[] ZEROS = new byte[64 << 10];

    private BodyIo() {}

    /** A source of pieces in block order. */
    @FunctionalInterface
    interface Pieces {
        /** The next piece, or null at the end. */
        Piece next() throws RocksDBException;

        static Pieces of(Iterator<Piece> it) {
            return () -> it.hasNext() ? it.next() : null;
        }

        /**
         * The pieces of {@code sorted} (in block order, not overlapping) from the first one ending
         * after block {@code block}, found by binary search: a read of a body of many extents (a
         * range-spilled object, a body written piece by piece) does not walk the list from its
         * start (5-8% of a 4 KiB read of a 64-extent object, session 11's profile).
         */
        static Pieces from(List<Piece> sorted, long block) {
            int lo = 0;
            int hi = sorted.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (sorted.get(mid).end() <= block) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            int[] next = {lo};
            return () -> next[0] < sorted.size() ? sorted.get(next[0]++) : null;
        }
    }

    /**
     * Puts the body's bytes {@code [off, off + n)} into {@code dst}, advancing it by {@code n}:
     * what the pieces hold, zeros elsewhere.
     */
    static void fill(Pieces pieces, long off, int n, ByteBuffer dst, int bs, ExtentFiles.Source files)
            throws IOException, RocksDBException {
        long pos = off;
        long end = off + n;
        Piece p;
        while (pos < end && (p = pieces.next()) != null) {
            long ps = p.start() * bs;
            long pe = p.end() * bs;
            if (pe <= pos) {
                continue;
            }
            if (ps >= end) {
                break;
            }
            if (ps > pos) {
                zeros(dst, (int) (ps - pos));
                pos = ps;
            }
            int len = (int) (Math.min(pe, end) - pos);
            copy(p, pos, len, dst, bs, files);
            pos += len;
        }
        if (pos < end) {
            zeros(dst, (int) (end - pos));
        }
    }

    /** Copies {@code len} bytes of the body from {@code pos}, all inside {@code p}, into {@code dst}. */
    static void copy(Piece p, long pos, int len, ByteBuffer dst, int bs, ExtentFiles.Source files) throws IOException {
        long within = pos - p.start() * bs;
        switch (p) {
            case Piece.Inline in -> {
                int n = (int) Math.max(0, Math.min(in.data().length - within, len));
                if (n > 0) {
                    dst.put(in.data(), (int) within, n);
                }
                zeros(dst, len - n);
            }
            case Piece.Extent e -> {
                int n = (int) Math.max(0, Math.min(e.stored() - within, len));
                if (n > 0) {
                    readFully(files.channel(e.fileId()), dst, e.fileOff() + within, n, e.fileId());
                }
                zeros(dst, len - n);
            }
            case Piece.Hole h -> zeros(dst, len);
        }
    }

    static void readFully(StorageFile ch, ByteBuffer dst, long position, int n, long fileId) throws IOException {
        int limit = dst.limit();
        dst.limit(dst.position() + n);
        try {
            while (dst.hasRemaining()) {
                int r = ch.read(dst, position);
                if (r < 0) {
                    throw new EOFException("extent file " + ExtentFiles.name(fileId) + " ends at " + position
                            + ", before the " + dst.remaining() + " more bytes its extent records");
                }
                position += r;
            }
        } finally {
            dst.limit(limit);
        }
    }

    static void zeros(ByteBuffer dst, int n) {
        while (n > 0) {
            int c = Math.min(n, ZEROS.length);
            dst.put(ZEROS, 0, c);
            n -= c;
        }
    }
}
