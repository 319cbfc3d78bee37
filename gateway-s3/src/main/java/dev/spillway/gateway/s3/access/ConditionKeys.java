package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The condition operators and keys a bucket policy may use here, and how each is evaluated.
 * Keys: {@code aws:SourceIp} (the client's address as the gateway sees it), {@code
 * aws:SecureTransport}, {@code aws:userid} (the requester's user id), {@code s3:prefix}, {@code
 * s3:delimiter}, {@code s3:max-keys} (listings; for a missing object, {@code s3:prefix} is its
 * key, as S3 judges 404 against 403), {@code s3:x-amz-acl}, {@code s3:x-amz-storage-class},
 * {@code s3:VersionId}. A key a request does not carry fails a positive operator and satisfies a
 * negated one, as in IAM.
 */
final class ConditionKeys {
    private ConditionKeys() {}

    static final Set<String> KEYS = Set.of(
            "aws:sourceip",
            "aws:securetransport",
            "aws:userid",
            "s3:prefix",
            "s3:delimiter",
            "s3:max-keys",
            "s3:x-amz-acl",
            "s3:x-amz-storage-class",
            "s3:versionid");

    private static final List<String> OPERATORS = List.of(
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
            "Bool",
            "IpAddress",
            "NotIpAddress");

    static String operator(String name) throws S3Exception {
        if (name.endsWith("IfExists") || name.startsWith("ForAnyValue:") || name.startsWith("ForAllValues:")) {
            throw new S3Exception(
                    S3Error.NOT_IMPLEMENTED,
                    "bucket policy: the condition operator " + name
                            + " is not implemented by the Spillway gateway (the policy was not stored)");
        }
        for (String o : OPERATORS) {
            if (o.equals(name)) {
                return o;
            }
        }
        if (name.startsWith("Date") || name.startsWith("Arn") || name.equals("BinaryEquals") || name.equals("Null")) {
            throw new S3Exception(
                    S3Error.NOT_IMPLEMENTED,
                    "bucket policy: the condition operator " + name
                            + " is not implemented by the Spillway gateway (the policy was not stored)");
        }
        throw new S3Exception(S3Error.MALFORMED_POLICY, "Invalid Condition type: " + name);
    }

    static String key(String name) throws S3Exception {
        String k = name.toLowerCase(Locale.ROOT);
        if (!KEYS.contains(k)) {
            throw new S3Exception(
                    S3Error.NOT_IMPLEMENTED,
                    "bucket policy: the condition key " + name + " is not implemented by the Spillway gateway"
                            + " (it evaluates aws:SourceIp, aws:SecureTransport, aws:userid, s3:prefix,"
                            + " s3:delimiter, s3:max-keys, s3:x-amz-acl, s3:x-amz-storage-class, s3:VersionId;"
                            + " the policy was not stored)");
        }
        return k;
    }

    static void checkValues(String operator, String key, List<String> values) throws S3Exception {
        boolean ip = operator.endsWith("IpAddress");
        if (ip != key.equals("aws:sourceip")) {
            throw new S3Exception(
                    S3Error.MALFORMED_POLICY, "Invalid Condition: " + operator + " does not apply to " + key);
        }
        for (String v : values) {
            if (ip && cidr(v) == null) {
                throw new S3Exception(S3Error.MALFORMED_POLICY, "Invalid IP address or range: '" + v + "'");
            }
            if (operator.startsWith("Numeric") && number(v) == null) {
                throw new S3Exception(S3Error.MALFORMED_POLICY, "Invalid number in " + operator + ": '" + v + "'");
            }
            if (operator.equals("Bool") && !v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                throw new S3Exception(S3Error.MALFORMED_POLICY, "Bool takes true or false, got '" + v + "'");
            }
        }
    }

    private static boolean negated(String operator) {
        return operator.contains("Not");
    }

    static boolean holds(BucketPolicy.Condition c, Map<String, String> context) {
        String x = context.get(c.key());
        if (x == null) {
            return negated(c.operator());
        }
        boolean any = c.values().stream().anyMatch(v -> test(c.operator(), v, x));
        return negated(c.operator()) ? !any : any;
    }

    /** Whether value {@code v} matches {@code x} under the positive form of {@code operator}. */
    private static boolean test(String operator, String v, String x) {
        return switch (operator) {
            case "StringEquals", "StringNotEquals" -> v.equals(x);
            case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase" -> v.equalsIgnoreCase(x);
            case "StringLike", "StringNotLike" -> Wildcards.matches(v, x);
            case "Bool" -> v.equalsIgnoreCase(x);
            case "IpAddress", "NotIpAddress" -> contains(cidr(v), x);
            default -> {
                Double a = number(x);
                Double b = number(v);
                if (a == null || b == null) {
                    yield false;
                }
                yield switch (operator) {
                    case "NumericEquals", "NumericNotEquals" -> a.doubleValue() == b.doubleValue();
                    case "NumericLessThan" -> a < b;
                    case "NumericLessThanEquals" -> a <= b;
                    case "NumericGreaterThan" -> a > b;
                    default -> a >= b;
                };
            }
        };
    }

    /**
     * Whether a condition pins who may use a statement, so that a statement to everyone is not
     * public: a source address range that is not everything, or a user id without wildcards.
     */
    static boolean narrows(BucketPolicy.Condition c) {
        if (c.key().equals("aws:sourceip") && c.operator().equals("IpAddress")) {
            return c.values().stream().noneMatch(v -> {
                Object[] r = cidr(v);
                return r != null && (int) r[1] == 0;
            });
        }
        if (c.key().equals("aws:userid")
                && (c.operator().startsWith("StringEquals") || c.operator().equals("StringLike"))) {
            return c.values().stream().noneMatch(v -> v.contains("*") || v.contains("?"));
        }
        return false;
    }

    private static Double number(String v) {
        try {
            return Double.valueOf(v.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** {address bytes, prefix length} of a literal address or CIDR range, or null. Never a DNS lookup. */
    private static Object[] cidr(String v) {
        String s = v.strip();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        if (!addr.matches("[0-9.]+") && !(addr.contains(":") && addr.matches("[0-9a-fA-F:.]+"))) {
            return null;
        }
        byte[] b;
        try {
            b = InetAddress.getByName(addr).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
        int bits = b.length * 8;
        int len = bits;
        if (slash >= 0) {
            try {
                len = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                return null;
            }
            if (len < 0 || len > bits) {
                return null;
            }
        }
        return new Object[] {b, len};
    }

    private static boolean contains(Object[] range, String address) {
        Object[] a = cidr(address);
        if (range == null || a == null) {
            return false;
        }
        byte[] r = (byte[]) range[0];
        byte[] x = (byte[]) a[0];
        if (r.length != x.length) {
            return false;
        }
        int len = (int) range[1];
        int bits = r.length * 8;
        if (len == 0) {
            return true;
        }
        BigInteger mask = BigInteger.ONE
                .shiftLeft(bits)
                .subtract(BigInteger.ONE)
                .shiftRight(bits - len)
                .shiftLeft(bits - len);
        return new BigInteger(1, r).and(mask).equals(new BigInteger(1, x).and(mask));
    }
}
