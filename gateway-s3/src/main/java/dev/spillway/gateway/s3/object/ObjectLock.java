package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.function.BiConsumer;

/**
 * S3 object lock: the bucket's configuration (default retention), a version's retention
 * (GOVERNANCE or COMPLIANCE until a date) and legal hold, their documents and headers, and
 * the rules for changing a retention.
 *
 * <p>Rules (S3's): a retention in COMPLIANCE mode can only be extended; in GOVERNANCE mode,
 * shortening it, removing it or changing its mode needs {@code x-amz-bypass-governance-retention};
 * a legal hold can be set and removed at any time and blocks deletion while on. Object lock
 * needs versioning, and a bucket that has it keeps it.
 */
public final class ObjectLock {
    /** A bucket's default retention: a mode and a period in days (years are kept as 365 days each). */
    public record DefaultRetention(String mode, int days, int years) {
        public long untilMillis(long nowMillis) {
            long d = days > 0 ? days : 365L * years;
            return nowMillis + d * 86_400_000L;
        }
    }

    private ObjectLock() {}

    static String mode(String text, S3Error error) throws S3Exception {
        if ("GOVERNANCE".equals(text) || "COMPLIANCE".equals(text)) {
            return text;
        }
        throw new S3Exception(error, "Unknown object lock mode '" + text + "': GOVERNANCE or COMPLIANCE (upper case)");
    }

