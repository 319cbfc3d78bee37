package dev.spillway.pool.io;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.Stripe;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * Moving bodies between devices, chunk by chunk, with CRC32C per chunk: writing a new copy (made
 * durable before anyone may point at it), and reading a copy back verified, so that corruption on
 * a spill device is caught on every read, not only by scrub.
 */
public final class CopyIo {
    private CopyIo() {}

    private static final byte[] ZERO_BLOCK = new byte[1 << 20];

    /**
     * The most bytes one read or write call of a copy moves (1 MiB). A chunk larger than this (a
     * stripe's 4 MiB units, or a body over 4 GiB) is moved in slices of this size, each read,
     * summed and written while it is still in the CPU's cache: measured on this project's 2-core
     * machines (session 12, a heap buffer rewritten to a new file, 1 GiB), writes of 1 MiB went into
     * the page cache at 5.6-6.2 GiB/s and writes of 2 or 4 MiB at 1.4-1.6 GiB/s, and a striped spill
     * of 4 MiB units ran at half a whole copy's speed.
     */
    static final int SLICE = 1 << 20;

    private static boolean zeros(byte[] b, int off, int len) {
        for (int done = 0; done < len; done += ZERO_BLOCK.length) {
            int n = Math.min(ZERO_BLOCK.length, len - done);
            if (Arrays.mismatch(b, off + done, off + done + n, ZERO_BLOCK, 0, n) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** Reads exactly {@code len} bytes at {@code off} (fewer only if the object is shorter). */
    private static int readFully(Osd osd, Fid key, long off, byte[] buf, int len) throws OsdException {
        int got = 0;
        while (got < len) {
            int n = osd.read(key, off + got, ByteBuffer.wrap(buf, got, len - got));
            if (n <= 0) {
                break;
            }
            got += n;
        }
        return got;
    }

    /**
     * Writes {@code size} bytes of {@code object}'s body, read from {@code src}, as a new object
     * {@code key} on {@code target}, makes it durable there, and returns its checksums.
     *
     * @throws OsdException ENOSPC if the target is full (at start, nothing written), EIO if either
     *     device fails, ESTALE if the source body changed size under the copy
     */
    /** Where a copy's bytes come from: fills {@code buf[0, len)} from {@code off}, returns bytes read. */
    @FunctionalInterface
    public interface Source {
        int read(long off, byte[] buf, int len) throws OsdException;
    }

    /** The body of {@code object} on {@code osd} (the metadata device). */
    public static Source of(Osd osd, Fid object) {
        return (off, buf, len) -> readFully(osd, object, off, buf, len);
    }

    /** The body held by whole copy {@code c} on {@code dev}, verified as it is read. */
    public static Source of(PoolDevice dev, Fid object, Copy c, long size) {
        return grained(
                (off, buf, len) -> readVerified(dev, object, c, size, off, ByteBuffer.wrap(buf, 0, len)),
                size,
                readGrain(c));
    }

    /** The body held by copy {@code c} (whole or striped; {@code devs} finds each part's device), verified. */
    public static Source of(IntFunction<PoolDevice> devs, Fid object, Copy c, long size) {
        return grained(
                (off, buf, len) -> readVerified(devs, object, c, size, off, ByteBuffer.wrap(buf, 0, len)),
                size,
                readGrain(c));
    }

    /**
     * The largest grain {@link #grained} reads at once (64 MiB, two kept per copy); a source whose
     * checked unit is larger (a whole copy of a body over 256 GiB, a wide stripe of one over 64 GiB)
     * is read more than once per byte, as before session 12.
     */
    private static final int MAX_GRAIN = 64 << 20;

    /**
     * The bytes of the body a verified read of copy {@code c} checks as a unit: a whole copy's
     * checksum chunk; for a striped copy, one chunk of every stripe (a stripe's chunk {@code j}
     * holds body units {@code jkN .. (j+1)kN - 1} of its stripe, {@code k} units a chunk, so
     * {@code N} stripes' chunks {@code j} together are one contiguous stretch of the body).
     */
    static int readGrain(Copy c) {
        long g = c.striped()
                ? c.stripes().get(0).checksums().chunkSize() * c.stripes().size()
                : c.checksums().chunkSize();
        return (int) Math.min(g, MAX_GRAIN);
    }

    /**
     * {@code whole}, read in aligned pieces of {@code grain} bytes, the last two kept: a copy asks
     * its source for at most {@link #SLICE} bytes a call, and a verified read reads and checks whole
     * chunks, so without this every slice of a chunk larger than a slice would read and check that
     * chunk again (4 times for a stripe's 4 MiB units). Safe for the stripes of a striped copy that
     * read one source side by side (each a little ahead of or behind the others: two pieces, the
     * least recently used replaced); a read is served under the source's lock. The pieces live as
     * long as the source, one copy.
     */
    static Source grained(Source whole, long size, int grain) {
        if (grain <= SLICE) {
            return whole;
        }
        return new Source() {
            private final byte[][] piece = new byte[2][];
            private final long[] start = {-1, -1};
            private final int[] have = new int[2];
            private int older; // the piece the next fill replaces

            @Override
            public synchronized int read(long off, byte[] buf, int len) throws OsdException {
                int got = 0;
                while (got < len) {
                    long at = off + got;
                    int s = holding(at);
                    if (s < 0) {
                        long from = at - at % grain;
                        int want = (int) Math.min(grain, size - from);
                        if (want <= 0) {
                            break;
                        }
                        s = older;
                        if (piece[s] == null) {
                            piece[s] = new byte[grain];
                        }
                        start[s] = -1;
                        int r = whole.read(from, piece[s], want);
                        if (r <= 0) {
                            break;
                        }
                        start[s] = from;
                        have[s] = r;
                        if (at >= from + r) {
                            break;
                        }
                    }
                    older = 1 - s;
                    int n = (int) Math.min(len - got, start[s] + have[s] - at);
                    System.arraycopy(piece[s], (int) (at - start[s]), buf, got, n);
                    got += n;
                }
                return got;
            }

            private int holding(long at) {
                for (int i = 0; i < 2; i++) {
                    if (start[i] >= 0 && at >= start[i] && at < start[i] + have[i]) {
                        return i;
                    }
                }
                return -1;
            }
        };
    }

    /** Paces a copy: called before each chunk with its size; may sleep (a bandwidth cap). */
    @FunctionalInterface
    public interface Pacer {
        Pacer NONE = bytes -> {};

        void pace(long bytes);
    }

    public static Checksums write(Source src, Fid object, long size, PoolDevice target, Fid key) throws OsdException {
        return write(src, object, size, target, key, Pacer.NONE);
    }

    /**
     * {@link #write}; with {@code precreated}, {@code key} already holds an empty object, durable
     * with its name (a sync write's leased key, precreated), which the copy writes into instead of
     * creating it: its sync then forces the file, not its folder.
     */
    public static Checksums write(Source src, Fid object, long size, PoolDevice target, Fid key, boolean precreated)
            throws OsdException {
        Checksums sums = writeUnsynced(src, object, size, target, key, Pacer.NONE, Checksums.MIN_SHIFT, precreated);
        target.osd().sync(key);
        return sums;
    }

    public static Checksums write(Source src, Fid object, long size, PoolDevice target, Fid key, Pacer pacer)
            throws OsdException {
        Checksums sums = writeUnsynced(src, object, size, target, key, pacer);
        target.osd().sync(key);
        return sums;
    }

    /**
     * {@link #write} without making the copy durable: the caller must sync {@code key} on the target
     * (alone or with other copies, {@link Osd#sync(java.util.Collection)}) before any metadata names
     * it in sync.
     */
    public static Checksums writeUnsynced(Source src, Fid object, long size, PoolDevice target, Fid key, Pacer pacer)
            throws OsdException {
        return writeUnsynced(src, object, size, target, key, pacer, Checksums.MIN_SHIFT);
    }

    /** A copy written and made durable: its checksums and the bytes it occupies on its device. */
    public record Durable(Checksums sums, long occupied) {}

    /**
     * {@code size} bytes of {@code src} from {@code start} written to {@code key} on {@code target}
     * ({@link #writeUnsynced}), then synced: the copy step of a range spill or a range rebuild.
     */
    public static Durable writeDurably(
            Source src, long start, Fid object, long size, PoolDevice target, Fid key, Pacer pacer)
            throws OsdException {
        Checksums sums =
                writeUnsynced((off, buf, len) -> src.read(start + off, buf, len), object, size, target, key, pacer);
        target.osd().sync(key);
        return new Durable(sums, target.osd().getAttr(key).blocks() * 512);
    }

    /**
     * {@code len} bytes of {@code src} from {@code start} written as the parts of pending copy
     * {@code pending} of a range — its one object, or its stripes side by side (each its share of
     * the range, RAID0 from the range's start) — then made durable (each device in one sync, the
     * devices side by side): the copy step of a range spill. Returns the parts as written, each with
     * its checksums and the bytes it occupies on its device.
     */
    public static List<Stripe> writeRangeDurably(
            Source src, long start, Fid object, long len, Copy pending, IntFunction<PoolDevice> devs, Pacer pacer)
            throws OsdException {
        Source range = (off, buf, n) -> src.read(start + off, buf, n);
        List<Stripe> parts;
        if (pending.striped()) {
            parts = StripedIo.writeUnsynced(range, object, len, pending.stripes(), pending.stripeSize(), devs, pacer);
        } else {
            PoolDevice target = devs.apply(pending.device());
            Checksums sums = writeUnsynced(range, object, len, target, pending.key(), pacer);
            parts = List.of(new Stripe(pending.device(), pending.key(), len, sums));
        }
        StripedIo.sync(parts, devs);
        return StripedIo.occupied(parts, devs);
    }

    /** {@link #writeUnsynced} with checksum chunks of at least {@code 2^minShift} bytes (a stripe's units). */
    static Checksums writeUnsynced(
            Source src, Fid object, long size, PoolDevice target, Fid key, Pacer pacer, int minShift)
            throws OsdException {
        return writeUnsynced(src, object, size, target, key, pacer, minShift, false);
    }

    private static Checksums writeUnsynced(
            Source src, Fid object, long size, PoolDevice target, Fid key, Pacer pacer, int minShift, boolean exists)
            throws OsdException {
        int shift = Checksums.shiftFor(size, minShift);
        int chunk = (int) Math.min(1L << shift, Math.max(size, 1));
        int chunks = (int) ((size + (1L << shift) - 1) >>> shift);
        int[] crcs = new int[chunks];
        Osd dst = target.osd();
        // Where the target writes in place, all-zero blocks are left as holes: a sparse body
        // stays sparse on its spill device.
        boolean sparse = dst.capabilities().has(Capability.PARTIAL_WRITE);
        int bs = dst.capabilities().blockSize();
        long written = 0; // where the last write ended: the key is new, so its length is this
        int slice = Math.min(chunk, SLICE);
        byte[] buf = CopyBuffers.take(slice);
        try (Transaction tx = dst.newTransaction()) {
            if (!exists) {
                tx.declareCreate(key, ObjectKind.DATA);
            }
            tx.declareWrite(key, 0, size);
            if (sparse) {
                tx.declareTruncate(key, size);
            }
            tx.start();
            if (!exists) {
                tx.create(key, ObjectKind.DATA, AttrChange.none());
            }
            for (int i = 0; i < chunks; i++) {
                long cstart = (long) i << shift;
                int clen = (int) Math.min(chunk, size - cstart);
                CRC32C crc = new CRC32C();
                // The chunk in slices of at most SLICE bytes: each is read, summed and written while
                // it is still in the CPU's cache (see SLICE).
                for (int at = 0; at < clen; at += slice) {
                    long off = cstart + at;
                    int len = Math.min(slice, clen - at);
                    pacer.pace(len);
                    int got = src.read(off, buf, len);
                    if (got != len) {
                        tx.abort();
                        throw new OsdException(
                                Errno.ESTALE,
                                target.name(),
                                object,
                                "body shorter than its size while copying to " + target.name() + " ("
                                        + (off + Math.max(got, 0)) + " < " + size + ")");
                    }
                    crc.update(buf, 0, len);
                    if (!sparse) {
                        tx.write(key, off, ByteBuffer.wrap(buf, 0, len));
                        written = off + len;
                        continue;
                    }
                    // One write per run of non-zero blocks: a dense slice is one call.
                    int run = -1;
                    for (int b = 0; b < len; b += bs) {
                        boolean data = !zeros(buf, b, Math.min(bs, len - b));
                        if (data && run < 0) {
                            run = b;
                        } else if (!data && run >= 0) {
                            tx.write(key, off + run, ByteBuffer.wrap(buf, run, b - run));
                            written = off + b;
                            run = -1;
                        }
                    }
                    if (run >= 0) {
                        tx.write(key, off + run, ByteBuffer.wrap(buf, run, len - run));
                        written = off + len;
                    }
                }
                crcs[i] = (int) crc.getValue();
            }
            if (sparse && written < size) {
                // A hole at the end (or nothing written): the length comes from a truncate. A
                // dense body skips it — on a vfs device it would rewrite the record once more.
                tx.truncate(key, size);
            }
        } finally {
            // After the transaction has ended: nothing holds the buffer's bytes any more.
            CopyBuffers.give(buf);
        }
        return new Checksums(shift, crcs);
    }

    /**
     * The checksums of the first {@code size} bytes of copy {@code key} on {@code target}, in the
     * chunking {@link #write} uses: a copy written in place by a client (write-around) read back
     * once before it is named.
     *
     * @throws OsdException EIO if the copy is shorter than {@code size}, or a read fails
     */
    public static Checksums checksums(PoolDevice target, Fid object, Fid key, long size) throws OsdException {
        int shift = Checksums.shiftFor(size, Checksums.MIN_SHIFT);
        int chunk = (int) Math.min(1L << shift, Math.max(size, 1));
        int chunks = (int) ((size + (1L << shift) - 1) >>> shift);
        int[] crcs = new int[chunks];
        byte[] buf = CopyBuffers.take(chunk);
        try {
            for (int i = 0; i < chunks; i++) {
                long off = (long) i << shift;
                int len = (int) Math.min(chunk, size - off);
                if (readFully(target.osd(), key, off, buf, len) != len) {
                    throw new OsdException(
                            Errno.EIO,
                            target.name(),
                            object,
                            "copy " + key + " is shorter than the " + size + " bytes just written to it");
                }
                crcs[i] = Checksums.crc(buf, 0, len);
            }
        } finally {
            CopyBuffers.give(buf);
        }
        return new Checksums(shift, crcs);
    }

    /**
     * The checksums of copy {@code key} on {@code target} if it holds exactly {@code size} bytes
     * equal to {@code src}'s (the chunking {@link #write} uses), else null: a crash's leftover copy
     * checked before it is named in sync.
     *
     * @throws OsdException if either device fails a read (the copy's unreadable: not to be named)
     */
    public static Checksums sameBody(Source src, Fid object, long size, PoolDevice target, Fid key)
            throws OsdException {
        if (target.osd().getAttr(key).size() != size) {
            return null;
        }
        int shift = Checksums.shiftFor(size, Checksums.MIN_SHIFT);
        int chunk = (int) Math.min(1L << shift, Math.max(size, 1));
        int chunks = (int) ((size + (1L << shift) - 1) >>> shift);
        int[] crcs = new int[chunks];
        byte[] want = new byte[chunk];
        byte[] have = new byte[chunk];
        for (int i = 0; i < chunks; i++) {
            long off = (long) i << shift;
            int len = (int) Math.min(chunk, size - off);
            if (src.read(off, want, len) != len
                    || readFully(target.osd(), key, off, have, len) != len
                    || Arrays.mismatch(want, 0, len, have, 0, len) >= 0) {
                return null;
            }
            crcs[i] = Checksums.crc(have, 0, len);
        }
        return new Checksums(shift, crcs);
    }

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code off} of a copy on {@code dev}, reading
     * the whole chunks the range covers and checking each against its CRC32C.
     *
     * @throws OsdException EIO naming the object, copy, device and chunk on a mismatch or a short copy
     */
    public static int readVerified(PoolDevice dev, Fid object, Copy c, long size, long off, ByteBuffer dst)
            throws OsdException {
        if (c.striped()) {
            throw new OsdException(
                    Errno.EINVAL,
                    dev.name(),
                    object,
                    "copy " + c.key() + " is striped over " + c.stripes().size()
                            + " devices: read it with their table");
        }
        return readVerified(dev, object, c.key(), c.checksums(), size, off, dst);
    }

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code off} of copy {@code c}, whole or striped
     * (each stripe's device found by {@code devs}; the stripes a range covers are read side by side),
     * every chunk checked against its CRC32C.
     *
     * @throws OsdException EIO naming the object, the copy or stripe, its device and the chunk
     */
    public static int readVerified(
            IntFunction<PoolDevice> devs, Fid object, Copy c, long size, long off, ByteBuffer dst) throws OsdException {
        if (c.striped()) {
            return StripedIo.read(devs, object, c, size, off, dst);
        }
        return readVerified(devs.apply(c.device()), object, c.key(), c.checksums(), size, off, dst);
    }

    /** Reads from one object ({@code key} on {@code dev}, {@code size} bytes) checked against {@code sums}. */
    static int readVerified(PoolDevice dev, Fid object, Fid key, Checksums sums, long size, long off, ByteBuffer dst)
            throws OsdException {
        if (off >= size) {
            return 0;
        }
        long end = Math.min(size, off + dst.remaining());
        int shift = sums.chunkShift();
        long first = off >>> shift;
        long last = (end - 1) >>> shift;
        int total = 0;
        for (long i = first; i <= last; i++) {
            long cstart = i << shift;
            int clen = (int) Math.min(1L << shift, size - cstart);
            int from = (int) Math.max(0, off - cstart);
            int to = (int) Math.min(clen, end - cstart);
            if (from == 0 && to == clen) {
                // The whole chunk is wanted: read it straight into the caller's buffer, check it there.
                ByteBuffer whole = dst.slice(dst.position(), clen);
                readChunk(dev, object, key, sums, i, cstart, clen, whole);
                dst.position(dst.position() + clen);
            } else {
                ByteBuffer chunk = CHUNK.get();
                if (chunk.capacity() < clen) {
                    chunk = ByteBuffer.allocate(clen);
                    CHUNK.set(chunk);
                }
                chunk.clear().limit(clen);
                readChunk(dev, object, key, sums, i, cstart, clen, chunk);
                dst.put(chunk.array(), from, to - from);
            }
            total += to - from;
        }
        return total;
    }

    // A chunk buffer per thread, for reads that want part of a chunk.
    private static final ThreadLocal<ByteBuffer> CHUNK = ThreadLocal.withInitial(() -> ByteBuffer.allocate(1 << 20));

    /** Fills {@code into} (position 0, limit {@code clen}) with chunk {@code i} of the copy and checks its CRC32C. */
    private static void readChunk(
            PoolDevice dev, Fid object, Fid key, Checksums sums, long i, long cstart, int clen, ByteBuffer into)
            throws OsdException {
        CRC32C crc = new CRC32C();
        int got = 0;
        while (got < clen) {
            // At most SLICE bytes a call, each summed while it is still in the CPU's cache.
            int want = Math.min(SLICE, clen - got);
            int n = dev.osd()
                    .read(key, cstart + got, into.duplicate().position(got).limit(got + want));
            if (n <= 0) {
                break;
            }
            crc.update(into.duplicate().position(got).limit(got + n));
            got += n;
        }
        if (got != clen) {
            throw new OsdException(
                    Errno.EIO,
                    dev.name(),
                    object,
                    "copy " + key + " is short: chunk " + i + " has " + got + " of " + clen + " bytes");
        }
        int[] crcs = sums.crcs();
        if (i >= crcs.length || (int) crc.getValue() != crcs[(int) i]) {
            throw new OsdException(
                    Errno.EIO,
                    dev.name(),
                    object,
                    "checksum mismatch in copy " + key + ", chunk " + i + " (bytes " + cstart + ".." + (cstart + clen)
                            + ")");
        }
    }

    /** Verifies a copy, whole or striped, every part on its device ({@code devs}) (scrub). */
    public static void verify(IntFunction<PoolDevice> devs, Fid object, Copy c, long size) throws OsdException {
        if (!c.whole()) {
            // A copy of a range: its object (or its stripes) holds the range's bytes from offset 0.
            if (c.striped()) {
                StripedIo.verify(devs, object, c, c.extent(size));
            } else {
                verify(devs.apply(c.device()), object, c, c.extent(size));
            }
            return;
        }
        if (!c.striped()) {
            verify(devs.apply(c.device()), object, c, size);
            return;
        }
        StripedIo.verify(devs, object, c, size);
    }

    /** Verifies a whole copy (scrub). */
    public static void verify(PoolDevice dev, Fid object, Copy c, long size) throws OsdException {
        long off = 0;
        ByteBuffer b = ByteBuffer.allocate(
                (int) Math.min(Math.max(size, 1), 1L << c.checksums().chunkShift()));
        while (off < size) {
            b.clear();
            int n = readVerified(dev, object, c, size, off, b);
            if (n <= 0) {
                throw new OsdException(
                        Errno.EIO, dev.name(), object, "copy " + c.key() + " ends at " + off + " of " + size);
            }
            off += n;
        }
    }

    /** Writes the body held by whole copy {@code c} into {@code object} on the metadata device, in {@code tx}. */
    public static void recall(Transaction tx, PoolDevice src, Fid object, Copy c, long size) throws OsdException {
        recall(tx, d -> src, object, c, size);
    }

    /**
     * Writes the body held by copy {@code c} (whole or striped, its parts' devices found by
     * {@code devs}) into {@code object} on the metadata device, in {@code tx}; a striped copy is
     * read a row of stripe units at a time, its stripes side by side.
     */
    public static void recall(Transaction tx, IntFunction<PoolDevice> devs, Fid object, Copy c, long size)
            throws OsdException {
        long piece = c.striped()
                ? Math.min(Math.max((long) c.stripeSize() * c.stripes().size(), 8L << 20), 64L << 20)
                : 1L << c.checksums().chunkShift();
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(size, 1), piece));
        long off = 0;
        while (off < size) {
            b.clear();
            int n = readVerified(devs, object, c, size, off, b);
            b.flip();
            tx.write(object, off, b);
            off += n;
        }
    }

