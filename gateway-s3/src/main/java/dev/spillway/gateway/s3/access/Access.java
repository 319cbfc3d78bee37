package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.http.S3Request;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.gateway.s3.store.Records.ObjectRecord;

/**
 * Who may do what. Every signed request has passed SigV4 by the time an operation runs; this
 * decides whether its signer (or an anonymous caller) may act on the bucket or object.
 */
public class Access {
    /** Every signed request may do everything (one tenant); anonymous requests were refused earlier. */
    public void checkRead(S3Request req, BucketRecord b, ObjectRecord r) throws S3Exception {}

    public void checkWrite(S3Request req, BucketRecord b) throws S3Exception {}

    /** The meta a new bucket gets: its owner and canned ACL (none kept yet). */
    public Records.BucketMeta newBucket(S3Request req, Records.BucketMeta meta) throws S3Exception {
        return meta;
    }

    /** Listing a bucket's keys or versions. */
    public void checkList(S3Request req, BucketRecord b) throws S3Exception {}

    /** The owner id shown for a version in listings and ACLs. */
    public String ownerOf(BucketRecord b, ObjectRecord r) {
        return dev.spillway.gateway.s3.http.S3Context.OWNER_ID;
    }

    /** Bucket configuration (versioning, tagging, lock, ...) is the owner's. */
    public void checkOwner(S3Request req, BucketRecord b) throws S3Exception {}

    /** The meta a new version gets for the request's canned ACL (none kept yet). */
    public Records.Meta objectAcl(S3Request req, BucketRecord b, Records.Meta meta) throws S3Exception {
        return meta;
    }
}
