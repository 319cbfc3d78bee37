package dev.spillway.pool.meta;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.pool.layout.HsmType;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Loads and stores a DATA object's pool state on the metadata device: the pool record
 * ({@link PoolObjectCodec}) and the Lustre layout xattr, written together in one transaction.
 * INDEX objects have neither.
 */
public final class PoolObjectStore {
    /** Lustre's name of the layout xattr ({@code XATTR_NAME_LOV}). */
    public static final String LAYOUT_XATTR = "trusted.lov";

    private final Osd md;
    private final ChangeStamps stamps;
    private final RecordCache cache = new RecordCache();
    private final int mdIndex;
    private final IntFunction<HsmType> types;
    private final int bound;

    /**
     * @param md the metadata device
     * @param stamps the change stamps of every update of {@code md} (its gate)
     * @param mdIndex its index in the pool
     * @param types the HSM foreign type of each device index
     */
    public PoolObjectStore(Osd md, ChangeStamps stamps, int mdIndex, IntFunction<HsmType> types) {
        this.md = md;
        this.stamps = stamps;
        this.mdIndex = mdIndex;
        this.types = types;
        this.bound = Math.min(md.capabilities().maxXattrValue(), 64 << 10);
    }

    /** True for xattr names the pool keeps for itself; clients can neither set nor list them. */
    public static boolean reservedXattr(String name) {
        return name.equals(LAYOUT_XATTR) || name.startsWith("trusted.spillway.");
    }

    /** The object's pool state; empty for an INDEX object. @throws OsdException ENOENT */
    public Optional<PoolObject> load(Fid fid) throws OsdException {
        byte[] rec;
        try {
            rec = md.getXattr(fid, PoolObjectCodec.XATTR);
        } catch (OsdException e) {
            if (e.is(Errno.ENODATA)) {
                return Optional.empty();
            }
            throw e;
        }
        return Optional.of(PoolObjectCodec.decode(md.name(), fid, rec));
    }

    /**
     * A record as loaded under a change stamp ({@link ChangeStamps#UNSTABLE}: not cacheable), with
     * its {@link ReadPlan} (null when there is no record).
     */
    public record Stamped(Optional<PoolObject> record, long stamp, ReadPlan plan) {}

    /**
     * As {@link #load}, from the cache when the object's change stamp is the one its cached record
     * was loaded under; the stamp returned lets the caller check, after using the record (reading
     * the body it names), that nothing changed meanwhile ({@link #unchanged}). The record's read
     * plan is made once per load and cached with it.
     */
    public Stamped loadStamped(Fid fid) throws OsdException {
        long s = stamps.stamp(fid);
        if (s != ChangeStamps.UNSTABLE) {
            RecordCache.Entry cached = cache.get(fid, s);
            if (cached != null) {
                return new Stamped(Optional.of(cached.record()), s, cached.plan());
            }
        }
        Optional<PoolObject> o = load(fid);
        if (o.isEmpty()) {
            return new Stamped(o, s, null);
        }
        ReadPlan plan = ReadPlan.of(o.get(), mdIndex);
        if (stamps.unchanged(fid, s)) {
            cache.put(fid, s, o.get(), plan);
        }
        return new Stamped(o, s, plan);
    }

    /** True if no update of {@code fid} was published or in flight since {@code stamp} was taken. */
    public boolean unchanged(Fid fid, long stamp) {
        return stamps.unchanged(fid, stamp);
    }

    public PoolObject require(Fid fid) throws OsdException {
        return load(fid)
                .orElseThrow(() -> new OsdException(Errno.EISDIR, md.name(), fid, "not a DATA object of the pool"));
    }

    /** An object's state as {@link #store} writes it: the record and the layout xattr. */
    private record Encoded(Fid fid, PoolObject o, byte[] record, byte[] layout) {}

    // The last state this thread encoded: a declare is followed by the store of the same state
    // (a flip, a spill's begin) or the same state is declared twice (a client's create and its
    // write), and each is then encoded once. Equal states encode equally (mdIndex and the
    // devices' HSM types are fixed for the mount); nothing writes into the arrays once made.
    private final ThreadLocal<Encoded> lastEncoded = new ThreadLocal<>();

    private Encoded encoded(Fid fid, PoolObject o) {
        Encoded e = lastEncoded.get();
        if (e != null && e.fid().equals(fid) && (e.o() == o || e.o().equals(o))) {
            return e;
        }
        e = new Encoded(fid, o, PoolObjectCodec.encode(o), LayoutView.encode(fid, o, mdIndex, types));
        lastEncoded.set(e);
        return e;
    }