    /**
     * Writes the range of the body held by copy {@code c} (a copy of one span, {@link Copy#spans()};
     * its object, or its stripes, hold the span's bytes from offset 0) back into {@code object} on
     * the metadata device at the span's offset, in {@code tx}, every chunk checked against its
     * CRC32C; a striped copy is read a row of stripe units at a time, its stripes side by side.
     *
     * @param size the body's logical size (the span's length is its part of it)
     */
    public static void recallRange(Transaction tx, IntFunction<PoolDevice> devs, Fid object, Copy c, long size)
            throws OsdException {
        recallRange(tx, devs, object, c, size, UnaryOperator.identity());
    }

    /**
     * {@link #recallRange(Transaction, IntFunction, Fid, Copy, long)}, a failed read of the copy
     * (not a failed write into {@code tx}) thrown as {@code readFailed} makes it, so the caller can
     * tell the copy's fault from the metadata device's.
     */
    public static void recallRange(
            Transaction tx,
            IntFunction<PoolDevice> devs,
            Fid object,
            Copy c,
            long size,
            UnaryOperator<OsdException> readFailed)
            throws OsdException {
        var span = c.spans().get(0);
        long len = span.length(size);
        long piece = c.striped()
                ? Math.min(Math.max((long) c.stripeSize() * c.stripes().size(), 8L << 20), 64L << 20)
                : 1L << c.checksums().chunkShift();
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(len, 1), piece));
        long off = 0;
        while (off < len) {
            b.clear();
            int n;
            try {
                n = readRange(devs, object, c, size, span.start() + off, b);
            } catch (OsdException e) {
                throw readFailed.apply(e);
            }
            if (n <= 0) {
                throw readFailed.apply(new OsdException(
                        Errno.EIO,
                        devs.apply(c.device()).name(),
                        object,
                        "copy " + c.key() + " of " + span + " ends at " + off + " of " + len));
            }
            b.flip();
            tx.write(object, span.start() + off, b);
            off += n;
        }
    }

    /**
     * Reads up to {@code dst.remaining()} bytes at body offset {@code off} from copy {@code c} of
     * one span of the body (its object, or its stripes RAID0, hold the span from offset 0; the
     * stripes a read covers are read side by side), verified; stops at the span's end.
     */
    public static int readRange(IntFunction<PoolDevice> devs, Fid object, Copy c, long size, long off, ByteBuffer dst)
            throws OsdException {
        long len = c.extent(size);
        long local = off - c.spans().get(0).start();
        if (c.striped()) {
            return StripedIo.read(devs, object, c, len, local, dst);
        }
        return readVerified(devs.apply(c.device()), object, c.key(), c.checksums(), len, local, dst);
    }
}
