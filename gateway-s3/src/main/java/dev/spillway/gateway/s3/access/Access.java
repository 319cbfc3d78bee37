package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.auth.CredentialStore.User;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.naming.Names;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Who may do what. Every signed request has passed SigV4 by the time an operation runs; this
 * decides whether its signer (or an anonymous caller) may act on the bucket or object.
 *
 * <p>The rules, S3's for a bucket whose ACLs are enabled: the bucket's owner (the credential's
 * user that created it) may do everything with it, and an object's owner (its writer, or the
 * bucket owner where ownership controls say so) everything with the object; anyone else only
 * what an ACL grants (READ of a bucket lists it, WRITE writes and deletes in it, READ of an
 * object reads it, READ_ACP/WRITE_ACP the ACLs), with the grants to everyone counting for
 * nothing under PublicAccessBlock's IgnorePublicAcls. Bucket configuration (versioning, tags,
 * CORS, lifecycle, lock, access blocks, ownership) is the owner's only. An anonymous caller is
 * no user at all: only grants to everyone apply to it.
 */
public class Access {
    /** Bucket configuration kinds this class reads. */
    public static final String PUBLIC_ACCESS_BLOCK = "public-access-block";

    public static final String OWNERSHIP = "ownership";

    public static final String POLICY = "policy";

    /** A bucket's policy as last parsed, reused while its document stays the same. */
    private record ParsedPolicy(byte[] doc, BucketPolicy policy) {}

    // Bucket name → its parsed policy; one entry per bucket that has a policy, replaced when the
    // stored document differs (a put or a delete), so every request still reads the stored one.
    private final ConcurrentHashMap<String, ParsedPolicy> policies = new ConcurrentHashMap<>();

    private final CredentialStore users;
    private final Namespace ns;

    public Access(CredentialStore users, Namespace ns) {
        this.users = users;
        this.ns = ns;
    }

    public CredentialStore users() {
        return users;
    }

    /** The signer's user, or null for an anonymous request. */
    public User requester(S3Request req) {
        String ak = req.auth() == null ? null : req.auth().accessKey();
        return ak == null ? null : users.user(ak);
    }

    private String requesterId(S3Request req) {
        User u = requester(req);
        return u == null ? null : u.id();
    }

    public User bucketOwner(BucketRecord b) {
        String id = b.meta().owner();
        return id == null ? users.firstUser() : user(id);
    }

    /** A user by id (its display name), or a user of that id and name if the store forgot it. */
    public User user(String id) {
        return users.userById(id).orElse(new User(id, id));
    }

    public String displayName(String id) {
        return user(id).displayName();
    }

    /** The owner of a version: its writer, or the bucket owner for versions written before owners were kept. */
    public User objectOwner(BucketRecord b, KeyRecord r) {
        return r.meta().owner() == null ? bucketOwner(b) : user(r.meta().owner());
    }

    /** The owner id shown for a version in listings. */
    public String ownerOf(BucketRecord b, KeyRecord r) {
        return objectOwner(b, r).id();
    }

    public Acl bucketAcl(BucketRecord b) {
        return b.meta().acl() == null
                ? new Acl(List.of(Acl.user(bucketOwner(b).id(), Acl.Permission.FULL_CONTROL)))
                : Acl.decode(b.meta().acl());
    }

    public Acl objectAcl(BucketRecord b, KeyRecord r) {
        return r.meta().acl() == null
                ? new Acl(List.of(Acl.user(objectOwner(b, r).id(), Acl.Permission.FULL_CONTROL)))
                : Acl.decode(r.meta().acl());
    }

    // ---- bucket policies ------------------------------------------------------------------

    /** The bucket's policy, or null if it has none. */
    public BucketPolicy policy(String bucket) throws S3Exception {
        byte[] doc;
        try {
            doc = ns.config(bucket, POLICY).orElse(null);
        } catch (OsdException e) {
            throw S3Exception.of(e);
        }
        if (doc == null) {
            policies.remove(bucket);
            return null;
        }
        ParsedPolicy have = policies.get(bucket);
        if (have != null && Arrays.equals(have.doc(), doc)) {
            return have.policy();
        }
        BucketPolicy p = BucketPolicy.parse(doc, bucket);
        policies.put(bucket, new ParsedPolicy(doc, p));
        return p;
    }

    private static String arn(String bucket, byte[] key) {
        return "arn:aws:s3:::" + bucket + (key == null ? "" : "/" + new String(key, StandardCharsets.UTF_8));
    }

