package dev.spillway.gateway.s3.lifecycle;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.DueWork;
import dev.spillway.gateway.s3.store.DueWork.Entry;
import dev.spillway.gateway.s3.store.DueWork.Kind;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.Records.UploadRecord;
import dev.spillway.gateway.s3.store.Uploads;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.OsdException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Carries out what is due: lifecycle expirations, transitions to a storage class's tier, prompt
 * placement of versions written with a storage class, aborts of uploads left incomplete, and the
 * backfill that schedules a new configuration's work for what a bucket already holds. It reads
 * only the entries that are due ({@link DueWork}), bucket by bucket — never the keys of a
 * bucket to find them (the backfill, once per configuration change, is the exception, in
 * batches).
 *
 * <p>Each entry is checked against the version and the configuration as they are now, carried
 * out if it still holds, then removed; an action and its removal are two transactions, so after
 * a crash an entry may be carried out twice, which each action tolerates (it finds the work
 * done). A version under object lock is not removed: its entry comes back when the lock ends.
 * The server runs {@link #runOnce} as a chore of the migration daemon; tests call it directly.
 */
public final class LifecycleWorker {
    static final int BACKFILL_BATCH = 256;
    private static final long DAY = 86_400_000L;

    private final Namespace ns;
    private final BucketObjects store;
    private final Uploads uploads;
    private final LifecyclePlanner planner;
    private volatile TierMover mover = TierMover.NONE;
    private volatile String lastError;

    public LifecycleWorker(Namespace ns, BucketObjects store, Uploads uploads, LifecyclePlanner planner) {
        this.ns = ns;
        this.store = store;
        this.uploads = uploads;
        this.planner = planner;
    }

    /** Sets what moves bodies between the pool's tiers (the server's pool migrator). */
    public void mover(TierMover m) {
        this.mover = m;
    }

    /** The last failure of an entry (it stays and is retried on the next pass), or null. */
    public String lastError() {
        return lastError;
    }

    /**
     * Carries out up to {@code max} due entries over every bucket.
     *
     * @return how many entries were handled (carried out or found no longer to apply)
     */
    public int runOnce(int max) throws OsdException {
        long now = ns.nowMillis();
        int done = 0;
        for (Map.Entry<String, BucketRecord> b : ns.buckets().entrySet()) {
            if (b.getValue().meta().due() == null) {
                continue;
            }
            for (Entry e : ns.dueWork().due(b.getValue(), now, max - done)) {
                try {
                    // The bucket record may have changed (versioning turned on): read it again.
                    BucketRecord cur = ns.findBucket(b.getKey()).orElse(null);
                    if (cur == null) {
                        break;
                    }
                    handle(b.getKey(), cur, e, now);
                    ns.dueWork().remove(cur, e);
                    done++;
                } catch (S3Exception x) {
                    // Not a device failure: retrying would fail the same way. Reported, dropped.
                    lastError = e.kind() + " of " + b.getKey() + "/" + new String(e.key()) + ": " + x.getMessage();
                    try {
                        ns.dueWork().remove(b.getValue(), e);
                    } catch (S3Exception ignored) {
                        // the bucket went away meanwhile: its entries went with it
                    }
                } catch (OsdException x) {
                    lastError = e.kind() + " of " + b.getKey() + "/" + new String(e.key()) + ": " + x.getMessage();
                    if (!x.is(Errno.ENOENT)) {
                        throw x;
                    }
                }
                if (done >= max) {
                    return done;
                }
            }
        }
        return done;
    }

    /** Entries waiting over every bucket (tests, the admin view). */
    public long pending() throws OsdException {
        long n = 0;
        for (BucketRecord b : ns.buckets().values()) {
            n += ns.dueWork().pending(b);
        }
        return n;
    }

    private void handle(String bucket, BucketRecord b, Entry e, long now) throws OsdException, S3Exception {
        LifecycleConfiguration conf = planner.configuration(bucket);
        LifecycleConfiguration.Rule rule = conf == null || e.ruleId() == null ? null : conf.rule(e.ruleId());
        boolean ruleLive = rule != null && rule.enabled();
        switch (e.kind()) {
            case EXPIRE -> {
                KeyRecord cur = current(b, bucket, e);
                if (cur != null && ruleLive && LifecyclePlanner.selects(rule, e.key(), cur)) {
                    long due = LifecyclePlanner.expiration(rule, cur);
                    if (due > now) {
                        ns.dueWork().schedule(b, List.of(at(e, due)));
                    } else if (due > 0) {
                        store.delete(b, bucket, e.key());
                    }
                }
            }
            case EXPIRE_MARKER -> {
                Optional<KeyRecord> cur = store.lookup(b, bucket, e.key());
                if (cur.isPresent()
                        && cur.get().deleteMarker()
                        && cur.get().fid().equals(e.version())
                        && ruleLive
                        && rule.expiredObjectDeleteMarker()
                        && store.noncurrentVersions(b, e.key()).isEmpty()) {
                    store.deleteVersion(b, bucket, e.key(), cur.get().versionIdText(), false);
                }
            }
            case EXPIRE_NONCURRENT -> {
                KeyRecord v = store.noncurrent(b, e.key(), e.version()).orElse(null);
                if (v == null || !ruleLive || rule.noncurrentDays() == 0) {
                    return;
                }
                if (rule.newerNoncurrentVersions() > 0) {
                    long newer = store.noncurrentVersions(b, e.key()).stream()
                            .filter(x -> x.fid().compareTo(v.fid()) > 0)
                            .count();
                    if (newer < rule.newerNoncurrentVersions()) {
                        // Kept while it is among the newest N; looked at again a day later.
                        ns.dueWork().schedule(b, List.of(at(e, now + DAY)));
                        return;
                    }
                }
                try {
                    store.deleteVersion(b, bucket, e.key(), v.versionIdText(), false);
                } catch (S3Exception x) {
                    if (x.error() != S3Error.ACCESS_DENIED) {
                        throw x;
                    }
                    // Object lock: the version stays; its entry comes back when the lock can end.
                    long until =
                            v.meta().legalHold() ? now + DAY : Math.max(v.meta().retainUntilMillis(), now + 1);
                    ns.dueWork().schedule(b, List.of(at(e, until)));
                }
            }
            case TRANSITION, TRANSITION_NONCURRENT, PLACE -> {
                KeyRecord v = e.kind() == Kind.TRANSITION_NONCURRENT
                        ? store.noncurrent(b, e.key(), e.version()).orElse(null)
                        : current(b, bucket, e);
                if (v == null && e.kind() == Kind.PLACE) {
                    v = store.noncurrent(b, e.key(), e.version()).orElse(null);
                }
                if (v == null || e.kind() != Kind.PLACE && !ruleLive) {
                    return;
                }
                String tier = ns.storageClassTiers().get(e.storageClass());
                if (tier == null) {
                    return; // the class is no longer placed: nothing to move to
                }
                for (Fid body : store.bodies(v)) {
                    try {
                        mover.move(body, tier);
                    } catch (OsdException x) {
                        if (!x.is(Errno.ENOENT)) {
                            throw x;
                        }
                    }
                }
                store.adviseTier(v, tier);
                if (e.kind() != Kind.PLACE && !e.storageClass().equals(v.meta().storageClass())) {
                    String cls = e.storageClass();
                    try {
                        store.update(
                                b,
                                bucket,
                                e.key(),
                                v.versionIdText(),
                                r -> r.withMeta(r.meta().withStorageClass(cls)));
                    } catch (S3Exception x) {
                        if (x.error() != S3Error.NO_SUCH_KEY && x.error() != S3Error.NO_SUCH_VERSION) {
                            throw x;
                        }
                    }
                }
            }
            case ABORT_UPLOAD -> {
                if (ruleLive) {
                    uploads.abortExpired(b, e.key(), e.version());
                }
            }
            case BACKFILL -> backfill(bucket, b, e, now);
        }
    }

    /** The current version of the entry's key if it is the entry's version, else null. */
    private KeyRecord current(BucketRecord b, String bucket, Entry e) throws OsdException, S3Exception {
        KeyRecord cur = store.lookup(b, bucket, e.key()).orElse(null);
        return cur != null && !cur.deleteMarker() && cur.fid().equals(e.version()) ? cur : null;
    }

    private static Entry at(Entry e, long due) {
        return new Entry(due, e.kind(), e.version(), e.key(), e.ruleId(), e.storageClass());
    }

    /** Where a backfill resumes ({@code e.key()}): the next batch of keys, then the uploads. */
    private void backfill(String bucket, BucketRecord b, Entry e, long now) throws OsdException, S3Exception {
        boolean uploadsPhase = "uploads".equals(e.ruleId());
        List<Entry> planned = new ArrayList<>();
        byte[] last = null;
        int n = 0;
        if (!uploadsPhase) {
            try (IndexCursor c = ns.osd().cursor(b.keys(), e.key().length == 0 ? null : e.key())) {
                while (n < BACKFILL_BATCH && c.next()) {
                    byte[] key = c.key();
                    KeyRecord cur = KeyRecord.decode(c.value());
                    planned.addAll(planner.current(bucket, key, cur));
                    long since = cur.mtimeMillis();
                    for (KeyRecord v : store.noncurrentVersions(b, key)) {
                        planned.addAll(planner.noncurrent(bucket, key, v, since));
                        since = v.mtimeMillis();
                    }
                    last = key;
                    n++;
                }
            }
        } else {
            try (IndexCursor c = ns.osd().cursor(b.uploads(), e.key().length == 0 ? null : e.key())) {
                while (n < BACKFILL_BATCH && c.next()) {
                    byte[] uk = c.key();
                    UploadRecord up = UploadRecord.decode(c.value());
                    byte[] key = Arrays.copyOf(uk, uk.length - 16);
                    planned.addAll(planner.upload(bucket, key, uk, up.parts(), up.initiatedMillis()));
                    last = uk;
                    n++;
                }
            }
        }
        ns.dueWork().schedule(b, planned);
        if (n == BACKFILL_BATCH) {
            byte[] next = Arrays.copyOf(last, last.length + 1);
            ns.dueWork().schedule(b, List.of(new Entry(now, Kind.BACKFILL, e.version(), next, e.ruleId(), null)));
        } else if (!uploadsPhase) {
            ns.dueWork().schedule(b, List.of(new Entry(now, Kind.BACKFILL, e.version(), new byte[0], "uploads", null)));
        }
    }

    /** The entry that starts a backfill of {@code bucket} (scheduled when its configuration is set). */
    public static Entry backfillStart(long nowMillis, Fid marker) {
        return new Entry(nowMillis, Kind.BACKFILL, marker, new byte[0], "keys", null);
    }
}
