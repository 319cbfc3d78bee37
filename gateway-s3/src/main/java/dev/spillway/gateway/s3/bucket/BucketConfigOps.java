package dev.spillway.gateway.s3.bucket;

import dev.spillway.gateway.s3.cors.CorsConfiguration;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Context;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.http.S3Response;
import dev.spillway.gateway.s3.lifecycle.LifecycleConfiguration;
import dev.spillway.gateway.s3.lifecycle.LifecyclePlanner;
import dev.spillway.gateway.s3.lifecycle.LifecycleWorker;
import dev.spillway.gateway.s3.object.ObjectLock;
import dev.spillway.gateway.s3.object.Tagging;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.util.List;

/**
 * A bucket's settings: versioning, tagging and object lock. Versioning and object lock live in
 * the bucket record (every write consults them); tagging is a configuration document beside it.
 */
public final class BucketConfigOps {
    /** Configuration document kinds ({@link Namespace#config}). */
    public static final String TAGGING = "tagging";

    public static final String OBJECT_LOCK = "object-lock";

    public static final String CORS = "cors";

    private final S3Context ctx;

    public BucketConfigOps(S3Context ctx) {
        this.ctx = ctx;
    }

    private BucketRecord owned(S3Request req) throws S3Exception, OsdException {
        BucketRecord b = ctx.namespace().bucket(req.bucket());
        ctx.access().checkOwner(req, b);
        return b;
    }

    // ---- versioning ----------------------------------------------------------------------

