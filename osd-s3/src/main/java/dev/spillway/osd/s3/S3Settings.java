package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Set;

/**
 * The settings of an osd-s3 device, as they come from the pool's YAML ({@code settings:} of a
 * {@code backend: s3} device). Every error names the device and the key.
 *
 * @param endpoint the S3 endpoint ({@code http://127.0.0.1:9000}); null for AWS's own, by region
 * @param region the signing region
 * @param bucket the bucket (it must exist)
 * @param prefix the key prefix of this device, empty or ending in {@code /}; several devices (of
 *     one pool or of several) share a bucket under different prefixes
 * @param accessKey the access key, or null for the SDK's default credential chain
 * @param secretKey the secret key, with {@code accessKey}
 * @param pathStyle path-style addressing ({@code endpoint/bucket/key}), as most non-AWS servers need
 * @param connectTimeout TCP connect timeout
 * @param requestTimeout socket read timeout of one attempt (a slower server is an error, retried)
 * @param retries retries after the first attempt, with exponential back-off, for throttling, 5xx
 *     and I/O errors (the SDK's standard strategy)
 * @param quota the bytes this device may hold: object stores have no size, so statfs reports this
 * @param maxObjects the objects this device may hold ({@code Long.MAX_VALUE}: unlimited)
 * @param partSize bodies up to this size are one PUT; larger ones a multipart upload of parts of
 *     this size (5 MiB to 1 GiB; larger for a body declared past 10,000 parts)
 * @param uploadConcurrency parts of one body in flight at once (memory: part size x (this + 1))
 * @param maxConnections HTTP connections of the device's client
 */
public record S3Settings(
        URI endpoint,
        String region,
        String bucket,
        String prefix,
        String accessKey,
        String secretKey,
        boolean pathStyle,
        Duration connectTimeout,
        Duration requestTimeout,
        int retries,
        long quota,
        long maxObjects,
        long partSize,
        int uploadConcurrency,
        int maxConnections) {

    /** The smallest part S3 accepts (but the last). */
    public static final long MIN_PART = 5L << 20;
    /** The largest part (and single PUT) S3 accepts. */
    public static final long MAX_PART = 5L << 30;
    /** The largest part osd-s3 buffers (parts live in memory while they upload). */
    public static final long MAX_BUFFERED_PART = 1L << 30;

    static final Set<String> KEYS = Set.of(
            "endpoint",
            "region",
            "bucket",
            "prefix",
            "access-key",
            "secret-key",
            "path-style",
            "connect-timeout",
            "request-timeout",
            "retries",
            "quota",
            "max-objects",
            "part-size",
            "upload-concurrency",
            "max-connections");

    private static OsdException bad(OsdConfig c, String key, String why) {
        return new OsdException(Errno.EINVAL, c.name(), "setting '" + key + "' of backend s3: " + why);
    }

    /** Reads and checks the settings of {@code c}. */
    public static S3Settings of(OsdConfig c) throws OsdException {
        c.checkKnown(KEYS);
        URI endpoint = null;
        if (c.has("endpoint")) {
            try {
                endpoint = new URI(c.requireString("endpoint"));
            } catch (URISyntaxException e) {
                throw bad(c, "endpoint", "not a URI: " + e.getMessage());
            }
            if (endpoint.getScheme() == null
                    || !(endpoint.getScheme().equals("http")
                            || endpoint.getScheme().equals("https"))
                    || endpoint.getHost() == null) {
                throw bad(c, "endpoint", "want http://host[:port] or https://host[:port], got '" + endpoint + "'");
            }
        }
        String bucket = c.requireString("bucket");
        String prefix = c.string("prefix", "");
        if (prefix.startsWith("/")) {
            throw bad(c, "prefix", "must not start with '/' (S3 keys are relative to the bucket): '" + prefix + "'");
        }
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
        if (prefix.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 512) {
            throw bad(c, "prefix", "longer than 512 bytes: object keys would pass S3's 1,024-byte limit");
        }
        String ak = c.string("access-key", null);
        String sk = c.string("secret-key", null);
        if ((ak == null) != (sk == null)) {
            throw bad(
                    c,
                    ak == null ? "access-key" : "secret-key",
                    "access-key and secret-key go together (or neither: the SDK's default chain)");
        }
        long quota = c.bytes("quota", 1L << 50);
        if (quota <= 0) {
            throw bad(c, "quota", "must be positive, got " + quota);
        }
        long maxObjects = c.integer("max-objects", Long.MAX_VALUE);
        if (maxObjects <= 0) {
            throw bad(c, "max-objects", "must be positive, got " + maxObjects);
        }
        long part = c.bytes("part-size", 8L << 20);
        if (part < MIN_PART || part > MAX_BUFFERED_PART) {
            throw bad(
                    c,
                    "part-size",
                    "must be between 5 MiB (S3's smallest part) and 1 GiB (parts are buffered in memory), got " + part);
        }
        int retries = (int) c.integer("retries", 3);
        if (retries < 0 || retries > 20) {
            throw bad(c, "retries", "must be 0..20, got " + retries);
        }
        int conc = (int) c.integer("upload-concurrency", 2);
        if (conc < 1 || conc > 64) {
            throw bad(c, "upload-concurrency", "must be 1..64, got " + conc);
        }
        int conns = (int) c.integer("max-connections", 32);
        if (conns < 1) {
            throw bad(c, "max-connections", "must be positive, got " + conns);
        }
        Duration connect = c.duration("connect-timeout", Duration.ofSeconds(10));
        Duration request = c.duration("request-timeout", Duration.ofSeconds(60));
        if (connect.isNegative() || connect.isZero() || request.isNegative() || request.isZero()) {
            throw bad(
                    c,
                    connect.isNegative() || connect.isZero() ? "connect-timeout" : "request-timeout",
                    "must be positive");
        }
        return new S3Settings(
                endpoint,
                c.string("region", "us-east-1"),
                bucket,
                prefix,
                ak,
                sk,
                c.bool("path-style", false),
                connect,
                request,
                retries,
                quota,
                maxObjects,
                part,
                conc,
                conns);
    }

    /** Where this device lives, for messages: {@code s3://bucket/prefix at endpoint}. */
    public String where() {
        return "s3://" + bucket + "/" + prefix + (endpoint != null ? " at " + endpoint : "");
    }
}