    /** The bytes of {@code o}'s record and layout together, as {@link #store} would write them. */
    public long storedBytes(Fid fid, PoolObject o) {
        Encoded e = encoded(fid, o);
        return e.record().length + e.layout().length;
    }

    /**
     * Why {@code o}'s record or layout would not fit an xattr value of the metadata device (its
     * largest, at most Linux's 64 KiB {@code XATTR_SIZE_MAX}: the bound {@link #store} checks the
     * record against, and the one the device refuses a larger layout with E2BIG by), or empty. A
     * move that would grow an object's layout (a range spill) asks first, and refuses instead of
     * failing its transaction.
     */
    public Optional<String> overBound(Fid fid, PoolObject o) {
        Encoded e = encoded(fid, o);
        if (e.record().length > bound) {
            return Optional.of("its pool record (" + PoolObjectCodec.XATTR + ") would take " + e.record().length
                    + " bytes, more than the " + bound + " an xattr value of " + md.name() + " holds");
        }
        if (e.layout().length > bound) {
            return Optional.of("its layout (" + LAYOUT_XATTR + ") would take " + e.layout().length
                    + " bytes, more than the " + bound + " an xattr value of " + md.name() + " holds");
        }
        return Optional.empty();
    }

    /**
     * Declares a {@link #store} of {@code next}: its record and layout, exactly as large as they
     * will be, so that a transaction reserves what it writes and not the largest xattr the device
     * allows (a mount that rolls back work must not need space it does not use).
     */
    public void declare(Transaction tx, Fid fid, PoolObject next) throws OsdException {
        Encoded e = encoded(fid, next);
        tx.declareSetXattr(fid, PoolObjectCodec.XATTR, e.record().length);
        tx.declareSetXattr(fid, LAYOUT_XATTR, e.layout().length);
        tx.declareSetAttr(fid);
    }

    /**
     * Declares a {@link #store} after a client's change of an object whose committed state is
     * {@code committed} (empty: created by the change): a client change adds at most the body on
     * the metadata device (a recall), and otherwise only changes states or drops copies.
     */
    public void declareClientChange(Transaction tx, Fid fid, Optional<PoolObject> committed) throws OsdException {
        PoolObject bound = committed
                .map(p -> p.resident(mdIndex) ? p : p.add(localCopy(p, fid)))
                .orElseGet(() -> PoolObject.created(mdIndex, fid));
        declare(tx, fid, bound);
    }

    /**
     * The metadata device's copy of {@code p}'s whole body, as a recall or promotion adds it: the
     * next mirror id, in sync at the current data version, preferred, no checksums.
     */
    public Copy localCopy(PoolObject p, Fid fid) {
        return new Copy(
                p.nextMirrorId(), mdIndex, fid, CopyState.IN_SYNC, p.dataVersion(), p.size(), true, Checksums.NONE);
    }

    /**
     * Stores the object's pool state, then sets {@code times}: the pool's own xattrs are
     * bookkeeping, and must not move the times the object's clients see (a spill does not change
     * an object's ctime, as an HSM release does not).
     */
    public void store(Transaction tx, Fid fid, PoolObject o, AttrChange times) throws OsdException {
        Encoded e = encoded(fid, o);
        byte[] rec = e.record();
        if (rec.length > bound) {
            throw new OsdException(
                    Errno.E2BIG, md.name(), fid, "pool record of " + rec.length + " bytes exceeds " + bound);
        }
        tx.setXattr(fid, PoolObjectCodec.XATTR, rec, XattrFlag.UPSERT);
        tx.setXattr(fid, LAYOUT_XATTR, e.layout(), XattrFlag.UPSERT);
        tx.setAttr(fid, times);
    }

    /** The times to keep across a pool-internal change of {@code fid}: its current mtime and ctime. */
    public AttrChange times(Fid fid) throws OsdException {
        Attr a = md.getAttr(fid);
        return AttrChange.none().mtime(a.mtime()).ctime(a.ctime());
    }

    /** The layout xattr as stored. */
    public byte[] layout(Fid fid) throws OsdException {
        return md.getXattr(fid, LAYOUT_XATTR);
    }

    /** The stored layout, decoded (a malformed one fails with the codec's EBADMSG/EPROTO). */
    public Layout decodedLayout(Fid fid) throws OsdException {
        return LayoutCodec.decode(layout(fid), md.name(), fid);
    }

    /** What differs between the stored layout and the record, if anything. */
    public Optional<String> mismatch(Fid fid, PoolObject o) throws OsdException {
        return LayoutView.mismatch(fid, decodedLayout(fid), o, mdIndex, types);
    }
}
