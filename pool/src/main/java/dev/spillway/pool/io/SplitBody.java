package dev.spillway.pool.io;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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

    /** The order copies are recalled from: copies of ranges (what a range was spilled to), then the preferred, then by device. */
    private static final Comparator<Copy> RECALL_ORDER =
            Comparator.comparing(Copy::whole).thenComparing(c -> !c.preferred()).thenComparingInt(Copy::device);

    /**
     * Writes the bytes {@code spans} of body {@code p} (bytes the metadata device does not hold)
     * into {@code fid} on the metadata device, in {@code tx}, each piece read verified from an
     * in-sync copy holding it: a copy of its range first, then whole copies of the current version,
     * the preferred one first. A copy whose read fails (EIO or ENOENT: an I/O error, a checksum
     * mismatch, its object missing) is told to {@code failed}, for the caller to mark bad once the
     * object's lock is released, and is not read again: the next copy holding those bytes serves
     * them (a copy failing with another error is passed over too, and not told). An error of a
     * write into {@code tx} (the metadata device's) is thrown as it is and blames no copy. Each byte
     * is written into {@code tx} once.
     *
     * @param device who throws the error (the pool, or its metadata device)
     * @param what what needs the bytes, for the error ("the write", "the recall")
     * @return the bytes written
     * @throws OsdException EIO naming the object, the bytes, the copies tried (or the devices
     *     holding them, none readable) and what to do, if no copy holding some of them could be read
     */
    public static long recall(
            Transaction tx,
            int mdIndex,
            IntFunction<PoolDevice> devs,
            Predicate<Copy> readable,
            Fid fid,
            PoolObject p,
            List<Span> spans,
            BiConsumer<Copy, OsdException> failed,
            String device,
            String what)
            throws OsdException {
        long size = p.size();
        Set<Integer> bad = new HashSet<>();
        List<String> tried = new ArrayList<>();
        ByteBuffer b = null;
        long total = 0;
        for (Span s : spans) {
            long pos = s.start();
            long end = Math.min(s.end(), size);
            while (pos < end) {
                long at = pos;
                List<Copy> holders = new ArrayList<>();
                for (Copy c : p.copies()) {
                    if (c.state() == CopyState.IN_SYNC
                            && c.device() != mdIndex
                            && c.holds(at)
                            && (!c.whole() || c.version() == p.dataVersion())
                            && !bad.contains(c.mirrorId())
                            && readable.test(c)) {
                        holders.add(c);
                    }
                }
                holders.sort(RECALL_ORDER);
                OsdException lastError = null;
                int got = 0;
                for (Copy c : holders) {
                    long base = c.whole() ? 0 : c.spans().get(0).start();
                    long stop = c.whole()
                            ? end
                            : Math.min(end, Math.min(c.spans().get(0).end(), size));
                    long piece = c.striped()
                            ? Math.min(
                                    Math.max((long) c.stripeSize() * c.stripes().size(), 8L << 20), 64L << 20)
                            : 1L << c.checksums().chunkShift();
                    // To the end of the piece (a checksum chunk, or a row of stripe units) holding pos.
                    long next = base + ((at - base) / piece + 1) * piece;
                    int want = (int) (Math.min(stop, next) - at);
                    if (b == null || b.capacity() < want) {
                        b = ByteBuffer.allocate(want);
                    }
                    b.clear().limit(want);
                    try {
                        got = c.whole()
                                ? CopyIo.readVerified(devs, fid, c, size, at, b)
                                : CopyIo.readRange(devs, fid, c, size, at, b);
                        if (got <= 0) {
                            throw new OsdException(
                                    Errno.EIO,
                                    devs.apply(c.device()).name(),
                                    fid,
                                    "copy " + c.key() + " ends before byte " + at + " of the body");
                        }
                        break;
                    } catch (OsdException e) {
                        got = 0;
                        bad.add(c.mirrorId());
                        tried.add(where(devs, c) + " (" + e.errno() + ")");
                        lastError = e;
                        if (e.is(Errno.EIO) || e.is(Errno.ENOENT)) {
                            failed.accept(c, e);
                        }
                    }
                }
                if (got <= 0) {
                    throw new OsdException(
                            Errno.EIO, device, fid, unrecallable(devs, p, mdIndex, at, end, what, tried), lastError);
                }
                b.flip();
                tx.write(fid, at, b);
                pos += got;
                total += got;
            }
        }
        return total;
    }

    /** A copy's device, or its stripes' devices. */
    private static String where(IntFunction<PoolDevice> devs, Copy c) {
        if (!c.striped()) {
            return devs.apply(c.device()).name();
        }
        List<String> names = new ArrayList<>();
        for (var s : c.stripes()) {
            names.add(devs.apply(s.device()).name());
        }
        return String.join("+", names) + " (raid0)";
    }

    /** Why bytes {@code [at, end)} could not be recalled, and what to do. */
    private static String unrecallable(
            IntFunction<PoolDevice> devs,
            PoolObject p,
            int mdIndex,
            long at,
            long end,
            String what,
            List<String> tried) {
        StringBuilder b = new StringBuilder(what)
                .append(" needs bytes [")
                .append(at)
                .append(", ")
                .append(end)
                .append(") of the body brought back to the metadata device, and no copy holding them could be read");
        if (!tried.isEmpty()) {
            b.append(": tried ")
                    .append(String.join(", ", tried))
                    .append(
                            ". Each copy that failed its read is marked bad (STALE, rebuilt by a RESYNC job from another"
                                    + " copy holding its bytes; never the last one). If a device is offline, bring it back"
                                    + " (`spillway device list`, `spillway device set-state <device> rw`) and retry;"
                                    + " `spillway fsck --deep` reports the copies no device can read, and an object whose bytes"
                                    + " no copy holds any more must be restored from a backup");
            return b.toString();
        }
        List<String> on = new ArrayList<>();
        for (Copy c : p.copies()) {
            if (c.device() != mdIndex && c.holds(at) && c.state() != CopyState.PENDING) {
                String state = c.state() == CopyState.IN_SYNC
                        ? devs.apply(c.device()).state().yamlName()
                        : c.state().name().toLowerCase(java.util.Locale.ROOT);
                on.add(where(devs, c) + " (" + state + ")");
            }
        }
        if (on.isEmpty()) {
            b.append(": no copy holds them. `spillway fsck` reports the object; restore it from a backup");
        } else {
            b.append(": no in-sync copy of them is on a readable device; they are on ")
                    .append(String.join(", ", on))
                    .append(". Bring the device back if it can be (`spillway device set-state <device> rw`: its"
                            + " copies are verified before they count) and retry, or restore the object from a"
                            + " backup; `spillway device lost <device>` lists every object in this state");
        }
        return b.toString();
    }

    /** A split body as a copy's source: reads fill {@code buf[0, len)} from {@code off}. */
    public static CopyIo.Source source(
            Osd md, int mdIndex, IntFunction<PoolDevice> devs, Predicate<Copy> readable, Fid fid, PoolObject p) {
        // Read in the largest grain a spilled range's verified read checks at once (see
        // CopyIo.grained): a range copy of 4 MiB stripe units read in 1 MiB slices would otherwise
        // read and check each unit four times.
        int grain = 0;
        for (Copy c : p.inSync()) {
            if (c.device() != mdIndex) {
                grain = Math.max(grain, CopyIo.readGrain(c));
            }
        }
        return CopyIo.grained(whole(md, mdIndex, devs, readable, fid, p), p.size(), grain);
    }

    private static CopyIo.Source whole(
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