    /** The condition keys a request carries (lower case), {@code prefix} as s3:prefix if not null. */
    private Map<String, String> context(S3Request req, String me, String prefix) {
        Map<String, String> c = new HashMap<>();
        if (req.remoteAddress() != null) {
            c.put("aws:sourceip", req.remoteAddress());
        }
        c.put("aws:securetransport", Boolean.toString(req.secure()));
        if (me != null) {
            c.put("aws:userid", me);
        }
        String[][] from = {
            {"s3:x-amz-acl", req.header("x-amz-acl")},
            {"s3:x-amz-storage-class", req.header("x-amz-storage-class")},
            {"s3:versionid", req.param("versionId")},
            {"s3:prefix", prefix},
            {"s3:delimiter", req.key() == null ? req.param("delimiter") : null},
            {"s3:max-keys", req.key() == null ? req.param("max-keys") : null},
        };
        for (String[] kv : from) {
            if (kv[1] != null) {
                c.put(kv[0], kv[1]);
            }
        }
        return c;
    }

    /**
     * What bucket {@code bucket}'s policy says about this request doing {@code action} on
     * {@code resource}. Under RestrictPublicBuckets a public policy grants nothing to anyone but
     * the bucket's owner (its Deny statements still apply).
     */
    private BucketPolicy.Decision policy(
            S3Request req, String bucket, boolean owner, String action, String resource, String prefix)
            throws S3Exception {
        BucketPolicy p = policy(bucket);
        if (p == null) {
            return BucketPolicy.Decision.NONE;
        }
        String me = requesterId(req);
        BucketPolicy.Decision d = p.evaluate(me, action, resource, context(req, me, prefix));
        if (d == BucketPolicy.Decision.ALLOW
                && !owner
                && p.isPublic()
                && PublicAccessBlock.of(ns, bucket).restrictPublicBuckets()) {
            return BucketPolicy.Decision.NONE;
        }
        return d;
    }

    private static S3Exception deniedByPolicy(S3Request req, String action, String resource) {
        return new S3Exception(
                S3Error.ACCESS_DENIED,
                "Access Denied: the bucket policy of " + req.bucket() + " denies " + action + " on " + resource + " to "
                        + (req.auth() == null || req.auth().accessKey() == null
                                ? "anonymous requests"
                                : "access key " + req.auth().accessKey()));
    }

    private static boolean policyAction(String action) {
        return action.equals("s3:GetBucketPolicy")
                || action.equals("s3:PutBucketPolicy")
                || action.equals("s3:DeleteBucketPolicy");
    }

    // ---- checks ---------------------------------------------------------------------------

    private static S3Exception denied(S3Request req, String what) {
        return new S3Exception(
                S3Error.ACCESS_DENIED,
                "Access Denied: "
                        + (req.auth() == null || req.auth().accessKey() == null
                                ? "an anonymous request"
                                : "access key " + req.auth().accessKey())
                        + " may not " + what);
    }

