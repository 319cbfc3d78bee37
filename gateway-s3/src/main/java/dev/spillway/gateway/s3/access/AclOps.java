package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.auth.CredentialStore.User;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Get/PutBucketAcl, Get/PutObjectAcl, Get/Put/DeletePublicAccessBlock, Get/Put/Delete
 * BucketOwnershipControls, Get/Put/DeleteBucketPolicy and GetBucketPolicyStatus.
 */
public final class AclOps {
    private final S3Context ctx;
    private final Access access;
    private final BucketObjects store;

    public AclOps(S3Context ctx) {
        this.ctx = ctx;
        this.access = ctx.access();
        this.store = ctx.objects();
    }

    /** The ACL a PutBucketAcl/PutObjectAcl asks for: its headers, else its document. */
    private Acl requested(S3Request req, String owner, String bucketOwner) throws S3Exception {
        Acl fromHeaders = access.requestedAcl(req, owner, bucketOwner);
        byte[] body = req.smallBody(64 << 10);
        if (fromHeaders != null) {
            if (body.length > 0) {
                throw new S3Exception(
                        S3Error.UNEXPECTED_CONTENT,
                        "This request does not support content: an ACL is given by headers or by a document, not both");
            }
            return fromHeaders;
        }
        if (body.length == 0) {
            throw new S3Exception(
                    S3Error.MISSING_SECURITY_HEADER,
                    "Your request was missing a required header: x-amz-acl, an x-amz-grant-* header or an"
                            + " AccessControlPolicy document");
        }
        return Acl.parse(body, access.users());
    }

