package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.http.S3Request;

/**
 * The IAM action name (as {@code s3:GetObject}) of a request, what a bucket policy's Action
 * matches: by method, bucket or object, and subresource, as AWS's "Actions, resources, and
 * condition keys for Amazon S3" names them.
 */
final class Actions {
    private Actions() {}

    static String of(S3Request req) {
        return "s3:" + (req.key() == null ? bucket(req) : object(req));
    }

    private static String bucket(S3Request req) {
        String m = req.method();
        boolean get = m.equals("GET") || m.equals("HEAD");
        String[][] configs = {
            {"versioning", "GetBucketVersioning", "PutBucketVersioning"},
            {"tagging", "GetBucketTagging", "PutBucketTagging"},
            {"object-lock", "GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration"},
            {"acl", "GetBucketAcl", "PutBucketAcl"},
            {"cors", "GetBucketCORS", "PutBucketCORS"},
            {"lifecycle", "GetLifecycleConfiguration", "PutLifecycleConfiguration"},
            {"publicAccessBlock", "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock"},
            {"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls"},
            {"policyStatus", "GetBucketPolicyStatus", "GetBucketPolicyStatus"},
            {"location", "GetBucketLocation", "GetBucketLocation"},
        };
        for (String[] c : configs) {
            if (req.has(c[0])) {
                return get ? c[1] : c[2];
            }
        }
        if (req.has("policy")) {
            return get ? "GetBucketPolicy" : m.equals("DELETE") ? "DeleteBucketPolicy" : "PutBucketPolicy";
        }
        if (req.has("uploads")) {
            return "ListBucketMultipartUploads";
        }
        if (req.has("versions")) {
            return "ListBucketVersions";
        }
        return switch (m) {
            case "PUT" -> "CreateBucket";
            case "DELETE" -> "DeleteBucket";
            case "POST" -> req.has("delete") ? "DeleteObject" : "PutObject";
            default -> "ListBucket";
        };
    }

    private static String object(S3Request req) {
        String m = req.method();
        boolean get = m.equals("GET") || m.equals("HEAD");
        String version = req.has("versionId") ? "Version" : "";
        if (req.has("acl")) {
            return (get ? "GetObject" : "PutObject") + version + "Acl";
        }
        if (req.has("tagging")) {
            return (get ? "GetObject" : m.equals("DELETE") ? "DeleteObject" : "PutObject") + version + "Tagging";
        }
        if (req.has("retention")) {
            return get ? "GetObjectRetention" : "PutObjectRetention";
        }
        if (req.has("legal-hold")) {
            return get ? "GetObjectLegalHold" : "PutObjectLegalHold";
        }
        if (req.has("attributes")) {
            return "GetObject" + version + "Attributes";
        }
        if (req.has("torrent")) {
            return "GetObjectTorrent";
        }
        if (req.has("restore")) {
            return "RestoreObject";
        }
        if (req.has("uploadId")) {
            return get ? "ListMultipartUploadParts" : m.equals("DELETE") ? "AbortMultipartUpload" : "PutObject";
        }
        return switch (m) {
            case "GET", "HEAD" -> "GetObject" + version;
            case "DELETE" -> "DeleteObject" + version;
            default -> "PutObject";
        };
    }
}
