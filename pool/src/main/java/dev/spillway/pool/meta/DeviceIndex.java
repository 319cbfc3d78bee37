package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Per device, the objects that have a copy there (key: object FID + copy key), striped by object
 * FID. Evacuating a device walks only its own entries; fsck checks it against the layouts. For the
 * metadata device it lists the resident objects.
 */
public final class DeviceIndex {
    /** Bytes of an entry's key (object FID + copy key); entries have no value. */
    public static final int KEY_BYTES = 2 * Fid.BYTES;

    private DeviceIndex() {}

    private static byte[] key(Fid object, Fid copy) {
        byte[] k = new byte[KEY_BYTES];
        System.arraycopy(object.toBytes(), 0, k, 0, Fid.BYTES);
        System.arraycopy(copy.toBytes(), 0, k, Fid.BYTES, Fid.BYTES);
        return k;
    }

    public static void declareInsert(Transaction tx, int device, Fid object) throws OsdException {
        tx.declareInsert(PoolFids.deviceIndexFor(device, object), KEY_BYTES, 0);
    }

    public static void declareDelete(Transaction tx, int device, Fid object) throws OsdException {
        tx.declareDelete(PoolFids.deviceIndexFor(device, object), KEY_BYTES);
    }

    public static void insert(Transaction tx, int device, Fid object, Fid copy) throws OsdException {
        tx.upsert(PoolFids.deviceIndexFor(device, object), key(object, copy), new byte[0]);
    }

    public static void delete(Transaction tx, int device, Fid object, Fid copy) throws OsdException {
        tx.delete(PoolFids.deviceIndexFor(device, object), key(object, copy));
    }

    /** Declares an entry for every part of copy {@code c} (its stripes, or itself). */
    public static void declareInsert(Transaction tx, Fid object, Copy c) throws OsdException {
        for (Stripe s : c.parts()) {
            declareInsert(tx, s.device(), object);
        }
    }

    /** Declares removing the entry of every part of copy {@code c}. */
    public static void declareDelete(Transaction tx, Fid object, Copy c) throws OsdException {
        for (Stripe s : c.parts()) {
            declareDelete(tx, s.device(), object);
        }
    }

    /** An entry for every part of copy {@code c}, on its own device. */
    public static void insert(Transaction tx, Fid object, Copy c) throws OsdException {
        for (Stripe s : c.parts()) {
            insert(tx, s.device(), object, s.key());
        }
    }

    /** Removes the entry of every part of copy {@code c}. */
    public static void delete(Transaction tx, Fid object, Copy c) throws OsdException {
        for (Stripe s : c.parts()) {
            delete(tx, s.device(), object, s.key());
        }
    }

    public static boolean contains(Osd md, int device, Fid object, Fid copy) throws OsdException {
        return md.lookup(PoolFids.deviceIndexFor(device, object), key(object, copy))
                .isPresent();
    }

    /** Calls {@code f(object, copy)} for every entry of {@code device}, stripe by stripe. */
    public static void forEach(Osd md, int device, BiConsumer<Fid, Fid> f) throws OsdException {
        for (int s = 0; s < PoolFids.STRIPES; s++) {
            try (IndexCursor c = md.cursor(PoolFids.deviceIndex(device, s), null)) {
                while (c.next()) {
                    byte[] k = c.key();
                    f.accept(Fid.fromBytes(k, 0), Fid.fromBytes(k, Fid.BYTES));
                }
            }
        }
    }

    public static List<Fid[]> list(Osd md, int device) throws OsdException {
        List<Fid[]> out = new ArrayList<>();
        forEach(md, device, (o, c) -> out.add(new Fid[] {o, c}));
        return out;
    }
}