    private void checkPublic(S3Request req, Acl acl) throws S3Exception {
        if (acl.isPublic()
                && PublicAccessBlock.of(ctx.namespace(), req.bucket()).blockPublicAcls()) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: bucket " + req.bucket()
                            + " blocks public ACLs (PublicAccessBlock BlockPublicAcls)");
        }
    }

    // ---- bucket ---------------------------------------------------------------------------

    public void getBucketAcl(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkBucket(req, b, Acl.Permission.READ_ACP, "read the ACL of");
        out.xml(200, access.bucketAcl(b).document(access.bucketOwner(b), access::displayName));
    }

    public void putBucketAcl(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkBucket(req, b, Acl.Permission.WRITE_ACP, "change the ACL of");
        if ("BucketOwnerEnforced".equals(Ownership.of(ctx.namespace(), req.bucket()))) {
            throw Access.aclsDisabled(req.bucket());
        }
        String owner = access.bucketOwner(b).id();
        Acl acl = requested(req, owner, owner);
        checkPublic(req, acl);
        ctx.namespace()
                .updateBucket(req.bucket(), cur -> cur.withMeta(cur.meta().withAcl(acl.encode())));
        out.empty(200);
    }

    // ---- object ---------------------------------------------------------------------------

    private KeyRecord version(S3Request req, BucketRecord b) throws S3Exception, OsdException {
        try (BucketObjects.Handle h = store.open(b, req.bucket(), req.key(), req.param("versionId"))) {
            return h.record();
        }
    }

    public void getObjectAcl(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        KeyRecord r =
                store.lookup(b, req.bucket(), req.key(), req.param("versionId")).orElse(null);
        access.checkObject(req, b, r, Acl.Permission.READ_ACP, "read the ACL of");
        r = version(req, b);
        if (b.versioned()) {
            out.header("x-amz-version-id", r.versionIdText());
        }
        out.xml(200, access.objectAcl(b, r).document(access.objectOwner(b, r), access::displayName));
    }

    public void putObjectAcl(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        KeyRecord cur =
                store.lookup(b, req.bucket(), req.key(), req.param("versionId")).orElse(null);
        access.checkObject(req, b, cur, Acl.Permission.WRITE_ACP, "change the ACL of");
        if ("BucketOwnerEnforced".equals(Ownership.of(ctx.namespace(), req.bucket()))) {
            throw Access.aclsDisabled(req.bucket());
        }
        User owner = cur == null ? access.bucketOwner(b) : access.objectOwner(b, cur);
        Acl acl = requested(req, owner.id(), access.bucketOwner(b).id());
        checkPublic(req, acl);
        // The ACL changes in place: the version keeps its body, ETag and Last-Modified.
        KeyRecord r = store.update(
                b,
                req.bucket(),
                req.key(),
                req.param("versionId"),
                x -> x.withMeta(x.meta().withAcl(acl.encode())));
        if (b.versioned()) {
            out.header("x-amz-version-id", r.versionIdText());
        }
        out.empty(200);
    }

    // ---- public access block, ownership controls, policy status ---------------------------

    public void putPublicAccessBlock(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        PublicAccessBlock p = PublicAccessBlock.parse(req.smallBody(64 << 10));
        ctx.namespace().config(req.bucket(), Access.PUBLIC_ACCESS_BLOCK, p.document());
        out.empty(200);
    }

    public void getPublicAccessBlock(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        byte[] doc = ctx.namespace()
                .config(req.bucket(), Access.PUBLIC_ACCESS_BLOCK)
                .orElseThrow(() -> new S3Exception(
                        S3Error.NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION,
                        "The public access block configuration was not found: bucket " + req.bucket() + " has none"));
        out.xml(200, doc);
    }

    public void deletePublicAccessBlock(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        ctx.namespace().config(req.bucket(), Access.PUBLIC_ACCESS_BLOCK, null);
        out.empty(204);
    }

    public void putOwnership(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        String v = Ownership.parse(req.smallBody(64 << 10));
        if (v.equals("BucketOwnerEnforced")) {
            String owner = access.bucketOwner(b).id();
            if (!access.bucketAcl(b).equals(Acl.canned("private", owner, owner))) {
                throw new S3Exception(
                        S3Error.INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP,
                        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting: "
                                + req.bucket() + " has an ACL other than private (set it to private first)");
            }
        }
        ctx.namespace().config(req.bucket(), Access.OWNERSHIP, v.getBytes(StandardCharsets.UTF_8));
        out.empty(200);
    }

    public void getOwnership(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        String v = Ownership.of(ctx.namespace(), req.bucket());
        if (v == null) {
            throw new S3Exception(
                    S3Error.OWNERSHIP_CONTROLS_NOT_FOUND,
                    "The bucket ownership controls were not found: bucket " + req.bucket() + " has none");
        }
        out.xml(200, Ownership.document(v));
    }

    public void deleteOwnership(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        ctx.namespace().config(req.bucket(), Access.OWNERSHIP, null);
        out.empty(204);
    }

    /**
     * GetBucketPolicyStatus: public if the bucket's policy is public (an Allow to everyone that no
     * condition pins down), or if its ACL grants anything to everyone or to every authenticated
     * user (unless IgnorePublicAcls).
     */
    public void getPolicyStatus(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        BucketPolicy policy = access.policy(req.bucket());
        boolean pub = policy != null && policy.isPublic()
                || access.bucketAcl(b).isPublic()
                        && !PublicAccessBlock.of(ctx.namespace(), req.bucket()).ignorePublicAcls();
        out.xml(200, XmlWriter.document("PolicyStatus").element("IsPublic", pub).finish("PolicyStatus"));
    }

    /**
     * PutBucketPolicy: checked whole before it is kept (MalformedPolicy, or NotImplemented for a
     * part this gateway cannot enforce); a public policy is AccessDenied where PublicAccessBlock
     * has BlockPublicPolicy.
     */
    public void putPolicy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        byte[] doc = req.smallBody(BucketPolicy.MAX_BYTES);
        BucketPolicy policy = BucketPolicy.parse(doc, req.bucket());
        if (policy.isPublic()
                && PublicAccessBlock.of(ctx.namespace(), req.bucket()).blockPublicPolicy()) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: bucket " + req.bucket()
                            + " blocks public policies (PublicAccessBlock BlockPublicPolicy) and this policy grants"
                            + " to everyone");
        }
        ctx.namespace().config(req.bucket(), Access.POLICY, doc);
        out.empty(204);
    }

    /** GetBucketPolicy: the document as it was put. */
    public void getPolicy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        byte[] doc = ctx.namespace()
                .config(req.bucket(), Access.POLICY)
                .orElseThrow(() -> new S3Exception(
                        S3Error.NO_SUCH_BUCKET_POLICY,
                        "The bucket policy does not exist: bucket " + req.bucket() + " has none"));
        out.json(200, doc);
    }

    /** DeleteBucketPolicy: 204 whether there was one or not, as S3 answers. */
    public void deletePolicy(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        access.checkOwner(req, b);
        ctx.namespace().config(req.bucket(), Access.POLICY, null);
        out.empty(204);
    }
}
