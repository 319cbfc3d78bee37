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
 */
public final class PoolObjectCodec {
    /** The record's xattr name; hidden from the pool's clients. */
    public static final String XATTR = "trusted.spillway.obj";

    private static final byte VERSION = 1;

    private PoolObjectCodec() {}

    public static byte[] encode(PoolObject o) {
        int n = 1 + 8 + 8 + 4 + 8 + 2;
        for (Copy c : o.copies()) {
            n += 2 + 2 + 16 + 1 + 8 + 8 + 1 + 1 + 4 + 4 * c.checksums().crcs().length;
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        b.put(VERSION)
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
        }
        return b.array();
    }

    public static PoolObject decode(String device, Fid fid, byte[] bytes) throws OsdException {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            byte v = b.get();
            if (v != VERSION) {
                throw new OsdException(
                        Errno.EPROTO,
                        device,
                        fid,
                        "pool record version " + v + " not understood (want " + VERSION + ")");
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
                int shift = b.get();
                int nc = b.getInt();
                if (nc < 0 || nc > Checksums.MAX_CHUNKS || shift < Checksums.MIN_SHIFT || shift > 62) {
                    throw new OsdException(
                            Errno.EPROTO,
                            device,
                            fid,
                            "pool record: bad checksum list (" + nc + " chunks of 2^" + shift + ")");
                }
                int[] crcs = new int[nc];
                for (int j = 0; j < nc; j++) {
                    crcs[j] = b.getInt();
                }
                cs.add(new Copy(mirror, dev, Fid.fromBytes(k), state, ver, len, pref, new Checksums(shift, crcs)));
            }
            if (b.hasRemaining()) {
                throw new OsdException(Errno.EPROTO, device, fid, "pool record: " + b.remaining() + " trailing bytes");
            }
            return new PoolObject(size, dv, gen, blocks, cs);
        } catch (BufferUnderflowException e) {
            throw new OsdException(Errno.EPROTO, device, fid, "pool record truncated (" + bytes.length + " bytes)");
        }
    }
}
