package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A bucket's ownership controls (ObjectOwnership): BucketOwnerEnforced (ACLs off, the bucket's
 * owner owns every object), BucketOwnerPreferred (the bucket owner owns what is written with
 * bucket-owner-full-control), ObjectWriter (the writer owns what it writes). A bucket without
 * them behaves as ObjectWriter, S3's behaviour before April 2023 (see the module README).
 */
public final class Ownership {
    public static final Set<String> VALUES = Set.of("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter");

    private Ownership() {}

    /** The bucket's setting, or null if it has none. */
    public static String of(Namespace ns, String bucket) throws S3Exception {
        try {
            return ns.config(bucket, Access.OWNERSHIP)
                    .map(b -> new String(b, StandardCharsets.UTF_8))
                    .orElse(null);
        } catch (OsdException e) {
            throw S3Exception.of(e);
        }
    }

    /** A value from x-amz-object-ownership, InvalidArgument for any other. */
    public static String check(String value) throws S3Exception {
        String v = value.strip();
        if (!VALUES.contains(v)) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "Invalid x-amz-object-ownership '" + value + "': one of " + VALUES);
        }
        return v;
    }

    /** Parses {@code <OwnershipControls><Rule><ObjectOwnership>}; MalformedXML otherwise. */
    public static String parse(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "OwnershipControls");
        if (!root.name().equals("OwnershipControls") || root.all("Rule").size() != 1) {
            throw new S3Exception(S3Error.MALFORMED_XML, "an <OwnershipControls> document has exactly one <Rule>");
        }
        String v = root.all("Rule").get(0).childText("ObjectOwnership");
        if (v == null || !VALUES.contains(v)) {
            throw new S3Exception(S3Error.MALFORMED_XML, "ObjectOwnership is one of " + VALUES + ", got '" + v + "'");
        }
        return v;
    }

    public static byte[] document(String value) {
        return XmlWriter.document("OwnershipControls")
                .start("Rule")
                .element("ObjectOwnership", value)
                .end("Rule")
                .finish("OwnershipControls");
    }
}