    /** AccessDenied if the request says which account must own the bucket and another does. */
    private void expectedOwner(S3Request req, BucketRecord b) throws S3Exception {
        String expected = req.header("x-amz-expected-bucket-owner");
        if (expected != null && !expected.strip().equals(bucketOwner(b).id())) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: x-amz-expected-bucket-owner is " + expected + ", bucket " + req.bucket()
                            + " belongs to another account");
        }
    }

    private boolean ignorePublic(String bucket) throws S3Exception {
        return PublicAccessBlock.of(ns, bucket).ignorePublicAcls();
    }

    /** The bucket's owner, or a grant of {@code p} on the bucket; AccessDenied otherwise. */
    public void checkBucket(S3Request req, BucketRecord b, Acl.Permission p, String what) throws S3Exception {
        expectedOwner(req, b);
        String me = requesterId(req);
        boolean owner = bucketOwner(b).id().equals(me);
        String action = Actions.of(req);
        String resource = arn(req.bucket(), req.key());
        String prefix = req.key() == null ? req.param("prefix") : null;
        BucketPolicy.Decision d = policy(req, req.bucket(), owner, action, resource, prefix);
        if (d == BucketPolicy.Decision.DENY) {
            throw deniedByPolicy(req, action, resource);
        }
        if (owner || d == BucketPolicy.Decision.ALLOW) {
            return;
        }
        if (!bucketAcl(b).allows(me, p, ignorePublic(req.bucket()))) {
            throw denied(req, what + " bucket " + req.bucket());
        }
    }

    /** Listing a bucket's keys or versions (and HEAD of it): READ. */
    public void checkList(S3Request req, BucketRecord b) throws S3Exception {
        checkBucket(req, b, Acl.Permission.READ, "list");
    }

    /** Writing or deleting in a bucket: WRITE. */
    public void checkWrite(S3Request req, BucketRecord b) throws S3Exception {
        checkBucket(req, b, Acl.Permission.WRITE, "write to");
    }

    /**
     * Writing or deleting key {@code key} named in the request's body (DeleteObjects, a POST
     * form): {@code action} on that key under the bucket's policy, else the owner or WRITE.
     */
    public void checkWrite(S3Request req, BucketRecord b, byte[] key, String action) throws S3Exception {
        expectedOwner(req, b);
        String me = requesterId(req);
        boolean owner = bucketOwner(b).id().equals(me);
        String resource = arn(req.bucket(), key);
        BucketPolicy.Decision d = policy(req, req.bucket(), owner, action, resource, null);
        if (d == BucketPolicy.Decision.DENY) {
            throw deniedByPolicy(req, action, resource);
        }
        if (owner || d == BucketPolicy.Decision.ALLOW) {
            return;
        }
        if (!bucketAcl(b).allows(me, Acl.Permission.WRITE, ignorePublic(req.bucket()))) {
            throw denied(req, "write to bucket " + req.bucket());
        }
    }

    /** Bucket configuration and deletion: the owner only. */
    public void checkOwner(S3Request req, BucketRecord b) throws S3Exception {
        expectedOwner(req, b);
        boolean owner = bucketOwner(b).id().equals(requesterId(req));
        String action = Actions.of(req);
        String resource = arn(req.bucket(), null);
        BucketPolicy.Decision d = policy(req, req.bucket(), owner, action, resource, null);
        // The owner can always manage the policy itself, so a Deny cannot lock it out for good.
        if (d == BucketPolicy.Decision.DENY && !(owner && policyAction(action))) {
            throw deniedByPolicy(req, action, resource);
        }
        if (!owner && d != BucketPolicy.Decision.ALLOW) {
            throw denied(req, "change or read the configuration of bucket " + req.bucket() + " (its owner's)");
        }
    }

    /**
     * Reading a version: its owner, or a grant of READ on it. A version that does not exist is
     * NoSuchKey for whoever may list the bucket, AccessDenied for anyone else (S3 does not tell
     * them what exists).
     */
    public void checkRead(S3Request req, BucketRecord b, KeyRecord r) throws S3Exception {
        checkObject(req, b, r, Acl.Permission.READ, "read");
    }

    /** READ_ACP / WRITE_ACP of a version, as {@link #checkRead}. */
    public void checkObject(S3Request req, BucketRecord b, KeyRecord r, Acl.Permission p, String what)
            throws S3Exception {
        expectedOwner(req, b);
        checkObjectAs(req, req.bucket(), req.key(), b, r, p, what, Actions.of(req));
    }

    /**
     * Reading the source of a copy (CopyObject, UploadPartCopy): s3:GetObject (or
     * GetObjectVersion) on the source, judged by the source bucket's owner, ACLs, policy and
     * PublicAccessBlock.
     */
    public void checkCopySource(S3Request req, String bucket, byte[] key, String versionId, BucketRecord b, KeyRecord r)
            throws S3Exception {
        String expected = req.header("x-amz-source-expected-bucket-owner");
        if (expected != null && !expected.strip().equals(bucketOwner(b).id())) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: x-amz-source-expected-bucket-owner is " + expected + ", bucket " + bucket
                            + " belongs to another account");
        }
        checkObjectAs(
                req,
                bucket,
                key,
                b,
                r,
                Acl.Permission.READ,
                "read",
                versionId == null ? "s3:GetObject" : "s3:GetObjectVersion");
    }

    private void checkObjectAs(
            S3Request req,
            String bucket,
            byte[] key,
            BucketRecord b,
            KeyRecord r,
            Acl.Permission p,
            String what,
            String action)
            throws S3Exception {
        String me = requesterId(req);
        String resource = arn(bucket, key);
        boolean bucketOwner = bucketOwner(b).id().equals(me);
        if (r == null) {
            // A version that does not exist: NoSuchKey for whoever may list the bucket (as
            // s3:ListBucket with the key as s3:prefix), AccessDenied for anyone else.
            BucketPolicy.Decision d = policy(req, bucket, bucketOwner, action, resource, null);
            if (d == BucketPolicy.Decision.DENY) {
                throw deniedByPolicy(req, action, resource);
            }
            String k = new String(key, StandardCharsets.UTF_8);
            BucketPolicy.Decision list = policy(req, bucket, bucketOwner, "s3:ListBucket", arn(bucket, null), k);
            if (list == BucketPolicy.Decision.ALLOW && d != BucketPolicy.Decision.DENY) {
                return;
            }
            if (!bucketOwner && !bucketAcl(b).allows(me, Acl.Permission.READ, ignorePublic(bucket))) {
                throw denied(req, what + " " + bucket + "/" + Names.show(key));
            }
            return;
        }
        BucketPolicy.Decision d = policy(req, bucket, bucketOwner, action, resource, null);
        if (d == BucketPolicy.Decision.DENY) {
            throw deniedByPolicy(req, action, resource);
        }
        if (objectOwner(b, r).id().equals(me) || d == BucketPolicy.Decision.ALLOW) {
            return;
        }
        if (!objectAcl(b, r).allows(me, p, ignorePublic(bucket))) {
            throw denied(req, what + " " + bucket + "/" + Names.show(key));
        }
    }

    // ---- what new buckets and versions get ------------------------------------------------

    /** The ACL a request's x-amz-acl or x-amz-grant-* headers ask for, or null for none. */
    Acl requestedAcl(S3Request req, String owner, String bucketOwner) throws S3Exception {
        return requestedAcl(req::header, owner, bucketOwner);
    }

    Acl requestedAcl(Function<String, String> header, String owner, String bucketOwner) throws S3Exception {
        String canned = header.apply("x-amz-acl");
        boolean grants = Acl.hasGrantHeaders(header);
        if (canned != null && grants) {
            throw new S3Exception(
                    S3Error.INVALID_REQUEST, "Specifying both Canned ACLs and Header Grants is not allowed");
        }
        if (canned != null) {
            return Acl.canned(canned.strip(), owner, bucketOwner);
        }
        return grants ? Acl.fromHeaders(header, owner, users) : null;
    }

    /** The owner and ACL of a new bucket. */
    public Records.BucketMeta newBucket(S3Request req, Records.BucketMeta meta) throws S3Exception {
        User me = requester(req);
        if (me == null) {
            throw denied(req, "create bucket " + req.bucket());
        }
        meta = meta.withOwner(me.id());
        Acl acl = requestedAcl(req, me.id(), me.id());
        String ownership = req.header("x-amz-object-ownership");
        if (acl != null
                && !acl.equals(Acl.canned("private", me.id(), me.id()))
                && "BucketOwnerEnforced".equals(ownership == null ? null : ownership.strip())) {
            throw aclsDisabled(req.bucket());
        }
        return acl == null ? meta : meta.withAcl(acl.encode());
    }

    /**
     * The owner and ACL a new version gets, from the writer, the bucket's ownership controls and
     * the request's ACL headers. AccessControlListNotSupported for an ACL on a bucket whose
     * objects its owner owns (BucketOwnerEnforced), AccessDenied for a public ACL where
     * PublicAccessBlock blocks public ACLs.
     */
    public Records.Meta objectAcl(S3Request req, BucketRecord b, Records.Meta meta) throws S3Exception, OsdException {
        return objectAcl(req::header, requester(req), req.bucket(), b, meta);
    }

    /** {@link #objectAcl(S3Request, BucketRecord, Records.Meta)} with the ACL fields of a POST form. */
    public Records.Meta objectAcl(
            Function<String, String> header, User me, String bucketName, BucketRecord b, Records.Meta meta)
            throws S3Exception {
        String bucketOwner = bucketOwner(b).id();
        String writer = me == null ? bucketOwner : me.id();
        String ownership = Ownership.of(ns, bucketName);
        String canned = header.apply("x-amz-acl");
        String owner = writer;
        if ("BucketOwnerEnforced".equals(ownership)) {
            if (Acl.hasGrantHeaders(header) || canned != null && !canned.strip().equals("bucket-owner-full-control")) {
                throw aclsDisabled(bucketName);
            }
            return meta.withOwner(stored(bucketOwner, b, bucketOwner)).withAcl(null);
        }
        if ("BucketOwnerPreferred".equals(ownership)
                && canned != null
                && canned.strip().equals("bucket-owner-full-control")) {
            owner = bucketOwner;
        }
        Acl acl = requestedAcl(header, owner, bucketOwner);
        if (acl != null
                && acl.isPublic()
                && PublicAccessBlock.of(ns, bucketName).blockPublicAcls()) {
            throw new S3Exception(
                    S3Error.ACCESS_DENIED,
                    "Access Denied: bucket " + bucketName + " blocks public ACLs (PublicAccessBlock BlockPublicAcls)");
        }
        Acl plain = Acl.canned("private", owner, bucketOwner);
        return meta.withOwner(stored(owner, b, bucketOwner))
                .withAcl(acl == null || acl.equals(plain) ? null : acl.encode());
    }

    /**
     * The owner id a version records: none for the owner of a bucket made before owners were
     * kept (so its old and new versions read the same), else the owner.
     */
    private static String stored(String owner, BucketRecord b, String bucketOwner) {
        return owner.equals(bucketOwner) && b.meta().owner() == null ? null : owner;
    }

    static S3Exception aclsDisabled(String bucket) {
        return new S3Exception(
                S3Error.ACCESS_CONTROL_LIST_NOT_SUPPORTED,
                "The bucket does not allow ACLs: " + bucket
                        + " has ObjectOwnership BucketOwnerEnforced (only bucket-owner-full-control, or no ACL, is accepted)");
    }
}