    public void putVersioning(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        XmlNode doc = XmlNode.parse(req.smallBody(64 << 10), "VersioningConfiguration");
        if (!doc.name().equals("VersioningConfiguration")) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "expected <VersioningConfiguration>, got <" + doc.name() + ">");
        }
        String status = doc.childText("Status");
        String mfa = doc.childText("MfaDelete");
        if ("Enabled".equals(mfa)) {
            throw new S3Exception(
                    S3Error.NOT_IMPLEMENTED, "MFA delete is not implemented by the Spillway gateway (no MFA devices)");
        }
        if (status == null) {
            // S3 accepts a configuration without a status and changes nothing.
            out.empty(200);
            return;
        }
        if (!status.equals("Enabled") && !status.equals("Suspended")) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "The versioning Status is Enabled or Suspended, got '" + status + "'");
        }
        ctx.namespace().updateBucket(req.bucket(), cur -> {
            if (status.equals("Suspended") && cur.meta().objectLock()) {
                throw new S3Exception(
                        S3Error.INVALID_BUCKET_STATE,
                        "An Object Lock configuration is present on bucket " + req.bucket()
                                + ", so versioning cannot be suspended");
            }
            return cur.withMeta(cur.meta()
                    .withVersioning(
                            status,
                            cur.meta().versions() != null ? cur.meta().versions() : Namespace.NEW_VERSIONS_INDEX));
        });
        out.empty(200);
    }

    public void getVersioning(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = owned(req);
        XmlWriter w = XmlWriter.document("VersioningConfiguration");
        // A bucket never versioned has no Status element, as S3 answers.
        w.element("Status", b.meta().versioning());
        out.xml(200, w.finish("VersioningConfiguration"));
    }

    // ---- tagging -------------------------------------------------------------------------

    public void putTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        List<Records.Header> tags = Tagging.parse(req.smallBody(64 << 10), Tagging.MAX_BUCKET_TAGS);
        ctx.namespace().config(req.bucket(), TAGGING, Tagging.document(tags));
        out.empty(204);
    }

    public void getTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        byte[] doc = ctx.namespace()
                .config(req.bucket(), TAGGING)
                .orElseThrow(() -> new S3Exception(
                        S3Error.NO_SUCH_TAG_SET, "The TagSet does not exist: bucket " + req.bucket() + " has no tags"));
        out.xml(200, doc);
    }

    public void deleteTagging(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        ctx.namespace().config(req.bucket(), TAGGING, null);
        out.empty(204);
    }

    /** The bucket's tags (lifecycle filters read them), empty if none. */
    public static List<Records.Header> tags(Namespace ns, String bucket) throws S3Exception, OsdException {
        byte[] doc = ns.config(bucket, TAGGING).orElse(null);
        return doc == null ? List.of() : Tagging.parse(doc, Tagging.MAX_BUCKET_TAGS);
    }

    // ---- lifecycle -----------------------------------------------------------------------

    public void putLifecycle(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        var tiers = ctx.namespace().storageClassTiers();
        LifecycleConfiguration c = LifecycleConfiguration.parse(req.smallBody(256 << 10), tiers::containsKey);
        BucketRecord b = ctx.namespace().ensureDue(req.bucket());
        ctx.namespace().config(req.bucket(), LifecyclePlanner.CONFIG, c.document());
        // What the bucket already holds gets the new rules' work scheduled, in the background.
        ctx.namespace()
                .dueWork()
                .schedule(
                        b,
                        List.of(LifecycleWorker.backfillStart(
                                ctx.config().clock().millis(), b.keys())));
        out.empty(200);
    }

    public void getLifecycle(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        out.xml(
                200,
                ctx.namespace()
                        .config(req.bucket(), LifecyclePlanner.CONFIG)
                        .orElseThrow(() -> new S3Exception(
                                S3Error.NO_SUCH_LIFECYCLE_CONFIGURATION,
                                "The lifecycle configuration does not exist: bucket " + req.bucket() + " has none")));
    }

    public void deleteLifecycle(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        // The work already scheduled finds no rule when it falls due, and is dropped then.
        ctx.namespace().config(req.bucket(), LifecyclePlanner.CONFIG, null);
        out.empty(204);
    }

    // ---- CORS ----------------------------------------------------------------------------

    public void putCors(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        CorsConfiguration c = CorsConfiguration.parse(req.smallBody(64 << 10));
        ctx.namespace().config(req.bucket(), CORS, c.document());
        out.empty(200);
    }

    public void getCors(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        out.xml(
                200,
                ctx.namespace()
                        .config(req.bucket(), CORS)
                        .orElseThrow(() -> new S3Exception(
                                S3Error.NO_SUCH_CORS_CONFIGURATION,
                                "The CORS configuration does not exist: bucket " + req.bucket() + " has none")));
    }

    public void deleteCors(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        ctx.namespace().config(req.bucket(), CORS, null);
        out.empty(204);
    }

    // ---- object lock ---------------------------------------------------------------------

    public void putObjectLock(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        owned(req);
        ObjectLock.DefaultRetention d = ObjectLock.parseConfiguration(req.smallBody(64 << 10));
        ctx.namespace().updateBucket(req.bucket(), cur -> {
            if (!cur.versioningEnabled()) {
                throw new S3Exception(
                        S3Error.INVALID_BUCKET_STATE,
                        "Object Lock configuration cannot be enabled on existing buckets without versioning enabled: "
                                + req.bucket() + " has versioning "
                                + (cur.meta().versioning() == null
                                        ? "off"
                                        : cur.meta().versioning()));
            }
            return cur.withMeta(cur.meta().withObjectLock(true));
        });
        ctx.namespace().config(req.bucket(), OBJECT_LOCK, ObjectLock.configurationDocument(d));
        out.empty(200);
    }

    public void getObjectLock(S3Request req, S3Response out) throws S3Exception, OsdException, IOException {
        BucketRecord b = owned(req);
        if (!b.meta().objectLock()) {
            throw new S3Exception(
                    S3Error.OBJECT_LOCK_CONFIGURATION_NOT_FOUND,
                    "Object Lock configuration does not exist for this bucket: " + req.bucket());
        }
        out.xml(
                200,
                ctx.namespace()
                        .config(req.bucket(), OBJECT_LOCK)
                        .orElseGet(() -> ObjectLock.configurationDocument(null)));
    }
}
