package dev.spillway.pool;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.AttrField;
import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.PlacementHint;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.spi.AbstractTransaction;
import dev.spillway.osd.spi.Declare;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.SpaceConfig;
import dev.spillway.pool.config.WriteCommit;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.io.SplitBody;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Counters;
import dev.spillway.pool.meta.DeviceIndex;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectStore;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.StripedCounters;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.SyncCommit;
import dev.spillway.pool.ops.WriteAround;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A pool transaction: one metadata-device transaction carrying the client's updates plus the
 * pool's own bookkeeping of them (layout, record, work index, device indexes, counters), so the
 * whole is atomic and durable together.
 *
 * <p>At start the pool already holds the declared objects' locks, so it reads their committed
 * layouts and declares on the metadata device exactly what the updates will need: a write to a
 * spilled object also declares the recall of its body; a change to an object with copies on
 * other devices also declares the jobs that stale or collect those copies. Objects with no other
 * copy touch nothing shared.
 */
final class PoolTransaction extends AbstractTransaction {
    private final PoolOsd pool;
    private final PoolContext ctx;
    private final int mdIndex;
    private Transaction mdTx;
    private boolean mdStopped;
    // The working pool state of DATA objects this transaction touched; null value = destroyed.
    private final Map<Fid, PoolObject> working = new LinkedHashMap<>();
    private final Map<Fid, PoolObject> committed = new HashMap<>();
    private final StripedCounters counters = new StripedCounters();
    private final Map<Fid, Long> written = new LinkedHashMap<>();
    // The byte ranges of each written object's body this transaction changed (for the listener's
    // per-extent heat), rounded out to 64 KiB, merged, at most PoolListener.MAX_TOUCHED.
    private final Map<Fid, List<Span>> touched = new HashMap<>();
    // Placement advice set by this transaction, told to the listener once it committed.
    private final Map<Fid, String> advised = new LinkedHashMap<>();
    /** Objects whose updates continue an earlier transaction's access (not counted again). */
    private final Set<Fid> continued = new HashSet<>();
    // Objects whose spilled bytes a body change recalled (some or all), told to the listener with
    // what the metadata device then holds once the transaction committed.
    private final Set<Fid> recalled = new HashSet<>();
    // The ctime each touched DATA object must end with: a value a client set, or null for "now".
    private final Map<Fid, Long> ctime = new HashMap<>();
    // Write-commit: each touched object's committed policy xattr (null: none), the policy this
    // transaction sets (empty: deleted), and the devices declared for extra copies of objects
    // whose write may be sync.
    private final Map<Fid, WriteCommit> storedPolicy = new HashMap<>();
    private final Map<Fid, Optional<WriteCommit>> setPolicy = new HashMap<>();
    private final Map<Fid, List<PoolDevice>> syncCandidates = new HashMap<>();
    // The leased keys taken for them (one per candidate), and those a committed top transaction used.
    private final Map<Fid, List<Fid>> syncKeys = new HashMap<>();
    private final Set<Fid> usedKeys = new HashSet<>();
    // The copies a recall before a body change failed to read (the next copy holding those bytes
    // served them, or the change failed): marked bad once the locks are released (doRelease).
    private final List<BadRead> badReads = new ArrayList<>();

    /** A copy of {@code fid} whose read failed with {@code why}. */
    private record BadRead(Fid fid, Copy copy, OsdException why) {}

    // Write-around (docs/design.md, "Write-around"): the new bodies this transaction writes to a
    // background device instead of the fast tier (decided at start; empty once the top transaction
    // is stopped), those of objects it creates, the ones sealed into the top transaction, their
    // jobs (ended once it committed), and objects whose mtime the client set after their last write.
    private final Map<Fid, WriteAround.Body> around = new LinkedHashMap<>();
    private final Set<Fid> aroundCreated = new HashSet<>();
    private final Set<Fid> aroundDeclared = new HashSet<>();
    private final Set<Fid> aroundSealed = new HashSet<>();
    private final List<Job> aroundJobs = new ArrayList<>();
    private final Set<Fid> mtimeSet = new HashSet<>();
    // Bodies the client said later transactions go on writing (Transaction.bodyContinues).
    private final Set<Fid> continuing = new HashSet<>();
    private long aroundBytes;

    // Set before the metadata commit when the acknowledgement waits for extra copies.
    private volatile boolean deferCallbacks;
    // Whether stop must return only once the metadata commit is durable (a sync transaction, or
    // a sync policy without extra copies); then, once it committed, whether awaitDurable still
    // has to wait for it (after the locks are released).
    private boolean mdDurable;
    private boolean awaitMd;

    PoolTransaction(PoolOsd pool, PoolContext ctx) {
        super(ctx.transactions());
        this.ctx = ctx;
        this.pool = pool;
        this.mdIndex = ctx.metadata().index();
    }

    private Osd mdOsd() {
        return ctx.metadata().osd();
    }

    // ---- start ---------------------------------------------------------------------------

