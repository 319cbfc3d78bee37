package dev.spillway.gateway.s3.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A browser POST upload's policy: a base64 JSON document with an {@code expiration} and a list of
 * {@code conditions} every form field must meet — {@code {"field": "value"}} and
 * {@code ["eq", "$field", "value"]} (exact), {@code ["starts-with", "$field", "prefix"]},
 * {@code ["content-length-range", min, max]} on the file's size. Field names match
 * case-insensitively, values exactly; the document's own keys are case-sensitive.
 *
 * <p>As S3: a field the policy says nothing about is refused (AccessDenied "Extra input
 * fields"), except the signature fields, the file, the policy itself, {@code x-ignore-*} and
 * the checksum fields.
 */
final class PostPolicy {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Condition(String op, String field, String value) {}

    private final Instant expiration;
    private final List<Condition> conditions;
    private final long minLength;
    private final long maxLength;

    private PostPolicy(Instant expiration, List<Condition> conditions, long minLength, long maxLength) {
        this.expiration = expiration;
        this.conditions = conditions;
        this.minLength = minLength;
        this.maxLength = maxLength;
    }

    static S3Exception invalid(String why) {
        return new S3Exception(S3Error.INVALID_POLICY_DOCUMENT, "Invalid Policy: " + why);
    }

    static S3Exception denied(String why) {
        return new S3Exception(S3Error.ACCESS_DENIED, "Invalid according to Policy: " + why);
    }

    /** Parses the base64 policy: InvalidPolicyDocument (400) for anything S3 would not take. */
    static PostPolicy parse(String base64) throws S3Exception {
        JsonNode root;
        try {
            root = JSON.readTree(Base64.getMimeDecoder().decode(base64.strip()));
        } catch (IllegalArgumentException | IOException e) {
            throw invalid("the policy is not base64 of a JSON document (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw invalid("the policy is not a JSON object");
        }
        JsonNode exp = root.get("expiration");
        if (exp == null || !exp.isTextual()) {
            throw invalid("Policy missing expiration (the key is \"expiration\", lower case)");
        }
        Instant expiration;
        try {
            expiration = OffsetDateTime.parse(exp.asText()).toInstant();
        } catch (DateTimeParseException e) {
            throw invalid("Invalid Policy: Invalid 'expiration' value: '" + exp.asText()
                    + "' (an ISO 8601 date and time such as 2026-12-31T12:00:00Z)");
        }
        JsonNode conds = root.get("conditions");
        if (conds == null || !conds.isArray()) {
            throw invalid("Policy missing conditions (the key is \"conditions\", lower case, a list)");
        }
        List<Condition> out = new ArrayList<>();
        long min = 0;
        long max = Long.MAX_VALUE;
        for (JsonNode c : conds) {
            if (c.isObject()) {
                if (c.size() != 1) {
                    throw invalid("a condition object names exactly one field, got " + c);
                }
                Map.Entry<String, JsonNode> e = c.fields().next();
                if (!e.getValue().isValueNode()) {
                    throw invalid("the value of condition " + c + " is not a string");
                }
                out.add(new Condition(
                        "eq", e.getKey().toLowerCase(Locale.ROOT), e.getValue().asText()));
            } else if (c.isArray() && c.size() > 0) {
                String op = c.get(0).asText().toLowerCase(Locale.ROOT);
                if (op.equals("content-length-range")) {
                    if (c.size() != 3
                            || !c.get(1).canConvertToLong()
                            || !c.get(2).canConvertToLong()) {
                        throw invalid("content-length-range takes two integers, got " + c);
                    }
                    min = c.get(1).asLong();
                    max = c.get(2).asLong();
                    if (min < 0 || max < 0 || min > max) {
                        throw invalid("content-length-range " + c + " is not a range of sizes");
                    }
                    continue;
                }
                if (c.size() != 3 || !(op.equals("eq") || op.equals("starts-with"))) {
                    throw invalid("Invalid condition " + c + " (eq, starts-with or content-length-range)");
                }
                String field = c.get(1).asText();
                if (!field.startsWith("$")) {
                    throw invalid("the field of condition " + c + " starts with $");
                }
                out.add(new Condition(
                        op,
                        field.substring(1).toLowerCase(Locale.ROOT),
                        c.get(2).asText()));
            } else {
                throw invalid("Invalid condition " + c);
            }
        }
        return new PostPolicy(expiration, out, min, max);
    }

    /** Fields a policy need not mention (signature, file, policy, checksums, x-ignore-*). */
    static boolean exempt(String lowerName) {
        return lowerName.equals("policy")
                || lowerName.equals("signature")
                || lowerName.equals("x-amz-signature")
                || lowerName.equals("awsaccesskeyid")
                || lowerName.equals("file")
                || lowerName.startsWith("x-ignore-")
                || lowerName.startsWith("x-amz-checksum-");
    }

    /**
     * Checks the form against the policy at {@code now}: expired, a condition not met or a
     * field not covered is AccessDenied (403), as S3 answers.
     *
     * @param fields the form fields by lower-case name
     */
    void check(Map<String, String> fields, String bucket, Instant now) throws S3Exception {
        if (!now.isBefore(expiration)) {
            throw denied("Policy expired at " + expiration);
        }
        Set<String> covered = new HashSet<>();
        for (Condition c : conditions) {
            covered.add(c.field());
            String have = c.field().equals("bucket") ? bucket : fields.getOrDefault(c.field(), "");
            boolean ok = c.op().equals("eq") ? have.equals(c.value()) : have.startsWith(c.value());
            if (!ok) {
                throw denied("Policy Condition failed: [\"" + c.op() + "\", \"$" + c.field() + "\", \"" + c.value()
                        + "\"] (the form has '" + have + "')");
            }
        }
        for (String f : fields.keySet()) {
            if (!exempt(f) && !covered.contains(f)) {
                throw denied("Extra input fields: " + f);
            }
        }
    }

    /** EntityTooSmall / EntityTooLarge if the file's size is outside content-length-range. */
    void checkLength(long size) throws S3Exception {
        if (size < minLength) {
            throw new S3Exception(
                    S3Error.ENTITY_TOO_SMALL,
                    "Your proposed upload is smaller than the minimum allowed size: " + size + " bytes, the policy's"
                            + " content-length-range starts at " + minLength);
        }
        if (size > maxLength) {
            throw new S3Exception(
                    S3Error.ENTITY_TOO_LARGE,
                    "Your proposed upload exceeds the maximum allowed size: " + size + " bytes, the policy's"
                            + " content-length-range ends at " + maxLength);
        }
    }

    long maxLength() {
        return maxLength;
    }
}
