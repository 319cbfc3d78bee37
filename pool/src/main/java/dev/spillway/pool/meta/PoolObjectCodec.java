package dev.spillway.pool.meta;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The pool's private record of an object (xattr {@link #XATTR} on the metadata device): what the
 * Lustre layout has no field for — the logical size, the data version, and each copy's chunk
 * checksums — plus the copies themselves, so the record alone can rebuild the layout.
 * Little-endian, versioned.
 *
 * <p>Version 2 (issue 20) adds after each copy its striping: stripe size u32, stripe count u16
 * (0 for a whole copy), then per stripe device u16, key FID, bytes u64, chunk shift u8, CRC32C count
 * u32 and the CRC32Cs. A record with no striped copy is still written as version 1, which every
 * version reads; both versions are read.
 *
 * <p>Version 3 (issue 20, range-level placement) adds after each copy's striping the ranges of the
 * body it holds: span count u16 (0: the whole body), then per span start u64 and end u64 (as
 * {@code lcme_extent}: {@code 0xFFFFFFFFFFFFFFFF} for EOF). Written only when a copy holds part of
 * the body; a record without one is written as before. The two compose: a striped copy of a range
 * (one span) has its stripes in the version 2 fields and its span after them, its stripes holding
 * the range's bytes RAID0 from the range's start.
 */
public final class PoolObjectCodec {
    /** The record's xattr name; hidden from the pool's clients. */
    public static final String XATTR = "trusted.spillway.obj";

    private static final byte V1 = 1;
    private static final byte VERSION = 2;
    private static final byte V3 = 3;
    private static final long LUSTRE_EOF = -1L;

    private PoolObjectCodec() {}

