package dev.spillway.pool.io;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * Reads a split body (issue 20, range-level placement): the ranges the metadata device holds are
 * read from it — never from another device — and the others from an in-sync copy holding them (a
 * copy of that range, or of the whole body), verified; a read spanning both is split at the
 * ranges' boundaries.
 */
public final class SplitBody {
    private SplitBody() {}

    /** Where the bytes read came from: whether any came from a device other than the metadata device. */
    public record Read(int bytes, int lastDevice) {}

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code off} of split body {@code p} of object
     * {@code fid}: 0 at or past its end.
     *
     * @param md the metadata device (index {@code mdIndex}), holding the body's resident ranges
     * @param devs finds a device by index
     * @param readable whether a copy may be read (its devices readable)
     * @throws OsdException EIO naming the object, the range and the copies tried when no copy
     *     holding a range could be read
     */
    public static Read read(
            Osd md,
            int mdIndex,
            IntFunction<PoolDevice> devs,
            Predicate<Copy> readable,
            Fid fid,
            PoolObject p,
            long off,
            ByteBuffer dst)
            throws OsdException {
        return read(md, mdIndex, devs, readable, fid, p, off, dst, (c, e) -> {});
    }

    /**
     * As {@link #read(Osd, int, IntFunction, Predicate, Fid, PoolObject, long, ByteBuffer)}, telling
     * {@code failed} of every copy a part of the read failed on with EIO or ENOENT (a checksum
     * mismatch, an I/O error, its object missing) before the next copy holding the range was
     * tried: the caller marks it bad, as a failed read of a whole copy is.
     */
    public static Read read(
            Osd md,
            int mdIndex,
            IntFunction<PoolDevice> devs,
            Predicate<Copy> readable,
            Fid fid,
            PoolObject p,
            long off,
            ByteBuffer dst,
            BiConsumer<Copy, OsdException> failed)
            throws OsdException {
        long end = Math.min(p.size(), off + dst.remaining());
        Copy local = p.on(mdIndex).orElseThrow();
        long pos = off;
        int last = mdIndex;
        while (pos < end) {
            Span here = Span.at(local.held(), pos);
            if (here != null) {
                int want = (int) (Math.min(end, here.end()) - pos);
                // A read that stays inside the resident range (the hot case) goes straight into the
                // caller's buffer; a part of a longer one into a slice of it.
                boolean all = want == dst.remaining();
                ByteBuffer part = all ? dst : dst.slice(dst.position(), want);
                int got = 0;
                while (got < want) {
                    int n = md.read(fid, pos + got, part);
                    if (n <= 0) {
                        break;
                    }
                    got += n;
                }
                if (got != want) {
                    throw new OsdException(
                            Errno.EIO,
                            md.name(),
                            fid,
                            "the body holds " + local.held() + " but reads " + got + " of " + want + " bytes at "
                                    + pos);
                }
                if (!all) {
                    dst.position(dst.position() + want);
                }
                pos += want;
                last = mdIndex;
                continue;
            }
            long at = pos;
            List<Copy> holders = new ArrayList<>(p.holding(pos));
            holders.removeIf(c -> c.device() == mdIndex || !readable.test(c));
            // A copy of just this range first (it is what the range was spilled to), then whole ones.
            holders.sort(Comparator.comparing((Copy c) -> c.whole()).thenComparing(c -> !c.preferred()));
            List<String> tried = new ArrayList<>();
            OsdException lastError = null;
            int got = -1;
            for (Copy c : holders) {
                long stop = c.whole() ? end : Math.min(end, c.spans().get(0).end());
                ByteBuffer part = dst.slice(dst.position(), (int) (stop - at));
                try {
                    got = c.whole()
                            ? CopyIo.readVerified(devs, fid, c, p.size(), at, part)
                            : CopyIo.readRange(devs, fid, c, p.size(), at, part);
                    if (got > 0) {
                        last = c.device();
                        break;
                    }
                    tried.add(devs.apply(c.device()).name() + " (short)");
                } catch (OsdException e) {
                    tried.add(devs.apply(c.device()).name() + " (" + e.errno() + ")");
                    lastError = e;
                    if (e.is(Errno.EIO) || e.is(Errno.ENOENT)) {
                        failed.accept(c, e);
                    }
                }
                got = -1;
            }
            if (got <= 0) {
                throw new OsdException(
                        Errno.EIO,
                        md.name(),
                        fid,
                        "no good copy of the range at " + at + " of the split body (held here: " + local.held() + ")"
                                + (tried.isEmpty()
                                        ? ": no in-sync copy of it on a readable device"
                                        : "; tried " + tried),
                        lastError);
            }
            dst.position(dst.position() + got);
            pos += got;
        }
        return new Read((int) (pos - off), last);
    }

    /** A split body as a copy's source: reads fill {@code buf[0, len)} from {@code off}. */
    public static CopyIo.Source source(
            Osd md, int mdIndex, IntFunction<PoolDevice> devs, Predicate<Copy> readable, Fid fid, PoolObject p) {
        return (off, buf, len) -> {
            int n = 0;
            while (n < len) {
                int got = read(md, mdIndex, devs, readable, fid, p, off + n, ByteBuffer.wrap(buf, n, len - n))
                        .bytes();
                if (got <= 0) {
                    break;
                }
                n += got;
            }
            return n;
        };
    }
}
