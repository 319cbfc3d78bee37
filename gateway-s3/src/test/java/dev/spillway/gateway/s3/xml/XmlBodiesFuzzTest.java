package dev.spillway.gateway.s3.xml;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.osd.testkit.fuzz.AllocationBound;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of the S3 XML request bodies:
 * CompleteMultipartUpload, Delete and CreateBucketConfiguration all go through {@link
 * XmlNode#parse} and are read with {@link XmlNode#all}, {@link XmlNode#childText} and {@link
 * XmlNode#childRawText}. For any body the parser returns a tree or throws MalformedXML; nothing
 * else (no StackOverflowError from nesting, no entity expansion, no file read through an external
 * entity), within a bounded allocation. The seeds are the three documents as the AWS SDK, aws-cli
 * and boto3 send them.
 */
class XmlBodiesFuzzTest {
    private static final AllocationBound BOUND = new AllocationBound(2 << 20, 64);

    @FuzzTest
    void parse(byte[] body) {
        XmlNode[] out = new XmlNode[1];
        try {
            BOUND.check(body.length, () -> out[0] = XmlNode.parse(body, "Delete"));
        } catch (S3Exception e) {
            assertThat(e.error()).isEqualTo(S3Error.MALFORMED_XML);
            return;
        }
        walk(out[0], 1);
    }

    /** What the operations read of a document, everywhere in the tree. */
    private static void walk(XmlNode n, int depth) {
        assertThat(depth).isLessThanOrEqualTo(XmlNode.MAX_DEPTH);
        assertThat(n.name()).isNotNull();
        assertThat(n.text()).doesNotContain("root:x:0:0"); // no external entity read /etc/passwd
        for (String child :
                new String[] {"Part", "Object", "Key", "PartNumber", "ETag", "Quiet", "LocationConstraint"}) {
            n.all(child);
            n.childText(child);
            n.childRawText(child);
        }
        for (XmlNode c : n.children()) {
            walk(c, depth + 1);
        }
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        String ns = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
        s.put(
                "complete-multipart-sdk",
                ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload" + ns
                                + "><Part><ETag>\"6bcf86bed8807b8e78f0fc6e0a53079d\"</ETag><PartNumber>1</PartNumber></Part>"
                                + "<Part><ETag>\"a9e0e1e0e5d1b3c2f1e4d5c6b7a89012\"</ETag><PartNumber>2</PartNumber>"
                                + "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>")
                        .getBytes(StandardCharsets.UTF_8));
        s.put(
                "delete-quiet",
                ("<Delete" + ns + "><Object><Key>photos/2026/cat.jpg</Key></Object>"
                                + "<Object><Key> a key with spaces &amp; entities &lt;&gt; </Key></Object>"
                                + "<Object><Key><![CDATA[cdata/key]]></Key></Object><Quiet>true</Quiet></Delete>")
                        .getBytes(StandardCharsets.UTF_8));
        s.put(
                "delete-pretty",
                ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete>\n  <Object>\n    <Key>é/ü</Key>\n"
                                + "  </Object>\n  <Quiet>false</Quiet>\n</Delete>\n")
                        .getBytes(StandardCharsets.UTF_8));
        s.put(
                "create-bucket-configuration",
                ("<CreateBucketConfiguration" + ns
                                + "><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
                        .getBytes(StandardCharsets.UTF_8));
        s.put(
                "external-entity",
                ("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                                + "<Delete><Object><Key>&x;</Key></Object></Delete>")
                        .getBytes(StandardCharsets.UTF_8));
        s.put(
                "billion-laughs",
                ("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
                                + "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
                                + "<Delete><Object><Key>&c;</Key></Object></Delete>")
                        .getBytes(StandardCharsets.UTF_8));
        return s;
    }

    @Test
    void seedCorpusHoldsTheDocuments() throws Exception {
        Map<String, byte[]> seeds = seeds();
        for (String name :
                new String[] {"complete-multipart-sdk", "delete-quiet", "delete-pretty", "create-bucket-configuration"
                }) {
            XmlNode n = XmlNode.parse(seeds.get(name), name);
            assertThat(n.children()).as(name).isNotEmpty();
        }
        assertThat(XmlNode.parse(seeds.get("delete-quiet"), "Delete")
                        .all("Object")
                        .get(1)
                        .childRawText("Key"))
                .isEqualTo(" a key with spaces & entities <> ");
        SeedCorpus.of(getClass(), "parse").check(seeds);
    }

    /**
     * Before the depth limit, a body of elements nested a million deep (7 MB: a
     * CompleteMultipartUpload may have 8 MiB) threw StackOverflowError out of the recursive
     * parse on a JDK whose JAXP sets no element depth limit (seen on JDK 17): an Error, which
     * neither the parser's catch nor the handler's (RuntimeException) stops. JDK 25 happens to
     * stop at 100 levels ({@code jdk.xml.maxElementDepth}); the gateway's own limit holds on
     * every JDK >= 21 it runs on.
     */
    @Test
    void deepNestingIsMalformedXmlNotAStackOverflow() {
        int depth = 1_000_000;
        StringBuilder sb = new StringBuilder(depth * 7);
        sb.append("<a>".repeat(depth)).append("</a>".repeat(depth));
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        Assertions.assertThatThrownBy(() -> XmlNode.parse(body, "Delete"))
                .isInstanceOfSatisfying(
                        S3Exception.class, e -> assertThat(e.error()).isEqualTo(S3Error.MALFORMED_XML))
                .hasMessageContaining("nested deeper than " + XmlNode.MAX_DEPTH);
    }
}
