package dev.spillway.pool.ops;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Keys leased for the extra copies of sync writes (docs/design.md, "Write-commit"). A sync write
 * writes its extra copy while its top transaction commits, so a crash may leave the copy durable
 * and the top transaction lost: no layout and no job names the copy, and only a scan of the device
 * would find it. So a key is leased before it is used: an entry (device, key) in the metadata
 * device's lease index ({@link PoolFids#SYNC_KEYS}), made durable. The lease ends in the metadata
 * transaction that flips the copy in sync or discards it — after the top transaction's
 * {@link Job.Kind#SYNC_COPY} job took over — so at every moment the key is named by a durable
 * lease or by a durable job or layout. At mount, a lease whose key no SYNC_COPY job names is an
 * orphan's: whatever the key holds is deleted ({@link SyncRecovery}).
 *
 * <p>Leases are taken {@link #BATCH} at a time per device in one forced metadata transaction, so
 * the extra forced write is paid once per batch, not per write. The top transaction never touches
 * the lease index (a batch taken while another writer's transaction is open must not wait for it);
 * the flips and discards that end leases are short transactions that wait for nothing.
 *
 * <p>On a device whose copies are files (no transactions: osd-vfs with its journal off) a batch's
 * keys are also <em>precreated</em> once their leases are durable, as Lustre's OSP precreates
 * objects on an OST: each key's empty object is created and made durable there (file and folder),
 * all together, so that a sync write's copy only writes its bytes into it and forces the file —
 * the folder's fsync and the create leave the write's path, paid once a batch with their fsyncs
 * issued side by side. An empty object under a key that no SYNC_COPY job names is the lease's as
 * any leftover is: a mount deletes it ({@link SyncRecovery#settleLeases}), fsck and a failed
 * device's leftover sweep leave leased keys alone. A precreation the device refuses strands no
 * lease: its leftovers are deleted and the batch serves unprecreated, and precreation on that
 * device backs off by the pool's clock.
 */
public final class SyncKeys {
    /** Keys leased per device at a time. */
    public static final int BATCH = 32;

    private static final System.Logger LOG = System.getLogger(SyncKeys.class.getName());
    private static final int KEY_BYTES = 2 + Fid.BYTES;
    private static final byte[] VALUE = {1};

    /** A lease: a key on a device. */
    public record Lease(int device, Fid key) {}

    /** How long a device's batches go without precreation after its first failed one; doubled per failure. */
    public static final long BACKOFF_NANOS = 1_000_000_000L;
    /** The longest back-off. */
    public static final long MAX_BACKOFF_NANOS = 300_000_000_000L;

    private final Osd md;
    private final Migrator migrator;
    // The pool's clock (nanoseconds): when a failed precreation may be tried again.
    private final LongSupplier nanos;
    // Guarded by this: per device index, its keys. Held only to hand out or put back keys, never
    // across a lease or a precreation.
    private final Map<Integer, DeviceKeys> devices = new HashMap<>();
    // Orders the lease transactions while the lease index may not exist yet (a pool formatted
    // before leases existed gets it with its first batch; two first batches must not both create it).
    private final Object indexLock = new Object();
    private volatile boolean indexKnown;

    /**
     * One device's keys, from its first take or its first since it last failed: a device that
     * fails (or is replaced, which it must fail first) may have lost its precreated objects, so
     * its keys are forgotten — never handed out again — and their leases stay for the next mount.
     */
    private static final class DeviceKeys {
        // The device's failures() when these keys were: another value means it failed since.
        final long epoch;
        // A key allocated before any of these: one not above it was taken before (keys only grow).
        final Fid from;
        // Guarded by SyncKeys.this: the keys leased durably and not handed out; those of them (or
        // handed out and not written yet) whose empty object is durable on the device; whether a
        // refill is under way (one at a time).
        final ArrayDeque<Fid> free = new ArrayDeque<>();
        final Set<Fid> made = new HashSet<>();
        boolean refilling;
        // Touched only by the refill under way: `refilling` is set and cleared under SyncKeys.this,
        // which orders one refill's writes before the next one's reads. The precreation back-off
        // (none before backoffUntil, clock nanos; the next one nextBackoff long), and leased keys
        // a failed precreation left that could not be cleared yet (an object may be under them):
        // cleared and reused by the device's next batch.
        boolean backingOff;
        long backoffUntil;
        long nextBackoff = BACKOFF_NANOS;
        List<Fid> unclean = List.of();

        DeviceKeys(long epoch, Fid from) {
            this.epoch = epoch;
            this.from = from;
        }
    }

    /** A refill's keys, and whether their objects were precreated. */
    private record Batch(List<Fid> keys, boolean precreated) {}

    SyncKeys(Osd md, Migrator migrator, LongSupplier nanos) {
        this.md = md;
        this.migrator = migrator;
        this.nanos = nanos;
    }

    private static byte[] key(int device, Fid key) {
        return ByteBuffer.allocate(KEY_BYTES)
                .putShort((short) device)
                .put(key.toBytes())
                .array();
    }

    /**
     * A key leased on {@code d}: durable before it is returned (a new batch is leased in a forced
     * metadata transaction when none is left, and precreated on a device whose copies are files).
     * Give it back ({@link #giveBack}) if no top transaction used it.
     *
     * <p>The refill runs outside the lock: writers that find keys left take theirs meanwhile, and
     * a writer that finds none while another refills the device's batch leases a key of its own
     * (one forced metadata transaction, not precreated) instead of waiting for the batch's creates
     * and syncs. One refill per device at a time.
     */
    public Fid take(PoolDevice d) throws OsdException {
        DeviceKeys k = null;
        Fid from = null;
        long epoch = -1; // the device's failure count when `from` was allocated
        while (k == null) {
            synchronized (this) {
                if (d.state() == DeviceState.FAILED) {
                    break; // (a writer that chose it just before): a key of its own, as below
                }
                k = current(d);
                if (k == null && from != null) {
                    if (d.failures() != epoch) {
                        // The device failed (and came back) since `from` was allocated: a key
                        // taken before that failure could follow it. Allocate again.
                        from = null;
                        continue;
                    }
                    k = new DeviceKeys(epoch, from);
                    devices.put(d.index(), k);
                }
                if (k != null) {
                    Fid f = k.free.poll();
                    if (f != null) {
                        return f;
                    }
                    if (k.refilling) {
                        k = null;
                        break;
                    }
                    k.refilling = true;
                }
            }
            if (k == null) {
                // The device's first take, or its first since it failed: every key of its new
                // generation is allocated after this one. The failure count is read first, so a
                // failure between the two shows as a changed count above.
                epoch = d.failures();
                from = migrator.nextKey();
            }
        }
        if (k == null) {
            return lease(d, 1).get(0);
        }
        Batch b = null;
        boolean forgotten = false;
        try {
            b = refill(d, k);
        } finally {
            synchronized (this) {
                k.refilling = false;
                if (b != null && current(d) == k) {
                    if (b.precreated()) {
                        k.made.addAll(b.keys());
                    }
                    k.free.addAll(b.keys().subList(1, b.keys().size()));
                } else {
                    forgotten = b != null;
                }
            }
        }
        if (forgotten) {
            // The device failed while its batch was made: the batch stays leased for the next
            // mount, and this writer (its copy on a failed device) gets a key of its own.
            return lease(d, 1).get(0);
        }
        return b.keys().get(0);
    }

    /**
     * {@code d}'s keys, or null if none were taken since it last failed; keys from before its
     * latest failure are dropped here (guarded by this).
     */
    private DeviceKeys current(PoolDevice d) {
        DeviceKeys k = devices.get(d.index());
        if (k != null && k.epoch != d.failures()) {
            devices.remove(d.index());
            LOG.log(
                    System.Logger.Level.INFO,
                    "device " + d.name() + " failed: its " + k.free.size() + " leased sync-copy keys not handed out ("
                            + k.made.size() + " precreated) are not used again; the next mount settles their leases");
            return null;
        }
        return k;
    }

    /**
     * A new batch of keys for {@code d}, leased durably: precreated where the device takes it
     * ({@link #precreates}) and no back-off is in force. A precreation that fails ends in a
     * back-off (no precreation on the device for {@link #BACKOFF_NANOS}, doubled per failure up to
     * {@link #MAX_BACKOFF_NANOS}) and the batch is cleared of what it left and used as it is: each
     * copy then creates its own object. A batch that cannot even be cleared waits, leased, for the
     * device's next batch to clear and reuse it (or for the next mount); meanwhile a batch without
     * precreation serves.
     */
    private Batch refill(PoolDevice d, DeviceKeys k) throws OsdException {
        List<Fid> left = k.unclean;
        if (!left.isEmpty() && clear(d, left)) {
            k.unclean = List.of();
            return new Batch(left, false);
        }
        List<Fid> batch = lease(d, BATCH);
        if (!precreates(d.osd().capabilities())
                || !left.isEmpty()
                || (k.backingOff && nanos.getAsLong() < k.backoffUntil)) {
            return new Batch(batch, false);
        }
        if (precreate(d, batch)) {
            k.backingOff = false;
            k.nextBackoff = BACKOFF_NANOS;
            return new Batch(batch, true);
        }
        k.backingOff = true;
        k.backoffUntil = nanos.getAsLong() + k.nextBackoff;
        k.nextBackoff = Math.min(MAX_BACKOFF_NANOS, 2 * k.nextBackoff);
        if (clear(d, batch)) {
            return new Batch(batch, false);
        }
        k.unclean = batch;
        return new Batch(lease(d, BATCH), false);
    }

    /**
     * Deletes whatever a failed precreation left under {@code keys} on {@code d} (one freeing
     * transaction, unforced: the keys stay leased, so a crash leaves nothing unnamed); false if the
     * device refused.
     */
    private boolean clear(PoolDevice d, List<Fid> keys) {
        try {
            SyncRecovery.destroyAll(d, keys);
        } catch (OsdException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "leased sync-copy keys on " + d.name() + " not cleared after a failed precreation ("
                            + e.getMessage() + "); they stay leased, for the device's next batch or the next mount");
            return false;
        }
        return true;
    }

    /** {@code n} keys on {@code d}, leased durably (one forced metadata transaction). */
    private List<Fid> lease(PoolDevice d, int n) throws OsdException {
        List<Fid> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            batch.add(migrator.nextKey());
        }
        if (indexKnown) {
            lease(d, batch, false);
        } else {
            synchronized (indexLock) {
                // A pool formatted before leases existed gets its index with its first batch.
                lease(d, batch, !md.exists(PoolFids.SYNC_KEYS));
                indexKnown = true;
            }
        }
        return batch;
    }

    private void lease(PoolDevice d, List<Fid> batch, boolean create) throws OsdException {
        try (Transaction tx = md.newTransaction()) {
            if (create) {
                tx.declareCreate(PoolFids.SYNC_KEYS, ObjectKind.INDEX);
            }
            for (int i = 0; i < batch.size(); i++) {
                tx.declareInsert(PoolFids.SYNC_KEYS, KEY_BYTES, VALUE.length);
            }
            // For a client's write: a full metadata device refuses it before anything is written.
            tx.setSpaceClass(SpaceClass.CLIENT);
            tx.setSync(true);
            tx.start();
            if (create) {
                tx.create(PoolFids.SYNC_KEYS, ObjectKind.INDEX, AttrChange.none());
            }
            for (Fid k : batch) {
                tx.upsert(PoolFids.SYNC_KEYS, key(d.index(), k), VALUE);
            }
        }
    }

    /**
     * Whether a device's sync copies are precreated: one without transactions, whose copy is a
     * file made durable with its folder (on a device with transactions the create is part of the
     * copy's own commit and costs no force of its own).
     */
    static boolean precreates(Capabilities caps) {
        return !caps.has(Capability.TRANSACTIONS) && caps.has(Capability.PARTIAL_WRITE);
    }

    /**
     * Creates the empty objects of {@code batch} (leased durably) on {@code d} and makes them
     * durable, in one sync (their fsyncs side by side, each folder once); false if the device
     * refused (full, failing): then some of the batch's objects may be there, some not.
     */
    private boolean precreate(PoolDevice d, List<Fid> batch) {
        try {
            try (Transaction tx = d.osd().newTransaction()) {
                for (Fid k : batch) {
                    tx.declareCreate(k, ObjectKind.DATA);
                }
                tx.setSpaceClass(SpaceClass.CLIENT);
                tx.start();
                for (Fid k : batch) {
                    tx.create(k, ObjectKind.DATA, AttrChange.none());
                }
            }
            d.osd().sync(batch);
        } catch (OsdException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "leased sync-copy keys on " + d.name() + " not precreated (" + e.getMessage()
                            + "); the batch is used without, and precreation on the device backs off");
            return false;
        }
        return true;
    }

    /**
     * Whether {@code key}, leased on device {@code device}, holds its precreated empty object,
     * durable (then the copy writes into it, without a create); answered once per key: the caller
     * writes into it (or deletes it) from now on.
     */
    public synchronized boolean claimPrecreated(PoolDevice d, Fid key) {
        DeviceKeys k = current(d);
        return k != null && k.made.remove(key);
    }

    /** {@link #claimPrecreated} without claiming it (a key that may yet be given back). */
    public synchronized boolean precreated(PoolDevice d, Fid key) {
        DeviceKeys k = current(d);
        return k != null && k.made.contains(key);
    }

    /**
     * A key taken and not used by a committed top transaction: still leased, handed out again —
     * unless its device failed since it was taken (its lease then waits for the next mount).
     */
    public synchronized void giveBack(PoolDevice d, Fid key) {
        DeviceKeys k = current(d);
        if (k != null && d.state() != DeviceState.FAILED && key.compareTo(k.from) > 0) {
            k.free.addFirst(key);
        }
    }

    /** Declares on a metadata transaction that it may end the lease of a SYNC_COPY job's key. */
    public static void declareEnd(Transaction tx) throws OsdException {
        tx.declareDelete(PoolFids.SYNC_KEYS, KEY_BYTES);
    }

    /** In the transaction that flips or discards a SYNC_COPY job's copy: the key's lease ends. */
    public static void end(Transaction tx, Osd md, int device, Fid key) throws OsdException {
        byte[] k = key(device, key);
        if (md.exists(PoolFids.SYNC_KEYS) && md.lookup(PoolFids.SYNC_KEYS, k).isPresent()) {
            tx.delete(PoolFids.SYNC_KEYS, k);
        }
    }

    /** Every lease on the metadata device (a mount settles them). */
    public static List<Lease> all(Osd md) throws OsdException {
        List<Lease> out = new ArrayList<>();
        if (!md.exists(PoolFids.SYNC_KEYS)) {
            return out;
        }
        try (IndexCursor c = md.cursor(PoolFids.SYNC_KEYS, null)) {
            while (c.next()) {
                ByteBuffer b = ByteBuffer.wrap(c.key());
                int device = Short.toUnsignedInt(b.getShort());
                byte[] f = new byte[Fid.BYTES];
                b.get(f);
                out.add(new Lease(device, Fid.fromBytes(f)));
            }
        }
        return out;
    }

    /** Ends leases (a mount, once their keys hold nothing), a batch per metadata transaction that frees. */
    static void endAll(Osd md, List<Lease> leases) throws OsdException {
        for (int from = 0; from < leases.size(); from += 256) {
            List<Lease> some = leases.subList(from, Math.min(leases.size(), from + 256));
            try (Transaction tx = md.newTransaction()) {
                for (int i = 0; i < some.size(); i++) {
                    declareEnd(tx);
                }
                tx.setSpaceClass(SpaceClass.FREEING);
                tx.start();
                for (Lease l : some) {
                    tx.delete(PoolFids.SYNC_KEYS, key(l.device(), l.key()));
                }
            }
        }
    }
}