    public static byte[] encode(PoolObject o) {
        boolean v3 = o.copies().stream().anyMatch(c -> !c.whole());
        boolean v2 = v3 || o.copies().stream().anyMatch(Copy::striped);
        int n = 1 + 8 + 8 + 4 + 8 + 2;
        for (Copy c : o.copies()) {
            n += 2 + 2 + 16 + 1 + 8 + 8 + 1 + 1 + 4 + 4 * c.checksums().crcs().length;
            if (v2) {
                n += 4 + 2;
                for (Stripe s : c.stripes()) {
                    n += 2 + 16 + 8 + 1 + 4 + 4 * s.checksums().crcs().length;
                }
            }
            if (v3) {
                n += 2 + 16 * c.spans().size();
            }
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        b.put(v3 ? V3 : v2 ? VERSION : V1)
                .putLong(o.size())
                .putLong(o.dataVersion())
                .putInt(o.layoutGen())
                .putLong(o.blocks())
                .putShort((short) o.copies().size());
        for (Copy c : o.copies()) {
            b.putShort((short) c.mirrorId()).putShort((short) c.device());
            b.put(c.key().toBytes());
            b.put((byte) c.state().code())
                    .putLong(c.version())
                    .putLong(c.bytes())
                    .put((byte) (c.preferred() ? 1 : 0));
            b.put((byte) c.checksums().chunkShift()).putInt(c.checksums().crcs().length);
            for (int crc : c.checksums().crcs()) {
                b.putInt(crc);
            }
            if (v2) {
                b.putInt(c.stripeSize()).putShort((short) c.stripes().size());
                for (Stripe s : c.stripes()) {
                    b.putShort((short) s.device()).put(s.key().toBytes()).putLong(s.bytes());
                    b.put((byte) s.checksums().chunkShift())
                            .putInt(s.checksums().crcs().length);
                    for (int crc : s.checksums().crcs()) {
                        b.putInt(crc);
                    }
                }
            }
            if (v3) {
                b.putShort((short) c.spans().size());
                for (Span sp : c.spans()) {
                    b.putLong(sp.start()).putLong(sp.toEof() ? LUSTRE_EOF : sp.end());
                }
            }
        }
        return b.array();
    }

    public static PoolObject decode(String device, Fid fid, byte[] bytes) throws OsdException {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            byte v = b.get();
            if (v != VERSION && v != V1 && v != V3) {
                throw new OsdException(
                        Errno.EPROTO,
                        device,
                        fid,
                        "pool record version " + v + " not understood (want " + V1 + " to " + V3 + ")");
            }
            long size = b.getLong();
            long dv = b.getLong();
            int gen = b.getInt();
            long blocks = b.getLong();
            int count = Short.toUnsignedInt(b.getShort());
            List<Copy> cs = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int mirror = Short.toUnsignedInt(b.getShort());
                int dev = Short.toUnsignedInt(b.getShort());
                byte[] k = new byte[Fid.BYTES];
                b.get(k);
                int st = b.get();
                CopyState state = CopyState.ofCode(st);
                if (state == null) {
                    throw new OsdException(Errno.EPROTO, device, fid, "pool record: copy state " + st + " unknown");
                }
                long ver = b.getLong();
                long len = b.getLong();
                boolean pref = b.get() != 0;
                Checksums sums = checksums(b, device, fid, "copy " + mirror);
                int unit = 0;
                List<Stripe> stripes = List.of();
                if (v >= VERSION) {
                    unit = b.getInt();
                    int ns = Short.toUnsignedInt(b.getShort());
                    if (ns == 1 || (ns > 1 && (Integer.bitCount(unit) != 1 || unit < (1 << 16)))) {
                        throw new OsdException(
                                Errno.EPROTO,
                                device,
                                fid,
                                "pool record: copy " + mirror + " has " + ns + " stripes of " + unit
                                        + " bytes (a striped copy has 2 or more, a power of two of 64 KiB or more)");
                    }
                    stripes = new ArrayList<>(ns);
                    for (int j = 0; j < ns; j++) {
                        int sdev = Short.toUnsignedInt(b.getShort());
                        byte[] sk = new byte[Fid.BYTES];
                        b.get(sk);
                        long sbytes = b.getLong();
                        stripes.add(new Stripe(
                                sdev,
                                Fid.fromBytes(sk),
                                sbytes,
                                checksums(b, device, fid, "copy " + mirror + " stripe " + j)));
                    }
                    if (ns > 1
                            && (stripes.get(0).device() != dev
                                    || !stripes.get(0).key().equals(Fid.fromBytes(k)))) {
                        throw new OsdException(
                                Errno.EPROTO,
                                device,
                                fid,
                                "pool record: copy " + mirror + "'s stripe 0 is not its device and key");
                    }
                    if (ns == 0) {
                        unit = 0;
                    }
                }
                List<Span> spans = v == V3 ? spans(b, device, fid, mirror, stripes.size()) : List.of();
                cs.add(new Copy(mirror, dev, Fid.fromBytes(k), state, ver, len, pref, sums, unit, stripes, spans));
            }
            if (b.hasRemaining()) {
                throw new OsdException(Errno.EPROTO, device, fid, "pool record: " + b.remaining() + " trailing bytes");
            }
            return new PoolObject(size, dv, gen, blocks, cs);
        } catch (BufferUnderflowException e) {
            throw new OsdException(Errno.EPROTO, device, fid, "pool record truncated (" + bytes.length + " bytes)");
        }
    }

    private static List<Span> spans(ByteBuffer b, String device, Fid fid, int mirror, int stripes) throws OsdException {
        int n = Short.toUnsignedInt(b.getShort());
        if (n > b.remaining() / 16) {
            throw new BufferUnderflowException();
        }
        List<Span> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long start = b.getLong();
            long end = b.getLong();
            try {
                if (end == Span.EOF) {
                    throw new IllegalArgumentException("end " + end + " is not a 64 KiB boundary nor EOF");
                }
                out.add(new Span(start, end == LUSTRE_EOF ? Span.EOF : end));
            } catch (IllegalArgumentException e) {
                throw new OsdException(
                        Errno.EPROTO,
                        device,
                        fid,
                        "pool record: copy " + mirror + " span " + i + ": " + e.getMessage());
            }
        }
        if (n > 0 && ((stripes > 0 && n > 1) || !out.equals(Span.normalize(out)))) {
            throw new OsdException(
                    Errno.EPROTO,
                    device,
                    fid,
                    "pool record: copy " + mirror + "'s spans " + out
                            + " are not sorted and apart, or several on a striped copy");
        }
        return out;
    }

    private static Checksums checksums(ByteBuffer b, String device, Fid fid, String what) throws OsdException {
        int shift = b.get();
        int nc = b.getInt();
        if (nc < 0 || nc > Checksums.MAX_CHUNKS || shift < Checksums.MIN_SHIFT || shift > 62) {
            throw new OsdException(
                    Errno.EPROTO,
                    device,
                    fid,
                    "pool record: " + what + ": bad checksum list (" + nc + " chunks of 2^" + shift + ")");
        }
        if (nc > b.remaining() / 4) {
            throw new BufferUnderflowException();
        }
        int[] crcs = new int[nc];
        for (int j = 0; j < nc; j++) {
            crcs[j] = b.getInt();
        }
        return new Checksums(shift, crcs);
    }
}
