package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.access.Access;
import dev.spillway.gateway.s3.access.Acl;
import dev.spillway.gateway.s3.access.Ownership;
import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
public final class BucketOps {
    private final S3Context ctx;

    public BucketOps(S3Context ctx) {
        this.ctx = ctx;
    }

    public void listBuckets(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        CredentialStore.User me = ctx.access().requester(req);
        if (me == null) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED, "Access Denied: listing buckets needs a signed request (an account)");
        }
        int max = req.intParam("max-buckets", 10_000, 1, 10_000);
        String prefix = req.param("prefix") == null ? "" : req.param("prefix");
        String token = req.param("continuation-token");
        String after = null;
        if (token != null && !token.isEmpty()) {
            try {
                after = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new S3Exception(
                        S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect: '" + token + "'");
            }
        }
        XmlWriter w = XmlWriter.document("ListAllMyBucketsResult")
                .start("Owner")
                .element("ID", me.id())
                .element("DisplayName", me.displayName())
                .end("Owner")
                .start("Buckets");
        int n = 0;
        String last = null;
        boolean truncated = false;
        for (Map.Entry<String, BucketRecord> b : ctx.namespace().buckets().entrySet()) {
            if (!b.getKey().startsWith(prefix)
                    || after != null && b.getKey().compareTo(after) <= 0
                    || !ctx.access().bucketOwner(b.getValue()).id().equals(me.id())) {
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
                    Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(StandardCharsets.UTF_8)));
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
        Records.BucketMeta meta = ctx.access().newBucket(req, Records.BucketMeta.NONE);
        String lock = req.header("x-amz-bucket-object-lock-enabled");
        if (lock != null && lock.strip().equalsIgnoreCase("true")) {
            // Object lock needs versioning, and a bucket created with it has both for good.
            meta = meta.withObjectLock(true).withVersioning("Enabled", Namespace.NEW_VERSIONS_INDEX);
        }
        String ownership = req.header("x-amz-object-ownership");
        if (ownership != null) {
            ownership = Ownership.check(ownership);
        }
        try {
            ctx.namespace().createBucket(req.bucket(), meta);
        } catch (S3Exception e) {
            // S3's legacy us-east-1 answers its owner's repeated CreateBucket with 200, every
            // other region with BucketAlreadyOwnedByYou. A repeat that would change the bucket's
            // ACL is refused rather than answered 200 with the ACL left as it was.
            if (e.error() != S3Error.BUCKET_ALREADY_OWNED_BY_YOU
                    || !ctx.config().region().equals("us-east-1")) {
                throw e;
            }
            BucketRecord have = ctx.namespace().bucket(req.bucket());
            String owner = ctx.access().bucketOwner(have).id();
            Acl asked = meta.acl() == null ? Acl.canned("private", owner, owner) : Acl.decode(meta.acl());
            if (!ctx.access().bucketAcl(have).equals(asked)) {
                throw new S3Exception(
                        S3Error.BUCKET_ALREADY_EXISTS,
                        "The requested bucket name is not available: you own " + req.bucket()
                                + " already, with a different ACL (change it with PutBucketAcl)");
            }
            out.header("Location", "/" + req.bucket());
            out.empty(200);
            return;
        }
        if (ownership != null) {
            ctx.namespace().config(req.bucket(), Access.OWNERSHIP, ownership.getBytes(StandardCharsets.UTF_8));
        }
        out.header("Location", "/" + req.bucket());
        out.empty(200);
    }

    public void head(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.access().checkList(req, ctx.namespace().bucket(req.bucket()));
        out.header("x-amz-bucket-region", ctx.config().region());
        out.empty(200);
    }

    public void delete(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.access().checkOwner(req, ctx.namespace().bucket(req.bucket()));
        ctx.namespace().deleteBucket(req.bucket());
        out.empty(204);
    }

    public void location(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        ctx.access().checkOwner(req, ctx.namespace().bucket(req.bucket()));
        String region = ctx.config().region();
        // us-east-1 answers with an empty constraint, as S3 does.
        out.xml(
                200,
                XmlWriter.document("LocationConstraint")
                        .finishText(region.equals("us-east-1") ? "" : region, "LocationConstraint"));
    }
}
