package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.naming.UriCodec;
import dev.spillway.gateway.s3.store.Records.Header;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Tag sets of objects and buckets: the {@code <Tagging>} document and the {@code x-amz-tagging}
 * header (a URL query string), validated as S3 does: at most 10 tags on an object (50 on a
 * bucket), keys of 1–128 and values of 0–256 characters, no key twice.
 */
public final class Tagging {
    public static final int MAX_OBJECT_TAGS = 10;
    public static final int MAX_BUCKET_TAGS = 50;

    private Tagging() {}

    /** Parses a {@code <Tagging><TagSet><Tag><Key/><Value/></Tag>...} document. */
    public static List<Header> parse(byte[] doc, int max) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "Tagging");
        if (!root.name().equals("Tagging")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <Tagging>, got <" + root.name() + ">");
        }
        List<XmlNode> sets = root.all("TagSet");
        if (sets.size() != 1) {
            throw new S3Exception(S3Error.MALFORMED_XML, "a <Tagging> document has one <TagSet>");
        }
        List<Header> tags = new ArrayList<>();
        for (XmlNode t : sets.get(0).all("Tag")) {
            String k = t.childRawText("Key");
            String v = t.childRawText("Value");
            if (k == null) {
                throw new S3Exception(S3Error.MALFORMED_XML, "a <Tag> has no <Key>");
            }
            tags.add(new Header(k, v == null ? "" : v));
        }
        return validate(tags, max);
    }

    /** Parses the {@code x-amz-tagging} header: {@code k1=v1&k2=v2}, URL-encoded. */
    public static List<Header> parseHeader(String header, int max) throws S3Exception {
        List<Header> tags = new ArrayList<>();
        if (header == null || header.isEmpty()) {
            return tags;
        }
        for (String pair : header.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            try {
                String k = UriCodec.decodeString(eq < 0 ? pair : pair.substring(0, eq), true);
                String v = eq < 0 ? "" : UriCodec.decodeString(pair.substring(eq + 1), true);
                tags.add(new Header(k, v));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "x-amz-tagging is not a URL query string: '" + header + "'");
            }
        }
        return validate(tags, max);
    }

    static List<Header> validate(List<Header> tags, int max) throws S3Exception {
        if (tags.size() > max) {
            throw new S3Exception(
                    S3Error.INVALID_TAG, "Object tags cannot be greater than " + max + ": got " + tags.size());
        }
        Set<String> seen = new HashSet<>();
        for (Header t : tags) {
            if (t.name().isEmpty() || t.name().codePointCount(0, t.name().length()) > 128) {
                throw new S3Exception(
                        S3Error.INVALID_TAG,
                        "The TagKey you have provided is invalid: '" + t.name() + "' (1 to 128 characters)");
            }
            if (t.value().codePointCount(0, t.value().length()) > 256) {
                throw new S3Exception(
                        S3Error.INVALID_TAG,
                        "The TagValue you have provided is too long: tag '" + t.name() + "' (at most 256 characters)");
            }
            if (!seen.add(t.name())) {
                throw new S3Exception(
                        S3Error.INVALID_TAG, "Cannot provide multiple Tags with the same key: '" + t.name() + "'");
            }
        }
        // S3 keeps a tag set ordered by key.
        List<Header> sorted = new ArrayList<>(tags);
        sorted.sort(Comparator.comparing(Header::name));
        return List.copyOf(sorted);
    }

    /** The {@code <Tagging>} document of a tag set. */
    public static byte[] document(List<Header> tags) {
        XmlWriter w = XmlWriter.document("Tagging").start("TagSet");
        for (Header t : tags) {
            w.start("Tag").element("Key", t.name()).element("Value", t.value()).end("Tag");
        }
        return w.end("TagSet").finish("Tagging");
    }
}
