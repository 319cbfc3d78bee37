package dev.spillway.pool;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.meta.PoolFids;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * A small file the pool keeps for a component that runs on it — Lustre's {@code local_file}: an
 * object in the pool's own FID sequence on the metadata device, which clients never see. Its
 * owner reads it whole and replaces it whole; the pool decides where it lives and how a
 * replacement is written. Today there is one, the migration daemon's heat checkpoint.
 */
public final class LocalFile {
    /** The files the pool keeps, each at a FID of its own sequence. */
    public enum Name {
        /** The migration daemon's heat checkpoint. */
        HEAT(PoolFids.HEAT);

        private final Fid fid;

        Name(Fid fid) {
            this.fid = fid;
        }
    }

    private final String pool;
    private final Osd md;
    private final Fid fid;

    LocalFile(String pool, Osd md, Name name) {
        this.pool = pool;
        this.md = md;
        this.fid = name.fid;
    }

    /** Where the file lives (what errors about it name). */
    public Fid fid() {
        return fid;
    }

    /** The metadata device it lives on. */
    public String device() {
        return md.name();
    }

    /** Its whole body, or empty if it was never written. */
    public Optional<byte[]> read() throws OsdException {
        if (!md.exists(fid)) {
            return Optional.empty();
        }
        long size = md.getAttr(fid).size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new OsdException(
                    Errno.EFBIG, pool, fid, "local file of " + size + " bytes is larger than this reader takes");
        }
        byte[] b = new byte[(int) size];
        int pos = 0;
        while (pos < b.length) {
            int n = md.read(fid, pos, ByteBuffer.wrap(b, pos, b.length - pos));
            if (n <= 0) {
                break;
            }
            pos += n;
        }
        return Optional.of(pos == b.length ? b : Arrays.copyOf(b, pos));
    }

    /**
     * Replaces the body with {@code body} in one metadata transaction. The replacement is FREEING
     * (the old body goes before the new one comes), so a rewrite needs no space even on a full
     * tier; what it grows by may come only from clients' room, never from the reserve.
     *
     * @return false, writing nothing, if the device has no room for the growth now (the caller
     *     tries again later)
     */
    public boolean replace(byte[] body) throws OsdException {
        boolean exists = md.exists(fid);
        long growth = body.length - (exists ? md.getAttr(fid).size() : -4096);
        if (growth > 0 && md.statfs().availableBytes() <= growth) {
            return false;
        }
        try (Transaction tx = md.newTransaction()) {
            tx.setSpaceClass(SpaceClass.FREEING);
            if (!exists) {
                tx.declareCreate(fid, ObjectKind.DATA);
            }
            tx.declareTruncate(fid, 0);
            tx.declareWrite(fid, 0, body.length);
            tx.start();
            if (!exists) {
                tx.create(fid, ObjectKind.DATA, AttrChange.none());
            }
            tx.truncate(fid, 0);
            tx.write(fid, 0, ByteBuffer.wrap(body));
        }
        return true;
    }
}
