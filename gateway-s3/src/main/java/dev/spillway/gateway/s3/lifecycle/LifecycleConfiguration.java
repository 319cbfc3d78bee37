package dev.spillway.gateway.s3.lifecycle;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A bucket's lifecycle configuration: rules that expire current versions (after days, on a date,
 * or a delete marker left alone), expire non-current versions, transition versions to a storage
 * class (a background tier of the pool), and abort multipart uploads left incomplete — each for the
 * objects its filter selects (a prefix, tags, a size range, or all of them together).
 *
 * <p>Times follow S3: a rule of N days is due at midnight UTC after the version's time plus N
 * days (so "1 day" is between 24 and 48 hours), a date rule at midnight UTC of that date.
 */
public record LifecycleConfiguration(List<Rule> rules) {
    /** S3's limits: 1000 rules, ids of up to 255 characters. */
    public static final int MAX_RULES = 1000;

    public static final int MAX_ID = 255;

    /** A transition: after {@code days} (or on {@code dateMillis}, when not 0) to {@code storageClass}. */
    public record Transition(int days, long dateMillis, String storageClass) {}

    /**
     * What selects objects: a prefix, tags (all must be on the object), a size range
     * ({@code sizeGreaterThan} &lt; size &lt; {@code sizeLessThan}, 0 for no bound).
     *
     * @param legacyPrefix the rule gave its prefix outside a Filter (the 2006 form), kept so
     *     GetBucketLifecycleConfiguration answers it the way it came
     */
    public record Filter(
            String prefix,
            List<Header> tags,
            long sizeGreaterThan,
            long sizeLessThan,
            boolean legacyPrefix,
            boolean and) {
        public Filter {
            prefix = prefix == null ? "" : prefix;
            tags = List.copyOf(tags);
        }

        /** The filter selects an object of key {@code key}, tags {@code objectTags} and {@code size} bytes. */
        public boolean matches(String key, List<Header> objectTags, long size) {
            if (!key.startsWith(prefix)) {
                return false;
            }
            for (Header t : tags) {
                if (!objectTags.contains(t)) {
                    return false;
                }
            }
            return (sizeGreaterThan == 0 || size > sizeGreaterThan) && (sizeLessThan == 0 || size < sizeLessThan);
        }
    }

    /**
     * One rule. Days fields are 0 when absent; {@code expirationDateMillis} 0 when absent.
     *
     * @param newerNoncurrentVersions how many newer non-current versions to keep regardless (0: none)
     */
    public record Rule(
            String id,
            boolean enabled,
            Filter filter,
            int expirationDays,
            long expirationDateMillis,
            boolean expiredObjectDeleteMarker,
            List<Transition> transitions,
            int noncurrentDays,
            int newerNoncurrentVersions,
            List<Transition> noncurrentTransitions,
            int abortIncompleteDays) {
        public Rule {
            transitions = List.copyOf(transitions);
            noncurrentTransitions = List.copyOf(noncurrentTransitions);
        }
    }

    public LifecycleConfiguration {
        rules = List.copyOf(rules);
    }

    /** The rule with id {@code id}, or null. */
    public Rule rule(String id) {
        for (Rule r : rules) {
            if (r.id().equals(id)) {
                return r;
            }
        }
        return null;
    }

    /** Midnight UTC after {@code fromMillis} plus {@code days} days, as S3 computes a rule's due time. */
    public static long dueAfterDays(long fromMillis, int days) {
        long day = 86_400_000L;
        long t = fromMillis + days * day;
        return (t / day + (t % day == 0 ? 0 : 1)) * day;
    }

    // ---- parsing -------------------------------------------------------------------------

    private static S3Exception malformed(String why) {
        return new S3Exception(S3Error.MALFORMED_XML, why);
    }

    private static S3Exception invalid(String why) {
        return new S3Exception(S3Error.INVALID_ARGUMENT, why);
    }

