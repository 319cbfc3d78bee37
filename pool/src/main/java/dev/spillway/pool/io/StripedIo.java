package dev.spillway.pool.io;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.Stripe;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Body I/O of a striped copy (RAID0 over a striping tier): unit {@code u} of the body, of
 * {@code stripeSize} bytes, is unit {@code u / N} of stripe {@code u % N}. Each stripe is an
 * ordinary object on its own device with its own CRC32Cs, whose chunks hold whole units; the
 * stripes are written, made durable and read side by side, one virtual thread per stripe, so a
 * copy moves at the sum of its devices' bandwidths rather than one's.
 */
public final class StripedIo {
    private StripedIo() {}

    /** One piece of work per stripe, run side by side; the first failure is thrown (the others end first). */
    @FunctionalInterface
    interface PerStripe<T> {
        T run(int stripe) throws OsdException;
    }

    static <T> List<T> parallel(int n, PerStripe<T> work) throws OsdException {
        if (n == 1) {
            return List.of(work.run(0));
        }
        List<T> out = new ArrayList<>(n);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<T>> fs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int s = i;
                fs.add(ex.submit(() -> work.run(s)));
            }
            OsdException first = null;
            RuntimeException bug = null;
            for (Future<T> f : fs) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof OsdException oe) {
                        first = first == null ? oe : first;
                    } else if (e.getCause() instanceof RuntimeException re) {
                        bug = bug == null ? re : bug;
                    } else {
                        bug = bug == null ? new IllegalStateException(e.getCause()) : bug;
                    }
                    out.add(null);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OsdException(Errno.EIO, null, null, "interrupted while striped I/O ran", e);
                }
            }
            if (bug != null) {
                throw bug;
            }
            if (first != null) {
                throw first;
            }
        }
        return out;
    }

    /**
     * Writes the body ({@code size} bytes from {@code src}) as the stripes of a pending striped copy
     * ({@code stripes}: each stripe's device and fresh key), side by side, not yet durable; returns
     * the stripes with their lengths and checksums.
     *
     * @throws OsdException as {@link CopyIo#write} does, naming the stripe's device
     */
    public static List<Stripe> writeUnsynced(
            CopyIo.Source src,
            Fid object,
            long size,
            List<Stripe> stripes,
            int unit,
            IntFunction<PoolDevice> devs,
            CopyIo.Pacer pacer)
            throws OsdException {
        int n = stripes.size();
        int minShift = Integer.numberOfTrailingZeros(unit);
        return parallel(n, i -> {
            Stripe s = stripes.get(i);
            long len = Stripe.length(size, n, unit, i);
            CopyIo.Source local = (off, buf, want) -> readStripe(src, n, unit, i, off, buf, want);
            Checksums sums = CopyIo.writeUnsynced(local, object, len, devs.apply(s.device()), s.key(), pacer, minShift);
            return s.withBytes(len, sums);
        });
    }

    /** Fills {@code buf[0, want)} with stripe {@code i}'s bytes from {@code off}, read unit by unit from the body. */
    private static int readStripe(CopyIo.Source src, int n, int unit, int i, long off, byte[] buf, int want)
            throws OsdException {
        int got = 0;
        byte[] piece = null;
        while (got < want) {
            long local = off + got;
            long within = local % unit;
            long global = ((local / unit) * n + i) * unit + within;
            int len = (int) Math.min(want - got, unit - within);
            int r;
            if (got == 0) {
                r = src.read(global, buf, len);
            } else {
                if (piece == null || piece.length < len) {
                    piece = new byte[Math.min(unit, want)];
                }
                r = src.read(global, piece, len);
                System.arraycopy(piece, 0, buf, got, Math.max(r, 0));
            }
            if (r <= 0) {
                break;
            }
            got += r;
            if (r < len) {
                break;
            }
        }
        return got;
    }

    /** Makes written stripes durable, each device's in one sync, the devices side by side. */
    public static void sync(List<Stripe> stripes, IntFunction<PoolDevice> devs) throws OsdException {
        Map<Integer, List<Fid>> byDevice = new LinkedHashMap<>();
        for (Stripe s : stripes) {
            byDevice.computeIfAbsent(s.device(), d -> new ArrayList<>()).add(s.key());
        }
        List<Map.Entry<Integer, List<Fid>>> es = new ArrayList<>(byDevice.entrySet());
        parallel(es.size(), i -> {
            devs.apply(es.get(i).getKey()).osd().sync(es.get(i).getValue());
            return Boolean.TRUE;
        });
    }

    /** The bytes each durable stripe occupies on its device (its blocks). */
    public static List<Stripe> occupied(List<Stripe> stripes, IntFunction<PoolDevice> devs) throws OsdException {
        List<Stripe> out = new ArrayList<>(stripes.size());
        for (Stripe s : stripes) {
            long b = devs.apply(s.device()).osd().getAttr(s.key()).blocks() * 512;
            out.add(s.withBytes(b, s.checksums()));
        }
        return out;
    }

    /** One contiguous piece of a read: {@code len} bytes at {@code local} of stripe {@code stripe}, into {@code at}. */
    private record Piece(int stripe, long local, int at, int len) {}

    /**
     * Reads up to {@code dst.remaining()} bytes at {@code off} of striped copy {@code c}; the stripes
     * the range covers are read side by side, each through its checksums.
     */
    static int read(IntFunction<PoolDevice> devs, Fid object, Copy c, long size, long off, ByteBuffer dst)
            throws OsdException {
        if (off >= size) {
            return 0;
        }
        int n = c.stripes().size();
        int unit = c.stripeSize();
        long end = Math.min(size, off + dst.remaining());
        int base = dst.position();
        List<List<Piece>> byStripe = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byStripe.add(new ArrayList<>());
        }
        for (long pos = off; pos < end; ) {
            long[] at = Stripe.locate(pos, n, unit);
            int len = (int) Math.min(end - pos, unit - pos % unit);
            byStripe.get((int) at[0]).add(new Piece((int) at[0], at[1], (int) (pos - off), len));
            pos += len;
        }
        List<Integer> busy = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!byStripe.get(i).isEmpty()) {
                busy.add(i);
            }
        }
        parallel(busy.size(), k -> {
            int i = busy.get(k);
            Stripe s = c.stripes().get(i);
            PoolDevice d = devs.apply(s.device());
            long len = Stripe.length(size, n, unit, i);
            for (Piece p : byStripe.get(i)) {
                ByteBuffer into = dst.slice(base + p.at(), p.len());
                int got = 0;
                while (got < p.len()) {
                    int r = CopyIo.readVerified(d, object, s.key(), s.checksums(), len, p.local() + got, into);
                    if (r <= 0) {
                        throw new OsdException(
                                Errno.EIO,
                                d.name(),
                                object,
                                "stripe " + i + " (" + s.key() + ") of copy " + c.key() + " ends at "
                                        + (p.local() + got) + " of " + len + " bytes");
                    }
                    got += r;
                }
            }
            return Boolean.TRUE;
        });
        dst.position(base + (int) (end - off));
        return (int) (end - off);
    }

    /** Reads every stripe of {@code c} whole through its checksums, side by side (scrub). */
    static void verify(IntFunction<PoolDevice> devs, Fid object, Copy c, long size) throws OsdException {
        int n = c.stripes().size();
        parallel(n, i -> {
            Stripe s = c.stripes().get(i);
            PoolDevice d = devs.apply(s.device());
            long len = Stripe.length(size, n, c.stripeSize(), i);
            ByteBuffer b = ByteBuffer.allocate(
                    (int) Math.min(Math.max(len, 1), 1L << s.checksums().chunkShift()));
            long off = 0;
            while (off < len) {
                b.clear();
                int r = CopyIo.readVerified(d, object, s.key(), s.checksums(), len, off, b);
                if (r <= 0) {
                    throw new OsdException(
                            Errno.EIO,
                            d.name(),
                            object,
                            "stripe " + i + " (" + s.key() + ") of copy " + c.key() + " ends at " + off + " of " + len);
                }
                off += r;
            }
            return Boolean.TRUE;
        });
    }
}
