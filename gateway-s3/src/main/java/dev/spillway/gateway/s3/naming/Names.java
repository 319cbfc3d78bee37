package dev.spillway.gateway.s3.naming;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** S3's naming rules for buckets and keys. */
public final class Names {
    /** S3's limit on a key's length in bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern IPV4 = Pattern.compile("\\d+\\.\\d+\\.\\d+\\.\\d+");

    private Names() {}

    /** Checks a bucket name against S3's rules (3-63 chars, lower case, no IP form, no "..").*/
    public static void checkBucket(String name) throws S3Exception {
        if (!BUCKET.matcher(name).matches()
                || IPV4.matcher(name).matches()
                || name.contains("..")
                || name.contains(".-")
                || name.contains("-.")) {
            throw new S3Exception(
                    S3Error.INVALID_BUCKET_NAME,
                    "The specified bucket is not valid: '" + name
                            + "' (3-63 characters of a-z, 0-9, '.', '-', starting and ending with a letter or digit)");
        }
    }

    /** Checks a key: 1 to 1,024 bytes; any bytes at all otherwise. */
    public static void checkKey(byte[] key) throws S3Exception {
        if (key.length == 0) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "the object key is empty");
        }
        if (key.length > MAX_KEY_BYTES) {
            throw new S3Exception(
                    S3Error.KEY_TOO_LONG,
                    "Your key is too long: " + key.length + " bytes, the limit is " + MAX_KEY_BYTES);
        }
    }

    /** A key as text for messages and XML; bytes that are not UTF-8 show as U+FFFD. */
    public static String show(byte[] key) {
        return new String(key, StandardCharsets.UTF_8);
    }
}