    @Override
    protected void doStart() throws OsdException {
        try {
            pool.ensureOpen();
            checkSpaceClass();
            List<Fid> busy = declares().stream().map(Declare::fid).toList();
            SpaceReclaimer r = pool.spaceReclaimer();
            planWriteAround();
            // A full fast tier: the writer waits its turn for room while the daemon spills (on the
            // head writer's own thread too: backpressure), for at most the configured time.
            try {
                ctx.roomQueue()
                        .start(
                                this::startMetadata,
                                r == null ? null : (bytes, deadline) -> r.reclaim(bytes, busy, deadline),
                                declaredBytes(4096) - aroundBytes,
                                spaceClass() == SpaceClass.CLIENT
                                        ? ctx.config().space().writerWait().toNanos()
                                        : 0,
                                "transaction " + id());
            } catch (OsdException | RuntimeException e) {
                abandonAround();
                throw e;
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /** One attempt to start the metadata transaction; on failure nothing of it is left. */
    private void startMetadata() throws OsdException {
        mdTx = mdOsd().newTransaction();
        mdStopped = false;
        aroundDeclared.clear();
        try {
            Set<Fid> created = createdHere();
            for (Fid f : created) {
                // A new object has no policy xattr of its own (nor, below, a record to load).
                storedPolicy.putIfAbsent(f, null);
            }
            for (Declare d : declares()) {
                translate(d, created);
            }
            declareSyncCopies();
            mdDurable = isSync();
            mdTx.setSync(mdDurable);
            mdTx.setSpaceClass(spaceClass());
            mdTx.start();
            mdTx.addCommitCallback((id, err) -> {
                // Under a sync policy the acknowledgement waits for the extra copies (doCommit).
                if (err != null || !deferCallbacks) {
                    fireCallbacks(err);
                }
            });
        } catch (OsdException | RuntimeException e) {
            stopMd();
            committed.clear();
            throw e;
        }
    }

    /**
     * A client may ask for {@link SpaceClass#FREEING} (a delete, or a garbage sweep, that must work
     * on a full pool), but not to bring data in with it, so that the reserve stays the pool's;
     * {@link SpaceClass#RESERVED} is the pool's own.
     */
    private void checkSpaceClass() throws OsdException {
        switch (spaceClass()) {
            case CLIENT -> {}
            case RESERVED ->
                throw new OsdException(
                        Errno.EINVAL,
                        ctx.name(),
                        null,
                        "transaction " + id()
                                + ": space class RESERVED is the pool's own; clients use CLIENT or FREEING");
            case FREEING -> {
                for (Declare d : declares()) {
                    if (d.op() == Declare.Op.CREATE || d.op() == Declare.Op.WRITE) {
                        throw new OsdException(
                                Errno.EINVAL,
                                ctx.name(),
                                d.fid(),
                                "transaction " + id() + " is FREEING but declares " + d
                                        + "; a transaction that gives space back may not bring data in");
                    }
                }
            }
        }
    }

    private Optional<PoolObject> committed(Fid f) throws OsdException {
        if (committed.containsKey(f)) {
            return Optional.ofNullable(committed.get(f));
        }
        Optional<PoolObject> o;
        try {
            o = ctx.store().load(f);
        } catch (OsdException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
            o = Optional.empty();
        }
        committed.put(f, o.orElse(null));
        return o;
    }

    /**
     * The DATA objects this transaction declares created, not destroyed, and that do not exist (one
     * existence check each, no exception): they have no committed state, so a new object's start
     * and commit load no record of it and build no ENOENT. One that exists is loaded as any other:
     * the client may update it before its create fails with EEXIST. The object locks are held, so
     * the answer stands until stop.
     */
    private Set<Fid> createdHere() throws OsdException {
        Set<Fid> created = new HashSet<>();
        Set<Fid> destroyed = new HashSet<>();
        for (Declare d : declares()) {
            if (d.op() == Declare.Op.CREATE && d.kind() == ObjectKind.DATA) {
                created.add(d.fid());
            } else if (d.op() == Declare.Op.DESTROY) {
                destroyed.add(d.fid());
            }
        }
        created.removeAll(destroyed);
        for (Iterator<Fid> it = created.iterator(); it.hasNext(); ) {
            if (mdOsd().exists(it.next())) {
                it.remove();
            }
        }
        return created;
    }

    private void translate(Declare d, Set<Fid> created) throws OsdException {
        Fid f = d.fid();
        pool.checkClientFid(f);
        switch (d.op()) {
            case CREATE -> {
                mdTx.declareCreate(f, d.kind());
                if (d.kind() == ObjectKind.DATA) {
                    ctx.store().declareClientChange(mdTx, f, Optional.empty());
                    DeviceIndex.declareInsert(mdTx, mdIndex, f);
                }
            }
            case DESTROY -> {
                mdTx.declareDestroy(f);
                DeviceIndex.declareDelete(mdTx, mdIndex, f);
                Optional<PoolObject> p = committed(f);
                if (p.isPresent()) {
                    declareCopyChanges(f, p.get());
                }
            }
            case WRITE, PUNCH, TRUNCATE -> {
                if (around.containsKey(f)) {
                    declareAround(f);
                    return;
                }
                switch (d.op()) {
                    case WRITE -> mdTx.declareWrite(f, d.offset(), d.length());
                    case PUNCH -> mdTx.declarePunch(f, d.offset(), d.length());
                    default -> mdTx.declareTruncate(f, d.offset());
                }
                Optional<PoolObject> p = created.contains(f) ? Optional.empty() : committed(f);
                ctx.store().declareClientChange(mdTx, f, p);
                if (p.isPresent()) {
                    if (!p.get().resident(mdIndex)) {
                        declareRecall(d, p.get());
                        DeviceIndex.declareInsert(mdTx, mdIndex, f);
                    }
                    declareCopyChanges(f, p.get());
                }
            }
            case SET_ATTR -> mdTx.declareSetAttr(f);
            case SET_XATTR -> mdTx.declareSetXattr(f, d.name(), (int) d.length());
            case DELETE_XATTR -> mdTx.declareDeleteXattr(f, d.name());
            case INSERT -> mdTx.declareInsert(f, d.keyLength(), (int) d.length());
            case DELETE -> mdTx.declareDelete(f, d.keyLength());
        }
    }

    /**
     * Decides which new bodies this transaction writes around the fast tier (docs/design.md,
     * "Write-around"): under {@code space.write-around: full} when the fast tier cannot give the
     * bytes they declare now (the writer would wait for room), under {@code always} whenever it can.
     * A body qualifies if the transaction creates its object, or the object is still empty and
     * resident (the S3 gateway's staged body), and changes it only by writes, and the client did not
     * say later transactions go on writing it ({@link #bodyContinues}); its write-commit
     * policy is async and the pool keeps one replica (a single copy is then what the policy asks).
     * Each gets a leased key on the first writable durable background device and its copy's device
     * transaction, started.
     */
    private void planWriteAround() throws OsdException {
        SpaceConfig.WriteAround mode = ctx.config().space().writeAround();
        if (mode == SpaceConfig.WriteAround.OFF
                || spaceClass() != SpaceClass.CLIENT
                || ctx.replicas() > 1
                || ctx.config().writeCommit().sync()) {
            return;
        }
        Map<Fid, List<long[]>> writes = new LinkedHashMap<>();
        Set<Fid> not = new HashSet<>();
        Set<Fid> creates = new HashSet<>();
        for (Declare d : declares()) {
            switch (d.op()) {
                case WRITE ->
                    writes.computeIfAbsent(d.fid(), k -> new ArrayList<>()).add(new long[] {d.offset(), d.length()});
                case PUNCH, TRUNCATE, DESTROY -> not.add(d.fid());
                case CREATE -> {
                    if (d.kind() == ObjectKind.DATA) {
                        creates.add(d.fid());
                    } else {
                        not.add(d.fid());
                    }
                }
                case SET_XATTR, DELETE_XATTR -> {
                    if (WriteCommit.XATTR.equals(d.name())) {
                        not.add(d.fid());
                    }
                }
                default -> {}
            }
        }
        writes.keySet().removeAll(not);
        // A body staged in several transactions stays where its later segments land: written
        // around, its second segment would find it not resident and recall the first onto the
        // full tier (written twice, read back twice).
        writes.keySet().removeAll(continuing);
        if (writes.isEmpty()) {
            return;
        }
        PoolDevice target = pool.writeAround().target();
        if (target == null) {
            return;
        }
        Map<Fid, Boolean> eligible = new LinkedHashMap<>();
        long bytes = 0;
        for (Map.Entry<Fid, List<long[]>> e : writes.entrySet()) {
            Fid f = e.getKey();
            pool.checkClientFid(f);
            boolean created = creates.contains(f);
            if (created && mdOsd().exists(f)) {
                continue; // its create fails with EEXIST
            }
            if (!created) {
                Optional<PoolObject> p = committed(f);
                if (p.isEmpty()
                        || p.get().size() != 0
                        || p.get().copies().size() != 1
                        || !p.get().resident(mdIndex)
                        || storedPolicy(f).sync()) {
                    continue;
                }
            }
            eligible.put(f, created);
            for (long[] r : e.getValue()) {
                bytes += r[1];
            }
        }
        if (eligible.isEmpty()) {
            return;
        }
        if (mode == SpaceConfig.WriteAround.FULL && fits(bytes)) {
            return;
        }
        for (Map.Entry<Fid, Boolean> e : eligible.entrySet()) {
            Fid f = e.getKey();
            WriteAround.Body b = pool.writeAround().open(f, target, writes.get(f));
            if (b == null) {
                continue; // the background device refused it: this body lands on the fast tier
            }
            around.put(f, b);
            if (e.getValue()) {
                aroundCreated.add(f);
            }
            for (long[] r : writes.get(f)) {
                aroundBytes += r[1];
            }
        }
    }

    /**
     * True if the fast tier takes {@code bytes} of new bodies now without passing the daemon's high
     * watermark ({@code policy.high-watermark}, when the configuration gives one): past it the
     * daemon would spill them again at once, so they are written around instead — or without
     * waiting for room (what clients may take, less the bytes writers already wait for).
     */
    private boolean fits(long bytes) throws OsdException {
        StatFs s = mdOsd().statfs();
        if (bytes > s.availableBytes() - ctx.roomQueue().waitingBytes()) {
            return false;
        }
        return !(ctx.config().policy().get("high-watermark") instanceof Number high)
                || s.totalBytes() - s.availableBytes() + bytes <= high.doubleValue() * s.totalBytes();
    }

    // A key whose text is as long as any (a background copy's layout names its key as text): a bound.
    private static final Fid LONGEST_KEY = new Fid(-1L, -1, -1);

    /**
     * Declares, once per body written around, what sealing it into the top transaction stores: the
     * record and layout with the background copy in sync (checksums for the furthest declared
     * write), its job, its device-index entry, counters, and the metadata device's resident entry
     * going (an existing empty body) — and no body bytes on the metadata device.
     */
    private void declareAround(Fid f) throws OsdException {
        if (!aroundDeclared.add(f)) {
            return;
        }
        WriteAround.Body b = around.get(f);
        long end = 0;
        for (Declare d : declares()) {
            if (d.op() == Declare.Op.WRITE && d.fid().equals(f)) {
                end = Math.max(end, d.offset() + d.length());
            }
        }
        PoolObject base = aroundCreated.contains(f)
                ? PoolObject.created(mdIndex, f)
                : committed(f).orElseThrow();
        int shift = Checksums.shiftFor(end, Checksums.MIN_SHIFT);
        int n = (int) ((end + (1L << shift) - 1) >>> shift);
        Copy bound = new Copy(
                base.nextMirrorId(),
                b.device().index(),
                LONGEST_KEY,
                CopyState.IN_SYNC,
                Long.MAX_VALUE,
                Long.MAX_VALUE,
                true,
                new Checksums(shift, new int[n]));
        ctx.store().declare(mdTx, f, base.bodyChanged(end, List.of(bound)).withBlocks(Long.MAX_VALUE));
        DeviceIndex.declareInsert(mdTx, b.device().index(), f);
        DeviceIndex.declareDelete(mdTx, mdIndex, f);
        WorkIndex.declareAdd(mdTx, f);
        Counters.declare(mdTx, f);
    }

    /** The bodies written around that will not be named by a top transaction: their copies go. */
    private void abandonAround() {
        for (WriteAround.Body b : around.values()) {
            b.abandon();
        }
        around.clear();
    }

    /**
     * In the top transaction, before it commits: each body written around is made durable on its
     * device and named in sync in the object's layout — its only copy — with its job.
     */
    private void sealAround() throws OsdException {
        for (Map.Entry<Fid, WriteAround.Body> e : around.entrySet()) {
            Fid f = e.getKey();
            WriteAround.Body b = e.getValue();
            PoolObject base =
                    working.containsKey(f) ? working.get(f) : committed(f).orElse(null);
            if (base == null) {
                continue;
            }
            if (!b.written()) {
                b.abandon();
                if (aroundCreated.contains(f)) {
                    DeviceIndex.insert(mdTx, mdIndex, f, f);
                }
                continue;
            }
            Copy c = b.seal(base.nextMirrorId(), base.dataVersion() + 1);
            PoolObject next = base.bodyChanged(b.size(), List.of(c))
                    .withBlocks((c.bytes() + 511) / 512)
                    .preferring(c.device());
            working.put(f, next);
            written.put(f, b.size());
            counters(f).add(c, CopyState.IN_SYNC, +1);
            DeviceIndex.insert(mdTx, c.device(), f, c.key());
            if (!aroundCreated.contains(f)) {
                DeviceIndex.delete(mdTx, mdIndex, f, f);
            }
            Job j = pool.writeAround().job(f, c);
            WorkIndex.add(mdTx, j);
            aroundJobs.add(j);
            aroundSealed.add(f);
        }
    }

    /**
     * Declares the recall a body change of a non-resident object may make before it (see {@link
     * #beforeBodyChange}): the whole body, or for a split body (issue 20) changed within its size
     * and never under a sync policy, only the spilled ranges the change overlaps — a split body may
     * be far larger than the fast tier's free space, and a write to its resident ranges recalls
     * nothing. A touched range without an in-sync copy of its own may be recalled from a whole
     * copy: then the whole body is declared, as before.
     */
    private void declareRecall(Declare d, PoolObject p) throws OsdException {
        Fid f = d.fid();
        long size = p.size();
        long from = d.offset();
        long to = switch (d.op()) {
            case WRITE -> d.offset() + d.length();
            case PUNCH -> d.length() >= size - d.offset() ? size : d.offset() + d.length();
            default -> Long.MAX_VALUE;
        };
        boolean maybeSync = ctx.config().writeCommit().sync()
                || storedPolicy(f).sync()
                || declares().stream().anyMatch(x -> x.fid().equals(f) && WriteCommit.XATTR.equals(x.name()));
        if (!p.split(mdIndex) || to > size || maybeSync || !rangesHoldTheRest(p)) {
            mdTx.declareWrite(f, 0, size);
            return;
        }
        Copy local = p.on(mdIndex).orElseThrow();
        List<Span> have = new ArrayList<>(local.held());
        List<long[]> recalls = new ArrayList<>();
        for (Copy c : p.ranges(mdIndex)) {
            Span sp = c.spans().get(0);
            long end = Math.min(sp.end(), size);
            if (c.state() != CopyState.IN_SYNC
                    || sp.start() >= to
                    || end <= from
                    || Span.covers(have, sp.start(), end)) {
                continue;
            }
            recalls.add(new long[] {sp.start(), end - sp.start()});
            have.add(sp);
            have = new ArrayList<>(Span.normalize(have));
        }
        if (!Span.covers(have, Math.min(from, size), Math.min(to, size))) {
            mdTx.declareWrite(f, 0, size);
            return;
        }
        for (long[] r : recalls) {
            mdTx.declareWrite(f, r[0], r[1]);
        }
    }

    /** Declares what staling or collecting the object's copies on other devices needs. */
    private void declareCopyChanges(Fid f, PoolObject p) throws OsdException {
        boolean others = p.copies().stream().anyMatch(c -> c.device() != mdIndex);
        if (!others) {
            return;
        }
        WorkIndex.declareRemove(mdTx, f);
        Counters.declare(mdTx, f);
        for (Copy c : p.copies()) {
            if (c.device() != mdIndex) {
                // A GC or RESYNC job per part (a striped copy has one per stripe).
                for (int i = 0; i < c.parts().size(); i++) {
                    WorkIndex.declareAdd(mdTx, f);
                }
                DeviceIndex.declareDelete(mdTx, f, c);
            }
        }
    }

    /** The pool's write-commit policy for {@code f} as committed: its xattr, else the pool's. */
    private WriteCommit storedPolicy(Fid f) throws OsdException {
        if (storedPolicy.containsKey(f)) {
            WriteCommit w = storedPolicy.get(f);
            return w == null ? ctx.config().writeCommit() : w;
        }
        WriteCommit w = null;
        if (committed(f).isPresent()) {
            try {
                w = parsePolicy(f, mdOsd().getXattr(f, WriteCommit.XATTR));
            } catch (OsdException e) {
                if (!e.is(Errno.ENODATA) && !e.is(Errno.ENOENT)) {
                    throw e;
                }
            }
        }
        storedPolicy.put(f, w);
        return w == null ? ctx.config().writeCommit() : w;
    }

    private WriteCommit parsePolicy(Fid f, byte[] value) throws OsdException {
        try {
            return WriteCommit.parse(new String(value, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EINVAL, ctx.name(), f, "xattr " + WriteCommit.XATTR + ": " + e.getMessage());
        }
    }

    /** The write-commit policy the object's write in this transaction is acknowledged under. */
    private WriteCommit policy(Fid f) throws OsdException {
        Optional<WriteCommit> set = setPolicy.get(f);
        if (set != null) {
            return set.orElse(ctx.config().writeCommit());
        }
        return storedPolicy(f);
    }

    /**
     * For every DATA object whose body this transaction may change under a sync policy (the pool's,
     * the object's, or one the transaction may set), declares the extra copies on every device
     * that may take one: their pending mirrors, COPY jobs, device-index entries and counters.
     */
    private void declareSyncCopies() throws OsdException {
        returnSyncKeys();
        Set<Fid> bodies = new LinkedHashSet<>();
        Set<Fid> created = new HashSet<>();
        Set<Fid> policySet = new HashSet<>();
        for (Declare d : declares()) {
            switch (d.op()) {
                case CREATE -> {
                    if (d.kind() == ObjectKind.DATA) {
                        created.add(d.fid());
                        bodies.add(d.fid());
                    }
                }
                case WRITE, PUNCH, TRUNCATE -> bodies.add(d.fid());
                case SET_XATTR, DELETE_XATTR -> {
                    if (WriteCommit.XATTR.equals(d.name())) {
                        policySet.add(d.fid());
                    }
                }
                default -> {}
            }
        }
        SyncCommit sc = pool.syncCommit();
        for (Fid f : bodies) {
            Optional<PoolObject> p = created.contains(f) ? Optional.empty() : committed(f);
            if (p.isEmpty() && !created.contains(f)) {
                continue; // an INDEX object, or missing: the device's own update says which
            }
            boolean maybe = policySet.contains(f)
                    || ctx.config().writeCommit().sync()
                    || (p.isPresent() && storedPolicy(f).sync());
            if (!maybe) {
                continue;
            }
            List<PoolDevice> cands = sc.candidates(p);
            List<Fid> keys = sc.keys(cands);
            syncCandidates.put(f, cands);
            syncKeys.put(f, keys);
            sc.declare(mdTx, f, cands, keys);
            PoolObject bound = p.map(
                            x -> x.resident(mdIndex) ? x : x.add(ctx.store().localCopy(x, f)))
                    .orElseGet(() -> PoolObject.created(mdIndex, f));
            ctx.store().declare(mdTx, f, sc.bound(bound, cands));
        }
    }

    /** The leased keys this transaction took and its committed top transaction did not use go back. */
    private void returnSyncKeys() {
        SyncCommit sc = pool.syncCommit();
        for (Map.Entry<Fid, List<Fid>> e : syncKeys.entrySet()) {
            sc.giveBack(syncCandidates.get(e.getKey()), e.getValue(), usedKeys);
        }
        syncCandidates.clear();
        syncKeys.clear();
    }

    /**
     * In the top transaction, before it commits: the extra copies of every object written under a
     * sync policy enter its layout as pending, with their COPY jobs. A policy that cannot be met
     * with the devices writable now fails the transaction before anything is committed.
     */
    private List<SyncCommit.Write> beginSyncCopies() throws OsdException {
        List<SyncCommit.Write> out = new ArrayList<>();
        SyncCommit sc = pool.syncCommit();
        boolean force = false;
        for (Fid f : written.keySet()) {
            PoolObject p = working.get(f);
            if (p == null) {
                continue;
            }
            WriteCommit wc = policy(f);
            if (!wc.sync()) {
                continue;
            }
            force = true;
            int extra = sc.extraCopies(wc);
            if (extra == 0) {
                continue;
            }
            List<PoolDevice> cands = syncCandidates.get(f);
            if (cands == null) {
                throw new OsdException(
                        Errno.EINVAL,
                        ctx.name(),
                        f,
                        "transaction " + id() + ": write-commit '" + wc + "' set on an object whose body change was"
                                + " not declared with it");
            }
            if (cands.size() < sc.extraMin(wc)) {
                throw new OsdException(
                        Errno.EIO,
                        ctx.name(),
                        f,
                        "write-commit '" + wc + "' needs " + sc.extraMin(wc) + " durable cop"
                                + (sc.extraMin(wc) == 1 ? "y" : "ies") + " besides " + mdOsd().name() + ", but only "
                                + cands.size() + " writable durable background device(s) are left (see spillway"
                                + " device list); nothing was written");
            }
            List<Job> jobs = new ArrayList<>();
            PoolObject begun = sc.begin(
                    mdTx, counters(f), f, p, cands.subList(0, Math.min(extra, cands.size())), syncKeys.get(f), jobs);
            // Stored as it is by doCommit, which follows.
            working.put(f, begun);
            out.add(new SyncCommit.Write(f, wc, jobs, cands, begun));
        }
        if (!out.isEmpty()) {
            // The top transaction is forced side by side with the extra copies (SyncCommit.complete).
            mdDurable = false;
        } else if (force) {
            mdDurable = true;
        }
        return out;
    }

    // ---- updates -------------------------------------------------------------------------

    /** The object's working pool state, or empty for an INDEX object. @throws OsdException ENOENT */
    private Optional<PoolObject> work(Fid f) throws OsdException {
        if (working.containsKey(f)) {
            PoolObject p = working.get(f);
            if (p == null) {
                throw new OsdException(
                        Errno.ENOENT, mdOsd().name(), f, "no such object (destroyed in this transaction)");
            }
            return Optional.of(p);
        }
        // Empty for INDEX objects and missing ones: the metadata device's own update then says which.
        return committed(f);
    }

    private Counters counters(Fid f) {
        return counters.of(f);
    }

    @Override
    protected void doCreate(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
        try {
            pool.checkClientFid(fid);
            if (working.containsKey(fid) && working.get(fid) != null) {
                throw new OsdException(Errno.EEXIST, mdOsd().name(), fid, "object exists");
            }
            mdTx.create(fid, kind, attrs);
            if (kind == ObjectKind.DATA) {
                ctime.put(fid, attrs.has(AttrField.CTIME) ? attrs.ctime() : null);
                working.put(fid, PoolObject.created(mdIndex, fid));
                written.put(fid, 0L);
                if (!around.containsKey(fid)) {
                    // A body written around gets its resident entry only if it stays here (sealAround).
                    DeviceIndex.insert(mdTx, mdIndex, fid, fid);
                }
            } else {
                working.remove(fid);
                committed.put(fid, null);
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doDestroy(Fid fid) throws OsdException {
        destroy(fid, false);
    }

    @Override
    protected boolean doDestroyIfExists(Fid fid) throws OsdException {
        return destroy(fid, true);
    }

    private boolean destroy(Fid fid, boolean ifExists) throws OsdException {
        try {
            pool.checkClientFid(fid);
            if (ifExists && working.containsKey(fid) && working.get(fid) == null) {
                return false; // destroyed earlier in this transaction
            }
            Optional<PoolObject> p = work(fid);
            if (ifExists) {
                if (!mdTx.destroyIfExists(fid)) {
                    return false;
                }
            } else {
                mdTx.destroy(fid);
            }
            if (p.isPresent()) {
                for (Copy c : p.get().copies()) {
                    if (c.device() == mdIndex) {
                        DeviceIndex.delete(mdTx, mdIndex, fid, fid);
                    } else {
                        collect(fid, c);
                    }
                }
                if (p.get().copies().stream().anyMatch(c -> c.device() != mdIndex)) {
                    for (Job j : WorkIndex.of(mdOsd(), fid)) {
                        if (j.kind() == Job.Kind.RESYNC) {
                            WorkIndex.remove(mdTx, j);
                        }
                    }
                }
                working.put(fid, null);
            }
            written.remove(fid);
            touched.remove(fid);
            return true;
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /** The copy leaves the layout: a GC job deletes it from its device. */
    private void collect(Fid fid, Copy c) throws OsdException {
        if (c.state() != CopyState.PENDING) {
            // A pending copy's own COPY job still owns it; it collects it when it finds the object changed.
            for (Job j : Job.perPart(Job.Kind.GC, fid, c, c.version(), ctx.nowNanos())) {
                WorkIndex.add(mdTx, j);
            }
            counters(fid).move(c, c.state(), CopyState.GARBAGE);
            DeviceIndex.delete(mdTx, fid, c);
        }
    }

    @Override
    protected void doSetAttr(Fid fid, AttrChange change) throws OsdException {
        try {
            pool.checkClientFid(fid);
            mdTx.setAttr(fid, change);
            ctime.put(fid, change.has(AttrField.CTIME) ? change.ctime() : null);
            if (change.has(AttrField.MTIME)) {
                mtimeSet.add(fid);
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /** Makes the body resident (recalling it if it is only elsewhere) before a body change. */
    private PoolObject beforeBodyChange(Fid fid, PoolObject p) throws OsdException {
        return beforeBodyChange(fid, p, 0, Long.MAX_VALUE);
    }

    /**
     * Makes the bytes {@code [from, to)} a body change touches resident before it: a split body
     * (issue 20) recalls only the ranges that overlap them, unless the change grows the body (a
     * copy of a range to EOF would no longer hold all of it) or the object may be written under a
     * sync policy (its sync copies are made from the body on the metadata device, which must then
     * be whole); anything else not resident is recalled whole.
     */
    private PoolObject beforeBodyChange(Fid fid, PoolObject p, long from, long to) throws OsdException {
        return beforeBodyChange(fid, p, from, to, false);
    }

    /**
     * As {@link #beforeBodyChange(Fid, PoolObject, long, long)}; {@code fills} says the change
     * writes every byte of {@code [from, to)} (a write, not a punch: a punch past the end of the
     * metadata device's object would not extend it to the logical size).
     */
    private PoolObject beforeBodyChange(Fid fid, PoolObject p, long from, long to, boolean fills) throws OsdException {
        if (p.resident(mdIndex)) {
            return p;
        }
        recalled.add(fid);
        if (p.split(mdIndex)) {
            if (to <= p.size() && !syncCandidates.containsKey(fid) && rangesHoldTheRest(p)) {
                return recallTouched(fid, p, from, to, fills);
            }
            return recallRanges(fid, p);
        }
        // Spilled whole: read from its whole copies, the next serving what one fails to.
        recall(fid, p, p.size() == 0 ? List.of() : List.of(new Span(0, Span.EOF)));
        DeviceIndex.insert(mdTx, mdIndex, fid, fid);
        Copy local = new Copy(
                p.nextMirrorId(), mdIndex, fid, CopyState.IN_SYNC, p.dataVersion(), p.size(), true, Checksums.NONE);
        return p.add(local).preferring(mdIndex);
    }

    /**
     * Writes bytes {@code spans} of {@code p}'s body into it on the metadata device, in this
     * transaction, from the copies holding them ({@link SplitBody#recall}): a copy whose read fails
     * is passed over for the next one holding those bytes, and marked bad once the transaction has
     * ended and the object's lock is released ({@link #doRelease}); if no copy can serve them the
     * change fails with EIO naming the object, the devices and what to do.
     */
    private void recall(Fid fid, PoolObject p, List<Span> spans) throws OsdException {
        SplitBody.recall(
                mdTx,
                mdIndex,
                ctx::device,
                ctx::readable,
                fid,
                p,
                spans,
                (c, e) -> badReads.add(new BadRead(fid, c, e)),
                mdOsd().name(),
                "the change to the body");
    }

    /**
     * True if the body on the metadata device and the copies of ranges hold every byte of
     * split body {@code p}: a change may then recall only what it touches. A body promoted by range
     * from a whole copy (its hot extents home, the rest only in the whole copy) is recalled whole
     * before a change, as a body spilled whole is: the change makes the whole copy stale (or
     * garbage), and it is all that holds the rest.
     */
    private boolean rangesHoldTheRest(PoolObject p) {
        List<Span> have = new ArrayList<>(p.on(mdIndex).orElseThrow().held());
        // A copy of a range lost or stale still answers for its range as before (a change that
        // does not touch it leaves it as it is); only bytes no copy of a range was made for are
        // the whole copies' alone.
        for (Copy c : p.ranges(mdIndex)) {
            have.addAll(c.spans());
        }
        return Span.covers(have, 0, p.size());
    }

    /**
     * A split body (issue 20) is made whole before a body change: every range the metadata device
     * does not hold is written back from an in-sync copy of it, in this transaction; the copies of
     * the ranges are collected by {@link #bodyChanged} with the other copies.
     */
    private PoolObject recallRanges(Fid fid, PoolObject p) throws OsdException {
        Copy local = p.on(mdIndex).orElseThrow();
        recall(fid, p, Span.gaps(local.held(), 0, p.size(), p.size()));
        Copy back = local.withSpans(List.of());
        return p.replace(back.mirrorId(), c -> back).preferring(mdIndex);
    }

    /**
     * Recalls the spilled ranges of a split body that overlap {@code [from, to)}; the body's copy
     * then holds them too, and {@link #bodyChanged} collects their copies while the copies of the
     * ranges not touched stay in sync (their bytes did not change).
     */
    private PoolObject recallTouched(Fid fid, PoolObject p, long from, long to, boolean fills) throws OsdException {
        Copy local = p.on(mdIndex).orElseThrow();
        List<Span> have = new ArrayList<>(local.held());
        // A range a write overwrites whole needs none of its old bytes (nor a readable copy of
        // them: one lost with its device is made whole again by a rewrite): the write fills it.
        for (Copy c : fills ? p.ranges(mdIndex) : List.<Copy>of()) {
            Span sp = c.spans().get(0);
            if (c.state() != CopyState.PENDING && sp.start() >= from && Math.min(sp.end(), p.size()) <= to) {
                have.add(sp);
            }
        }
        have = new ArrayList<>(Span.normalize(have));
        // The same ranges declareRecall declared: the in-sync copies of ranges the change overlaps.
        List<Span> need = new ArrayList<>();
        for (Copy c : p.ranges(mdIndex)) {
            Span sp = c.spans().get(0);
            long end = Math.min(sp.end(), p.size());
            if (c.state() != CopyState.IN_SYNC
                    || sp.start() >= to
                    || end <= from
                    || Span.covers(have, sp.start(), end)) {
                continue;
            }
            need.addAll(Span.gaps(have, sp.start(), end, p.size()));
            have.add(sp);
            have = new ArrayList<>(Span.normalize(have));
        }
        if (!Span.covers(have, Math.min(from, p.size()), Math.min(to, p.size()))) {
            return recallRanges(fid, p);
        }
        // Read from the copy of each range, or (it unreadable, or failing its read) from another
        // copy holding those bytes: a whole copy.
        recall(fid, p, Span.normalize(need));
        // Holding every byte of the body, the copy is whole again (its spans may end at the size).
        Copy back = local.withSpans(Span.covers(have, 0, p.size()) ? List.of() : Span.normalize(have));
        return p.replace(back.mirrorId(), c -> back).preferring(mdIndex);
    }

    /** After a body change: version + 1, and every other copy stale (replicas > 1, durable devices) or collected. */
    private void bodyChanged(Fid fid, PoolObject p, long newSize) throws OsdException {
        List<Copy> kept = new ArrayList<>();
        for (Copy c : p.copies()) {
            if (c.device() == mdIndex || c.state() == CopyState.PENDING) {
                kept.add(c.device() == mdIndex ? c.inSync(p.dataVersion() + 1, newSize, c.checksums()) : c);
            } else if (!c.whole()) {
                Copy local = p.on(mdIndex).orElseThrow();
                Span sp = c.spans().get(0);
                if (c.state() == CopyState.IN_SYNC
                        && newSize == p.size()
                        && !Span.covers(local.held(), sp.start(), Math.min(sp.end(), p.size()))) {
                    // A range the change did not touch (it was not recalled): its bytes are the
                    // same in the new version.
                    kept.add(c.inSync(p.dataVersion() + 1, c.bytes(), c.checksums()));
                } else {
                    // Recalled into the body before this change: collected, never resynced.
                    collect(fid, c);
                }
            } else if (ctx.replicas() > 1
                    && c.state() == CopyState.IN_SYNC
                    && ctx.device(c.device()).durability() > 0) {
                // A cache copy is not resynced: it is collected below, the next promotion recaches.
                kept.add(c.withState(CopyState.STALE));
                counters(fid).move(c, CopyState.IN_SYNC, CopyState.STALE);
                WorkIndex.add(
                        mdTx,
                        new Job(
                                Job.Kind.RESYNC,
                                fid,
                                c.device(),
                                c.key(),
                                p.dataVersion() + 1,
                                c.bytes(),
                                ctx.nowNanos(),
                                0));
            } else if (c.state() == CopyState.STALE) {
                kept.add(c);
            } else {
                collect(fid, c);
            }
        }
        working.put(fid, p.bodyChanged(newSize, kept).preferring(mdIndex));
        ctime.put(fid, null);
        written.put(fid, newSize);
    }

    @Override
    protected void doWrite(Fid fid, long offset, ByteBuffer src) throws OsdException {
        try {
            pool.checkClientFid(fid);
            Optional<PoolObject> p = work(fid);
            if (p.isEmpty()) {
                mdTx.write(fid, offset, src);
                return;
            }
            long end = offset + src.remaining();
            if (end > pool.capabilities().maxObjectSize()) {
                throw new OsdException(
                        Errno.EFBIG,
                        ctx.name(),
                        fid,
                        "write ends at " + end + ", past the largest object "
                                + pool.capabilities().maxObjectSize() + " of this pool's devices");
            }
            WriteAround.Body b = around.get(fid);
            if (b != null) {
                // Around the fast tier: the bytes go to the copy only (sealed at commit).
                b.write(offset, src);
                written.put(fid, b.size());
                ctime.put(fid, null);
                mtimeSet.remove(fid);
                touch(fid, offset, end);
                return;
            }
            PoolObject r = beforeBodyChange(fid, p.get(), offset, end, true);
            mdTx.write(fid, offset, src);
            bodyChanged(fid, r, Math.max(r.size(), end));
            touch(fid, offset, end);
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doPunch(Fid fid, long offset, long length) throws OsdException {
        try {
            pool.checkClientFid(fid);
            Optional<PoolObject> p = work(fid);
            if (p.isEmpty()) {
                mdTx.punch(fid, offset, length);
                return;
            }
            long size = p.get().size();
            long to = length >= size - offset ? size : offset + Math.max(0, length);
            PoolObject r = beforeBodyChange(fid, p.get(), offset, to);
            mdTx.punch(fid, offset, length);
            bodyChanged(fid, r, r.size());
            touch(fid, offset, to);
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doTruncate(Fid fid, long size) throws OsdException {
        try {
            pool.checkClientFid(fid);
            Optional<PoolObject> p = work(fid);
            if (p.isEmpty()) {
                mdTx.truncate(fid, size);
                return;
            }
            PoolObject r = beforeBodyChange(fid, p.get());
            mdTx.truncate(fid, size);
            bodyChanged(fid, r, size);
            touch(fid, Math.min(size, r.size()), Math.max(size, r.size()));
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /**
     * Notes that this transaction changed {@code [from, to)} of {@code fid}'s body: rounded out to
     * 64 KiB (extent sizes are multiples of it, so the extents it touches are the same), merged; past
     * {@link PoolListener#MAX_TOUCHED} ranges the two closest are joined (a superset, never less).
     */
    private void touch(Fid fid, long from, long to) {
        if (to <= from || from < 0) {
            return;
        }
        long a = from - from % Span.ALIGN;
        long b = to % Span.ALIGN == 0 ? to : to - to % Span.ALIGN + Span.ALIGN;
        List<Span> now = new ArrayList<>(touched.getOrDefault(fid, List.of()));
        now.add(new Span(a, b));
        List<Span> merged = new ArrayList<>(Span.normalize(now));
        while (merged.size() > PoolListener.MAX_TOUCHED) {
            int best = 0;
            for (int i = 1; i + 1 < merged.size(); i++) {
                if (merged.get(i + 1).start() - merged.get(i).end()
                        < merged.get(best + 1).start() - merged.get(best).end()) {
                    best = i;
                }
            }
            merged.set(
                    best,
                    new Span(merged.get(best).start(), merged.get(best + 1).end()));
            merged.remove(best + 1);
        }
        touched.put(fid, List.copyOf(merged));
    }

    private void checkName(Fid fid, String name) throws OsdException {
        if (PoolObjectStore.reservedXattr(name)) {
            throw new OsdException(
                    Errno.EPERM, ctx.name(), fid, "xattr " + name + " is the pool's own and cannot be changed");
        }
    }

    @Override
    protected void doSetXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        try {
            pool.checkClientFid(fid);
            checkName(fid, name);
            // A malformed policy is refused before it lands.
            Optional<WriteCommit> policySet =
                    name.equals(WriteCommit.XATTR) ? Optional.of(parsePolicy(fid, value)) : Optional.empty();
            mdTx.setXattr(fid, name, value, flag);
            ctime.put(fid, null);
            if (name.equals(PlacementHint.XATTR)) {
                advised.put(fid, new String(value, StandardCharsets.US_ASCII));
            }
            if (policySet.isPresent()) {
                setPolicy.put(fid, policySet);
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doDeleteXattr(Fid fid, String name) throws OsdException {
        try {
            pool.checkClientFid(fid);
            checkName(fid, name);
            mdTx.deleteXattr(fid, name);
            ctime.put(fid, null);
            if (name.equals(WriteCommit.XATTR)) {
                setPolicy.put(fid, Optional.empty());
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doInsert(Fid index, byte[] key, byte[] value, boolean replace) throws OsdException {
        try {
            pool.checkClientFid(index);
            if (replace) {
                mdTx.upsert(index, key, value);
            } else {
                mdTx.insert(index, key, value);
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doDelete(Fid index, byte[] key) throws OsdException {
        try {
            pool.checkClientFid(index);
            mdTx.delete(index, key);
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /** Placement counts {@code fid} once for the run of transactions (see {@link PoolListener}). */
    @Override
    public void continuesAccess(Fid fid) {
        continued.add(fid);
    }

    /** A body later transactions go on writing is never written around (see {@link #planWriteAround}). */
    @Override
    public void bodyContinues(Fid fid) {
        continuing.add(fid);
    }

    // ---- end -----------------------------------------------------------------------------

    @Override
    protected void doCommit() throws OsdException {
        try {
            List<SyncCommit.Write> syncWrites;
            try {
                sealAround();
                syncWrites = beginSyncCopies();
                for (Map.Entry<Fid, PoolObject> e : working.entrySet()) {
                    if (e.getValue() != null) {
                        Long c = ctime.get(e.getKey());
                        long now = ctx.nowNanos();
                        AttrChange times = AttrChange.none().ctime(c != null ? c : now);
                        if (aroundSealed.contains(e.getKey()) && !mtimeSet.contains(e.getKey())) {
                            // Its body was written elsewhere: the write's mtime, as the fast tier would set it.
                            times = times.mtime(now);
                        }
                        ctx.store().store(mdTx, e.getKey(), e.getValue(), times);
                    }
                }
                counters.flush(mdTx, mdOsd());
            } catch (OsdException | RuntimeException e) {
                // Nothing of a transaction that failed before its commit may land (its release
                // would otherwise stop, and so commit, what the metadata transaction holds).
                mdTx.abort();
                abandonAround();
                throw e;
            }
            deferCallbacks = !syncWrites.isEmpty();
            // A durable commit is committed unforced here and waited for in awaitDurable, once
            // the objects' locks are released (early lock release: the metadata device keeps a
            // prefix of its commit order, so whatever takes these objects next is durable only
            // with this commit; concurrent writers of one index — an S3 bucket's keys — then share
            // a force instead of holding the index through one force each). A sync write's top
            // transaction is forced under the locks, side by side with its copies.
            // Only on a metadata device whose commits are transactions, durable in commit order
            // (osd-kv, osd-vfs with its journal, osd-mem); elsewhere the commit is forced under
            // the locks, as before.
            Capabilities mdCaps = mdOsd().capabilities();
            if (mdDurable && mdCaps.has(Capability.TRANSACTIONS) && mdCaps.has(Capability.DURABLE_COMMIT)) {
                awaitMd = true;
                mdTx.setSync(false);
            } else {
                mdTx.setSync(mdDurable);
            }
            mdStopped = true;
            // From here the copies written around are named by the top transaction (or, if its
            // commit fails, by their leases): never deleted by this transaction any more.
            around.clear();
            mdTx.stop();
            for (Job j : aroundJobs) {
                pool.writeAround().end(j);
            }
            for (SyncCommit.Write w : syncWrites) {
                w.jobs().forEach(j -> usedKeys.add(j.key()));
            }
            OsdException syncFailed = null;
            if (deferCallbacks) {
                // The top transaction is committed, not yet durable: its force and the extra copies
                // side by side, the object locks still held.
                try {
                    pool.syncCommit().complete(syncWrites);
                } catch (OsdException | RuntimeException e) {
                    syncFailed = e instanceof OsdException oe
                            ? oe
                            : new OsdException(Errno.EIO, ctx.name(), null, "sync copies failed: " + e, e);
                }
                fireCallbacks(syncFailed);
            }
            PoolListener l = pool.listener();
            for (Map.Entry<Fid, PoolObject> e : working.entrySet()) {
                if (e.getValue() == null) {
                    l.destroyed(e.getKey());
                }
            }
            for (Fid f : recalled) {
                PoolObject w = working.get(f);
                if (w != null) {
                    l.recalled(
                            f,
                            w.size(),
                            w.resident(mdIndex)
                                    ? List.of(new Span(0, Span.EOF))
                                    : w.on(mdIndex).map(Copy::held).orElse(List.of()));
                }
            }
            for (Map.Entry<Fid, Long> e : written.entrySet()) {
                List<Span> t = touched.getOrDefault(e.getKey(), List.of());
                if (continued.contains(e.getKey())) {
                    l.resized(e.getKey(), e.getValue(), t);
                } else {
                    l.written(e.getKey(), e.getValue(), t);
                }
            }
            for (Map.Entry<Fid, String> e : advised.entrySet()) {
                if (working.get(e.getKey()) != null || !working.containsKey(e.getKey())) {
                    l.advised(e.getKey(), e.getValue());
                }
            }
            if (syncFailed != null) {
                // Told to the listener first: the daemon restores replicas of what was committed.
                throw syncFailed;
            }
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    /** A durable commit's wait, after the locks are released (see doCommit). */
    @Override
    protected void awaitDurable() throws OsdException {
        if (!awaitMd) {
            return;
        }
        awaitMd = false;
        try {
            mdOsd().sync();
        } catch (OsdException e) {
            throw e.via(ctx.name());
        }
    }

    @Override
    protected void doDiscard() throws OsdException {
        if (mdTx != null && !mdStopped) {
            mdTx.abort();
            stopMd();
        }
        abandonAround();
    }

    @Override
    protected void doRelease() {
        stopMd();
        abandonAround();
        returnSyncKeys();
        // Whatever this transaction held or freed is back: a waiting writer may find room.
        ctx.roomQueue().roomMade();
        markBad();
    }

    /**
     * Marks bad the copies a recall failed to read, as a failed read of a copy is ({@code
     * Migrator.markBad}: STALE with a RESYNC job, never the last in-sync copy holding its bytes), the
     * locks released. A copy this transaction's change made stale or garbage is left as it is; a
     * failed device's copies are the lost-marking pass's.
     */
    private void markBad() {
        for (BadRead r : badReads) {
            if (ctx.device(r.copy().device()).state() == DeviceState.FAILED) {
                continue;
            }
            try {
                pool.migrator().markBad(r.fid(), r.copy(), r.why());
            } catch (OsdException | RuntimeException notNow) {
                // Scrub (or the next read of it) finds it.
            }
        }
        badReads.clear();
    }

    private void stopMd() {
        if (mdTx != null && !mdStopped) {
            mdStopped = true;
            try {
                mdTx.stop();
            } catch (OsdException e) {
                // Nothing of this transaction was committed; its callbacks already carry the error.
            }
        }
    }
}
