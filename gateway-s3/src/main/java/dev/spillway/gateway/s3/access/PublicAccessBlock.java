package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;

/**
 * A bucket's PublicAccessBlock configuration. BlockPublicAcls refuses a write whose ACL grants
 * anything to everyone or to every authenticated user; IgnorePublicAcls makes such grants count
 * for nothing; BlockPublicPolicy and RestrictPublicBuckets concern bucket policies, which this
 * gateway does not have (kept and answered, nothing to enforce).
 */
public record PublicAccessBlock(
        boolean blockPublicAcls, boolean ignorePublicAcls, boolean blockPublicPolicy, boolean restrictPublicBuckets) {
    public static final PublicAccessBlock NONE = new PublicAccessBlock(false, false, false, false);

    /** The bucket's configuration, {@link #NONE} if it has none. */
    public static PublicAccessBlock of(Namespace ns, String bucket) throws S3Exception {
        try {
            byte[] doc = ns.config(bucket, Access.PUBLIC_ACCESS_BLOCK).orElse(null);
            return doc == null ? NONE : parse(doc);
        } catch (OsdException e) {
            throw S3Exception.of(e);
        }
    }

    public static PublicAccessBlock parse(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "PublicAccessBlockConfiguration");
        if (!root.name().equals("PublicAccessBlockConfiguration")) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "expected <PublicAccessBlockConfiguration>, got <" + root.name() + ">");
        }
        return new PublicAccessBlock(
                flag(root, "BlockPublicAcls"),
                flag(root, "IgnorePublicAcls"),
                flag(root, "BlockPublicPolicy"),
                flag(root, "RestrictPublicBuckets"));
    }

    private static boolean flag(XmlNode root, String name) throws S3Exception {
        String v = root.childText(name);
        if (v == null || v.equalsIgnoreCase("false")) {
            return false;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        throw new S3Exception(S3Error.MALFORMED_XML, name + " is true or false, got '" + v + "'");
    }

    public byte[] document() {
        return XmlWriter.document("PublicAccessBlockConfiguration")
                .element("BlockPublicAcls", blockPublicAcls)
                .element("IgnorePublicAcls", ignorePublicAcls)
                .element("BlockPublicPolicy", blockPublicPolicy)
                .element("RestrictPublicBuckets", restrictPublicBuckets)
                .finish("PublicAccessBlockConfiguration");
    }
}
