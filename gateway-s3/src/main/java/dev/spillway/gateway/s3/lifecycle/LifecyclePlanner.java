package dev.spillway.gateway.s3.lifecycle;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.HttpDates;
import dev.spillway.gateway.s3.store.DueWork;
import dev.spillway.gateway.s3.store.DueWork.Entry;
import dev.spillway.gateway.s3.store.DueWork.Kind;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides what falls due for a version from its bucket's lifecycle configuration and its
 * storage class ({@link DueWork.Planner}): each enabled rule whose filter selects the version
 * schedules its actions, at the times S3 computes.
 */
public final class LifecyclePlanner implements DueWork.Planner {
    /** The configuration document kind ({@link Namespace#config}). */
    public static final String CONFIG = "lifecycle";

    private final Namespace ns;
    // Parsed configurations by bucket, with the document they came from (re-parsed when it changes).
    private final Map<String, Object[]> cache = new ConcurrentHashMap<>();

    public LifecyclePlanner(Namespace ns) {
        this.ns = ns;
    }

    /** The bucket's lifecycle configuration, or null. */
    public LifecycleConfiguration configuration(String bucket) throws S3Exception, OsdException {
        byte[] doc = ns.config(bucket, CONFIG).orElse(null);
        if (doc == null) {
            cache.remove(bucket);
            return null;
        }
        Object[] c = cache.get(bucket);
        if (c != null && Arrays.equals((byte[]) c[0], doc)) {
            return (LifecycleConfiguration) c[1];
        }
        LifecycleConfiguration parsed = LifecycleConfiguration.stored(doc);
        cache.put(bucket, new Object[] {doc, parsed});
        return parsed;
    }

    static String text(byte[] key) {
        return new String(key, StandardCharsets.UTF_8);
    }

    static boolean selects(LifecycleConfiguration.Rule r, byte[] key, KeyRecord v) {
        List<Header> tags = v.meta().tags();
        return r.enabled() && r.filter().matches(text(key), tags, v.size());
    }

    @Override
    public List<Entry> current(String bucket, byte[] key, KeyRecord r) throws S3Exception, OsdException {
        List<Entry> out = new ArrayList<>();
        if (!r.deleteMarker() && r.meta().storageClass() != null) {
            out.add(new Entry(
                    ns.nowMillis(), Kind.PLACE, r.fid(), key, null, r.meta().storageClass()));
        }
        LifecycleConfiguration c = configuration(bucket);
        if (c == null) {
            return out;
        }
        for (LifecycleConfiguration.Rule rule : c.rules()) {
            if (r.deleteMarker()) {
                if (rule.enabled()
                        && rule.expiredObjectDeleteMarker()
                        && text(key).startsWith(rule.filter().prefix())) {
                    out.add(new Entry(ns.nowMillis(), Kind.EXPIRE_MARKER, r.fid(), key, rule.id(), null));
                }
                continue;
            }
            if (!selects(rule, key, r)) {
                continue;
            }
            long exp = expiration(rule, r);
            if (exp > 0) {
                out.add(new Entry(exp, Kind.EXPIRE, r.fid(), key, rule.id(), null));
            }
            for (LifecycleConfiguration.Transition t : rule.transitions()) {
                long due = t.dateMillis() != 0
                        ? t.dateMillis()
                        : LifecycleConfiguration.dueAfterDays(r.mtimeMillis(), t.days());
                out.add(new Entry(due, Kind.TRANSITION, r.fid(), key, rule.id(), t.storageClass()));
            }
        }
        return out;
    }

    /** When {@code rule} expires current version {@code r}, or 0 if it does not. */
    static long expiration(LifecycleConfiguration.Rule rule, KeyRecord r) {
        if (rule.expirationDays() > 0) {
            return LifecycleConfiguration.dueAfterDays(r.mtimeMillis(), rule.expirationDays());
        }
        return rule.expirationDateMillis();
    }

    @Override
    public List<Entry> noncurrent(String bucket, byte[] key, KeyRecord r, long sinceMillis)
            throws S3Exception, OsdException {
        List<Entry> out = new ArrayList<>();
        LifecycleConfiguration c = configuration(bucket);
        if (c == null) {
            return out;
        }
        for (LifecycleConfiguration.Rule rule : c.rules()) {
            // A delete marker has no size or tags; a prefix-only rule still selects it.
            if (!rule.enabled()
                    || !(r.deleteMarker() ? text(key).startsWith(rule.filter().prefix()) : selects(rule, key, r))) {
                continue;
            }
            if (rule.noncurrentDays() > 0) {
                out.add(new Entry(
                        LifecycleConfiguration.dueAfterDays(sinceMillis, rule.noncurrentDays()),
                        Kind.EXPIRE_NONCURRENT,
                        r.fid(),
                        key,
                        rule.id(),
                        null));
            }
            if (!r.deleteMarker()) {
                for (LifecycleConfiguration.Transition t : rule.noncurrentTransitions()) {
                    out.add(new Entry(
                            LifecycleConfiguration.dueAfterDays(sinceMillis, t.days()),
                            Kind.TRANSITION_NONCURRENT,
                            r.fid(),
                            key,
                            rule.id(),
                            t.storageClass()));
                }
            }
        }
        return out;
    }

    @Override
    public List<Entry> upload(String bucket, byte[] key, byte[] uploadKey, Fid parts, long initiatedMillis)
            throws S3Exception, OsdException {
        List<Entry> out = new ArrayList<>();
        LifecycleConfiguration c = configuration(bucket);
        if (c == null) {
            return out;
        }
        for (LifecycleConfiguration.Rule rule : c.rules()) {
            if (rule.enabled()
                    && rule.abortIncompleteDays() > 0
                    && text(key).startsWith(rule.filter().prefix())) {
                out.add(new Entry(
                        LifecycleConfiguration.dueAfterDays(initiatedMillis, rule.abortIncompleteDays()),
                        Kind.ABORT_UPLOAD,
                        parts,
                        uploadKey,
                        rule.id(),
                        null));
            }
        }
        return out;
    }

    /**
     * The {@code x-amz-expiration} header of a current version: the earliest expiration of the
     * rules that select it, {@code expiry-date="IMF-fixdate", rule-id="ID"}; null if none does.
     */
    public String expirationHeader(String bucket, byte[] key, KeyRecord r) throws S3Exception, OsdException {
        LifecycleConfiguration c = configuration(bucket);
        if (c == null || r.deleteMarker()) {
            return null;
        }
        long best = 0;
        String id = null;
        for (LifecycleConfiguration.Rule rule : c.rules()) {
            if (!selects(rule, key, r)) {
                continue;
            }
            long exp = expiration(rule, r);
            if (exp > 0 && (best == 0 || exp < best)) {
                best = exp;
                id = rule.id();
            }
        }
        if (best == 0) {
            return null;
        }
        return "expiry-date=\"" + HttpDates.formatMillis(best) + "\", rule-id=\"" + id + "\"";
    }
}