    static Instant date(String text, S3Error error) throws S3Exception {
        try {
            return OffsetDateTime.parse(text.strip()).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return LocalDateTime.parse(text.strip()).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e2) {
                throw new S3Exception(error, "The retain-until date '" + text + "' is not an ISO 8601 date and time");
            }
        }
    }

    // ---- bucket configuration ------------------------------------------------------------

    /**
     * Parses an {@code <ObjectLockConfiguration>}: MalformedXML unless ObjectLockEnabled is
     * Enabled, a rule names a known mode and exactly one of Days and Years;
     * InvalidRetentionPeriod unless that period is positive.
     *
     * @return the default retention, or null for a configuration without a rule
     */
    public static DefaultRetention parseConfiguration(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "ObjectLockConfiguration");
        if (!root.name().equals("ObjectLockConfiguration")) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "expected <ObjectLockConfiguration>, got <" + root.name() + ">");
        }
        if (!"Enabled".equals(root.childText("ObjectLockEnabled"))) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML,
                    "ObjectLockEnabled must be Enabled (object lock cannot be turned off), got '"
                            + root.childText("ObjectLockEnabled") + "'");
        }
        if (root.all("Rule").isEmpty()) {
            return null;
        }
        XmlNode rule = root.all("Rule").get(0);
        if (rule.all("DefaultRetention").isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_XML, "a <Rule> needs a <DefaultRetention>");
        }
        XmlNode d = rule.all("DefaultRetention").get(0);
        String mode = mode(d.childText("Mode"), S3Error.MALFORMED_XML);
        String days = d.childText("Days");
        String years = d.childText("Years");
        if ((days == null) == (years == null)) {
            throw new S3Exception(S3Error.MALFORMED_XML, "a <DefaultRetention> has exactly one of <Days> and <Years>");
        }
        int n;
        try {
            n = Integer.parseInt(days != null ? days : years);
        } catch (NumberFormatException e) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML,
                    "the retention period '" + (days != null ? days : years) + "' is not a number");
        }
        int max = days != null ? 36_500 : 100;
        if (n <= 0 || n > max) {
            throw new S3Exception(
                    S3Error.INVALID_RETENTION_PERIOD,
                    "the default retention period must be 1 to " + max + (days != null ? " days" : " years") + ", got "
                            + n);
        }
        return days != null ? new DefaultRetention(mode, n, 0) : new DefaultRetention(mode, 0, n);
    }

    /** The configuration document as stored and as GetObjectLockConfiguration answers it. */
    public static byte[] configurationDocument(DefaultRetention d) {
        XmlWriter w = XmlWriter.document("ObjectLockConfiguration").element("ObjectLockEnabled", "Enabled");
        if (d != null) {
            w.start("Rule").start("DefaultRetention").element("Mode", d.mode());
            if (d.days() > 0) {
                w.element("Days", d.days());
            } else {
                w.element("Years", d.years());
            }
            w.end("DefaultRetention").end("Rule");
        }
        return w.finish("ObjectLockConfiguration");
    }

    // ---- a version's retention and legal hold --------------------------------------------

    /**
     * The lock a new version gets: what the request's {@code x-amz-object-lock-*} headers say,
     * else the bucket's default retention. InvalidRequest for lock headers on a bucket without
     * object lock; InvalidArgument for a mode without a date (or the reverse), or a date past.
     */
    public static Records.Meta forNewVersion(
            S3Request req, Records.Meta meta, boolean bucketHasLock, DefaultRetention dflt, long nowMillis)
            throws S3Exception {
        String mode = req.header("x-amz-object-lock-mode");
        String until = req.header("x-amz-object-lock-retain-until-date");
        String hold = req.header("x-amz-object-lock-legal-hold");
        if (!bucketHasLock) {
            if (mode != null || until != null || hold != null) {
                throw new S3Exception(
                        S3Error.INVALID_REQUEST,
                        "Bucket is missing Object Lock Configuration: the x-amz-object-lock-*"
                                + " headers need a bucket created with object lock");
            }
            return meta;
        }
        if ((mode == null) != (until == null)) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT,
                    "x-amz-object-lock-mode and x-amz-object-lock-retain-until-date must both be given, or neither");
        }
        if (hold != null) {
            meta = meta.withLegalHold(legalHold(hold.strip(), S3Error.INVALID_ARGUMENT));
        }
        if (mode != null) {
            Instant t = date(until, S3Error.INVALID_ARGUMENT);
            if (t.toEpochMilli() <= nowMillis) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "The retain until date must be in the future: " + until);
            }
            return meta.withRetention(mode(mode.strip(), S3Error.INVALID_ARGUMENT), t.toEpochMilli());
        }
        if (dflt != null) {
            return meta.withRetention(dflt.mode(), dflt.untilMillis(nowMillis));
        }
        return meta;
    }

    static boolean legalHold(String status, S3Error error) throws S3Exception {
        return switch (status) {
            case "ON" -> true;
            case "OFF" -> false;
            default -> throw new S3Exception(error, "A legal hold status is ON or OFF, got '" + status + "'");
        };
    }

    /** A parsed {@code <Retention>}: mode and date, both null to remove the retention. */
    public record Retention(String mode, Instant until) {}

    public static Retention parseRetention(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "Retention");
        if (!root.name().equals("Retention")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <Retention>, got <" + root.name() + ">");
        }
        String mode = root.childText("Mode");
        String until = root.childText("RetainUntilDate");
        if (mode == null && until == null) {
            return new Retention(null, null);
        }
        if (mode == null || until == null) {
            throw new S3Exception(S3Error.MALFORMED_XML, "a <Retention> has both <Mode> and <RetainUntilDate>");
        }
        return new Retention(mode(mode, S3Error.MALFORMED_XML), date(until, S3Error.MALFORMED_XML));
    }

    public static boolean parseLegalHold(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "LegalHold");
        if (!root.name().equals("LegalHold")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <LegalHold>, got <" + root.name() + ">");
        }
        String s = root.childText("Status");
        return legalHold(s == null ? "" : s, S3Error.MALFORMED_XML);
    }

    /**
     * Applies a PutObjectRetention to a version's meta: AccessDenied for what the current
     * retention forbids (see the class comment), InvalidArgument for a date already past.
     */
    public static Records.Meta changeRetention(
            Records.Meta cur, Retention r, boolean bypass, long nowMillis, String what) throws S3Exception {
        boolean active = cur.lockMode() != null && cur.retainUntilMillis() > nowMillis;
        long newUntil = r.until() == null ? 0 : r.until().toEpochMilli();
        if (r.until() != null && newUntil <= nowMillis) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "The retain until date must be in the future: " + r.until());
        }
        if (active) {
            boolean extends_ =
                    r.mode() != null && r.mode().equals(cur.lockMode()) && newUntil >= cur.retainUntilMillis();
            if (!extends_) {
                if (cur.lockMode().equals("COMPLIANCE")) {
                    throw new S3Exception(
                            S3Error.ACCESS_DENIED,
                            "Access Denied: " + what + " is retained in COMPLIANCE mode until "
                                    + Instant.ofEpochMilli(cur.retainUntilMillis())
                                    + "; its retention can only be extended");
                }
                if (!bypass) {
                    throw new S3Exception(
                            S3Error.ACCESS_DENIED,
                            "Access Denied: " + what + " is retained in GOVERNANCE mode until "
                                    + Instant.ofEpochMilli(cur.retainUntilMillis())
                                    + "; shortening, removing or changing it needs x-amz-bypass-governance-retention");
                }
            }
        }
        return cur.withRetention(r.mode(), newUntil);
    }

    public static byte[] retentionDocument(Records.Meta m) {
        return XmlWriter.document("Retention")
                .element("Mode", m.lockMode())
                .element("RetainUntilDate", Instant.ofEpochMilli(m.retainUntilMillis()))
                .finish("Retention");
    }

    public static byte[] legalHoldDocument(boolean on) {
        return XmlWriter.document("LegalHold")
                .element("Status", on ? "ON" : "OFF")
                .finish("LegalHold");
    }

    /** The x-amz-object-lock-* headers of a GET/HEAD. */
    public static void headers(Records.Meta m, BiConsumer<String, String> out) {
        if (m.lockMode() != null) {
            out.accept("x-amz-object-lock-mode", m.lockMode());
            out.accept(
                    "x-amz-object-lock-retain-until-date", XmlWriter.iso(Instant.ofEpochMilli(m.retainUntilMillis())));
        }
        if (m.legalHold()) {
            out.accept("x-amz-object-lock-legal-hold", "ON");
        }
    }
}