    /**
     * Parses a {@code <LifecycleConfiguration>} as S3 validates it: MalformedXML for what does not
     * fit its schema (a status other than Enabled/Disabled, a rule with no action, both a Filter
     * and a Prefix), InvalidArgument for values it refuses (an id too long or repeated, 0 days of
     * expiration, a date not at midnight UTC), InvalidStorageClass for a class the gateway does not
     * place ({@code placed} says which it does).
     */
    public static LifecycleConfiguration parse(byte[] doc, Predicate<String> placed) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "LifecycleConfiguration");
        if (!root.name().equals("LifecycleConfiguration")) {
            throw malformed("expected <LifecycleConfiguration>, got <" + root.name() + ">");
        }
        List<XmlNode> rs = root.all("Rule");
        if (rs.isEmpty() || rs.size() > MAX_RULES) {
            throw malformed("a lifecycle configuration has 1 to " + MAX_RULES + " rules, got " + rs.size());
        }
        List<Rule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (XmlNode r : rs) {
            Rule rule = rule(r, placed);
            if (!ids.add(rule.id())) {
                throw invalid("Rule ID must be unique. Found same ID for more than one rule: " + rule.id());
            }
            rules.add(rule);
        }
        return new LifecycleConfiguration(rules);
    }

    private static Rule rule(XmlNode r, Predicate<String> placed) throws S3Exception {
        String id = r.childText("ID");
        if (id == null || id.isEmpty()) {
            id = UUID.randomUUID().toString();
        } else if (id.length() > MAX_ID) {
            throw invalid("The ID of a lifecycle rule is at most " + MAX_ID + " characters, got " + id.length());
        }
        String status = r.childText("Status");
        if (!"Enabled".equals(status) && !"Disabled".equals(status)) {
            throw malformed("a rule's Status is Enabled or Disabled, got '" + status + "' (rule " + id + ")");
        }
        Filter filter = filter(r, id);
        int expDays = 0;
        long expDate = 0;
        boolean dm = false;
        List<XmlNode> exp = r.all("Expiration");
        if (!exp.isEmpty()) {
            XmlNode e = exp.get(0);
            String days = e.childText("Days");
            String date = e.childText("Date");
            String marker = e.childText("ExpiredObjectDeleteMarker");
            int given = (days != null ? 1 : 0) + (date != null ? 1 : 0) + (marker != null ? 1 : 0);
            if (given != 1) {
                throw malformed(
                        "an Expiration has exactly one of Days, Date and ExpiredObjectDeleteMarker (rule " + id + ")");
            }
            if (days != null) {
                expDays = positive(days, "Expiration Days", id, false);
            } else if (date != null) {
                expDate = date(date, id);
            } else {
                dm = Boolean.parseBoolean(marker.strip());
            }
        }
        List<Transition> transitions = new ArrayList<>();
        for (XmlNode t : r.all("Transition")) {
            String days = t.childText("Days");
            String date = t.childText("Date");
            if ((days == null) == (date == null)) {
                throw malformed("a Transition has exactly one of Days and Date (rule " + id + ")");
            }
            transitions.add(new Transition(
                    days != null ? positive(days, "Transition Days", id, true) : 0,
                    date != null ? date(date, id) : 0,
                    storageClass(t.childText("StorageClass"), id, placed)));
        }
        int ncDays = 0;
        int newer = 0;
        List<XmlNode> nce = r.all("NoncurrentVersionExpiration");
        if (!nce.isEmpty()) {
            String d = nce.get(0).childText("NoncurrentDays");
            if (d == null) {
                throw malformed("a NoncurrentVersionExpiration needs NoncurrentDays (rule " + id + ")");
            }
            ncDays = positive(d, "NoncurrentDays", id, false);
            String n = nce.get(0).childText("NewerNoncurrentVersions");
            if (n != null) {
                newer = positive(n, "NewerNoncurrentVersions", id, false);
            }
        }
        List<Transition> ncTransitions = new ArrayList<>();
        for (XmlNode t : r.all("NoncurrentVersionTransition")) {
            String d = t.childText("NoncurrentDays");
            if (d == null) {
                throw malformed("a NoncurrentVersionTransition needs NoncurrentDays (rule " + id + ")");
            }
            ncTransitions.add(new Transition(
                    positive(d, "NoncurrentDays", id, true), 0, storageClass(t.childText("StorageClass"), id, placed)));
        }
        int abort = 0;
        List<XmlNode> a = r.all("AbortIncompleteMultipartUpload");
        if (!a.isEmpty()) {
            String d = a.get(0).childText("DaysAfterInitiation");
            if (d == null) {
                throw malformed("an AbortIncompleteMultipartUpload needs DaysAfterInitiation (rule " + id + ")");
            }
            abort = positive(d, "DaysAfterInitiation", id, false);
        }
        if (exp.isEmpty() && transitions.isEmpty() && nce.isEmpty() && ncTransitions.isEmpty() && a.isEmpty()) {
            throw malformed("a lifecycle rule has at least one action (rule " + id + ")");
        }
        if ((dm || abort > 0) && !filter.tags().isEmpty()) {
            throw invalid("ExpiredObjectDeleteMarker and AbortIncompleteMultipartUpload cannot be used with"
                    + " a tag filter (rule " + id + ")");
        }
        return new Rule(
                id,
                status.equals("Enabled"),
                filter,
                expDays,
                expDate,
                dm,
                transitions,
                ncDays,
                newer,
                ncTransitions,
                abort);
    }

    private static Filter filter(XmlNode r, String id) throws S3Exception {
        String legacy = r.childRawText("Prefix");
        List<XmlNode> fs = r.all("Filter");
        if (legacy != null && !fs.isEmpty()) {
            throw malformed("a rule has a Filter or a Prefix, not both (rule " + id + ")");
        }
        if (fs.isEmpty()) {
            return new Filter(legacy == null ? "" : legacy, List.of(), 0, 0, legacy != null, false);
        }
        XmlNode f = fs.get(0);
        List<XmlNode> and = f.all("And");
        int parts = (f.childRawText("Prefix") != null ? 1 : 0)
                + f.all("Tag").size()
                + (f.childText("ObjectSizeGreaterThan") != null ? 1 : 0)
                + (f.childText("ObjectSizeLessThan") != null ? 1 : 0)
                + and.size();
        if (parts > 1) {
            throw malformed("a Filter has one condition; combine several with <And> (rule " + id + ")");
        }
        XmlNode src = and.isEmpty() ? f : and.get(0);
        List<Header> tags = new ArrayList<>();
        for (XmlNode t : and.isEmpty() ? f.all("Tag") : src.all("Tag")) {
            String k = t.childRawText("Key");
            if (k == null) {
                throw malformed("a filter Tag has a Key (rule " + id + ")");
            }
            String v = t.childRawText("Value");
            tags.add(new Header(k, v == null ? "" : v));
        }
        return new Filter(
                src.childRawText("Prefix"),
                tags,
                size(src.childText("ObjectSizeGreaterThan"), id),
                size(src.childText("ObjectSizeLessThan"), id),
                false,
                !and.isEmpty());
    }

    private static long size(String v, String id) throws S3Exception {
        if (v == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw invalid("an object size in a filter is a number of bytes, got '" + v + "' (rule " + id + ")");
        }
    }

    private static int positive(String v, String what, String id, boolean zeroOk) throws S3Exception {
        int n;
        try {
            n = Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw malformed(what + " is a whole number, got '" + v + "' (rule " + id + ")");
        }
        if (n < 0 || n == 0 && !zeroOk) {
            throw invalid(
                    "'" + what + "' for a lifecycle rule must be a positive integer, got " + n + " (rule " + id + ")");
        }
        return n;
    }

    private static long date(String v, String id) throws S3Exception {
        Instant t;
        try {
            t = OffsetDateTime.parse(v.strip()).toInstant();
        } catch (DateTimeParseException e) {
            try {
                t = LocalDate.parse(v.strip()).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e2) {
                throw invalid("'Date' must be in ISO 8601 format, got '" + v + "' (rule " + id + ")");
            }
        }
        if (t.toEpochMilli() % 86_400_000L != 0) {
            throw invalid("'Date' must be at midnight GMT, got '" + v + "' (rule " + id + ")");
        }
        return t.toEpochMilli();
    }

    private static String storageClass(String c, String id, Predicate<String> placed) throws S3Exception {
        if (c == null) {
            throw malformed("a transition names its StorageClass (rule " + id + ")");
        }
        if (!placed.test(c.strip())) {
            throw new S3Exception(
                    S3Error.INVALID_STORAGE_CLASS,
                    "The storage class you specified is not valid: '" + c + "' is no class this gateway places"
                            + " (rule " + id + ")");
        }
        return c.strip();
    }

    // ---- the stored document -------------------------------------------------------------

    public byte[] document() {
        XmlWriter w = XmlWriter.document("LifecycleConfiguration");
        for (Rule r : rules) {
            w.start("Rule").element("ID", r.id());
            Filter f = r.filter();
            if (f.legacyPrefix()) {
                w.element("Prefix", f.prefix());
            } else {
                w.start("Filter");
                boolean and = f.and();
                if (and) {
                    w.start("And");
                }
                if (!f.prefix().isEmpty() || and && f.tags().isEmpty()) {
                    w.element("Prefix", f.prefix());
                }
                for (Header t : f.tags()) {
                    w.start("Tag")
                            .element("Key", t.name())
                            .element("Value", t.value())
                            .end("Tag");
                }
                if (f.sizeGreaterThan() > 0) {
                    w.element("ObjectSizeGreaterThan", f.sizeGreaterThan());
                }
                if (f.sizeLessThan() > 0) {
                    w.element("ObjectSizeLessThan", f.sizeLessThan());
                }
                if (and) {
                    w.end("And");
                }
                w.end("Filter");
            }
            w.element("Status", r.enabled() ? "Enabled" : "Disabled");
            if (r.expirationDays() > 0 || r.expirationDateMillis() != 0 || r.expiredObjectDeleteMarker()) {
                w.start("Expiration");
                if (r.expirationDays() > 0) {
                    w.element("Days", r.expirationDays());
                } else if (r.expirationDateMillis() != 0) {
                    w.element("Date", Instant.ofEpochMilli(r.expirationDateMillis()));
                } else {
                    w.element("ExpiredObjectDeleteMarker", true);
                }
                w.end("Expiration");
            }
            for (Transition t : r.transitions()) {
                w.start("Transition");
                if (t.dateMillis() != 0) {
                    w.element("Date", Instant.ofEpochMilli(t.dateMillis()));
                } else {
                    w.element("Days", t.days());
                }
                w.element("StorageClass", t.storageClass()).end("Transition");
            }
            if (r.noncurrentDays() > 0) {
                w.start("NoncurrentVersionExpiration").element("NoncurrentDays", r.noncurrentDays());
                if (r.newerNoncurrentVersions() > 0) {
                    w.element("NewerNoncurrentVersions", r.newerNoncurrentVersions());
                }
                w.end("NoncurrentVersionExpiration");
            }
            for (Transition t : r.noncurrentTransitions()) {
                w.start("NoncurrentVersionTransition")
                        .element("NoncurrentDays", t.days())
                        .element("StorageClass", t.storageClass())
                        .end("NoncurrentVersionTransition");
            }
            if (r.abortIncompleteDays() > 0) {
                w.start("AbortIncompleteMultipartUpload")
                        .element("DaysAfterInitiation", r.abortIncompleteDays())
                        .end("AbortIncompleteMultipartUpload");
            }
            w.end("Rule");
        }
        return w.finish("LifecycleConfiguration");
    }

    /** Parses a document this class wrote (every class it names was placed when it was set). */
    public static LifecycleConfiguration stored(byte[] doc) throws S3Exception {
        return parse(doc, c -> true);
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
