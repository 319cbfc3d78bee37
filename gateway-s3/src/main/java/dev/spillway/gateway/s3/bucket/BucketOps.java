package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;

/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning. */
public final class BucketOps {
    private final S3Context ctx;

    public BucketOps(S3Context ctx) {
        this.ctx = ctx;
    }

    public void listBuckets(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        int max = req.intParam("max-buckets", 10_000, 1, 10_000);
        String prefix = req.param("prefix") == null ? "" : req.param("prefix");
        String token = req.param("continuation-token");
        String after = null;
        if (token != null && !token.isEmpty()) {
            try {
                after = new String(
                        java.util.Base64.getUrlDecoder().decode(token), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect: '" + token + "'");
            }
        }
        XmlWriter w = XmlWriter.document("ListAllMyBucketsResult")
                .start("Owner")
                .element("ID", S3Context.OWNER_ID)
                .element("DisplayName", S3Context.OWNER_ID)
                .end("Owner")
                .start("Buckets");
        int n = 0;
        String last = null;
        boolean truncated = false;
        for (Map.Entry<String, BucketRecord> b : ctx.namespace().buckets().entrySet()) {
            if (!b.getKey().startsWith(prefix) || after != null && b.getKey().compareTo(after) <= 0) {
                continue;
            }
            if (n == max) {
                truncated = true;
                break;
            }
            w.start("Bucket")
                    .element("Name", b.getKey())
                    .element("CreationDate", Instant.ofEpochMilli(b.getValue().createdMillis()))
                    .element("BucketRegion", ctx.config().region())
                    .end("Bucket");
            last = b.getKey();
            n++;
        }
        w.end("Buckets");
        if (truncated) {
            w.element(
                    "ContinuationToken",
                    java.util.Base64.getUrlEncoder()
                            .withoutPadding()
                            .encodeToString(last.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        if (req.param("prefix") != null) {
            w.element("Prefix", prefix);
        }
        out.xml(200, w.finish("ListAllMyBucketsResult"));
    }

    public void create(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        byte[] body = req.smallBody(64 << 10);
        if (body.length > 0) {
            XmlNode conf = XmlNode.parse(body, "CreateBucketConfiguration");
            String location = conf.childText("LocationConstraint");
            if (!conf.name().equals("CreateBucketConfiguration")) {
                throw new S3Exception(
                        S3Error.MALFORMED_XML, "expected <CreateBucketConfiguration>, got <" + conf.name() + ">");
            }
            if (location != null
                    && !location.isEmpty()
                    && !location.equals(ctx.config().region())) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT,
                        "InvalidLocationConstraint: this gateway serves region '"
                                + ctx.config().region() + "', not '" + location + "'");
            }
        }
        try {
            ctx.namespace().createBucket(req.bucket());
        } catch (S3Exception e) {
            // S3's legacy us-east-1 answers its owner's repeated CreateBucket with 200, every
            // other region with BucketAlreadyOwnedByYou.
            if (e.error() != S3Error.BUCKET_ALREADY_OWNED_BY_YOU
                    || !ctx.config().region().equals("us-east-1")) {
                throw e;
            }
        }
        out.header("Location", "/" + req.bucket());
        out.empty(200);
    }

    public void head(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.namespace().bucket(req.bucket());
        out.header("x-amz-bucket-region", ctx.config().region());
        out.empty(200);
    }

    public void delete(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.namespace().deleteBucket(req.bucket());
        out.empty(204);
    }

    public void location(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.namespace().bucket(req.bucket());
        String region = ctx.config().region();
        // us-east-1 answers with an empty constraint, as S3 does.
        out.xml(
                200,
                XmlWriter.document("LocationConstraint")
                        .finishText(region.equals("us-east-1") ? "" : region, "LocationConstraint"));
    }

    public void versioning(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.namespace().bucket(req.bucket());
        // Buckets are unversioned: no Status element, as S3 answers for a bucket never versioned.
        out.xml(200, XmlWriter.document("VersioningConfiguration").finish("VersioningConfiguration"));
    }
}
