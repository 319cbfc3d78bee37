package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Namespace;
import java.util.Set;
import java.util.TreeSet;

/** S3's storage classes, as {@code x-amz-storage-class} names them. */
public final class StorageClasses {
    /** Every class S3 knows. */
    public static final Set<String> KNOWN = Set.of(
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "OUTPOSTS",
            "GLACIER_IR",
            "SNOW",
            "EXPRESS_ONEZONE");

    private StorageClasses() {}

    /**
     * The class a write asks for: null for none or STANDARD (the pool decides), the name for a
     * class this gateway places; InvalidStorageClass for any other name.
     */
    public static String parse(String header, Namespace ns) throws S3Exception {
        if (header == null || header.isBlank() || header.strip().equals("STANDARD")) {
            return null;
        }
        String c = header.strip();
        if (ns.storageClassTiers().containsKey(c)) {
            return c;
        }
        throw new S3Exception(
                S3Error.INVALID_STORAGE_CLASS,
                "The storage class you specified is not valid: '" + c + "'; this gateway places "
                        + (ns.storageClassTiers().isEmpty()
                                ? "only STANDARD (the pool has no background tier mapped to a class)"
                                : "STANDARD and "
                                        + new TreeSet<>(ns.storageClassTiers().keySet())));
    }
}
