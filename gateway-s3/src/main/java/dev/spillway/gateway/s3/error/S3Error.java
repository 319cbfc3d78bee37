package dev.spillway.gateway.s3.error;

import dev.spillway.osd.Errno;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every S3 error this gateway answers with: its code, HTTP status and default message, in one
 * table (as s3proxy's {@code S3ErrorCode}); plus the one table from an OSD {@link Errno} to the S3
 * error a client sees when the device itself fails.
 */
public enum S3Error {
    ACCESS_DENIED("AccessDenied", 403, "Access Denied"),
    AUTHORIZATION_HEADER_MALFORMED("AuthorizationHeaderMalformed", 400, "The authorization header is malformed"),
    AUTHORIZATION_QUERY_PARAMETERS_ERROR(
            "AuthorizationQueryParametersError", 400, "Error parsing the X-Amz-Credential parameter"),
    BAD_REQUEST("BadRequest", 400, "Bad Request"),
    BAD_DIGEST("BadDigest", 400, "The digest you specified did not match what we received"),
    BUCKET_ALREADY_EXISTS(
            "BucketAlreadyExists",
            409,
            "The requested bucket name is not available. Please select a different name and try again."),
    BUCKET_ALREADY_OWNED_BY_YOU(
            "BucketAlreadyOwnedByYou",
            409,
            "Your previous request to create the named bucket succeeded and you already own it"),
    BUCKET_NOT_EMPTY("BucketNotEmpty", 409, "The bucket you tried to delete is not empty"),
    CORS_FORBIDDEN("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed"),
    ENTITY_TOO_LARGE("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size"),
    ENTITY_TOO_SMALL("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size"),
    INCOMPLETE_BODY(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header"),
    INSUFFICIENT_STORAGE("InsufficientStorage", 507, "The storage device is full"),
    INTERNAL_ERROR("InternalError", 500, "We encountered an internal error. Please try again."),
    INVALID_BUCKET_STATE("InvalidBucketState", 409, "The request is not valid with the current state of the bucket"),
    INVALID_STORAGE_CLASS("InvalidStorageClass", 400, "The storage class you specified is not valid"),
    INVALID_ACCESS_KEY_ID(
            "InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records"),
    INVALID_ARGUMENT("InvalidArgument", 400, "Invalid Argument"),
    INVALID_BUCKET_NAME("InvalidBucketName", 400, "The specified bucket is not valid"),
    INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP(
            "InvalidBucketAclWithObjectOwnership",
            400,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"),
    INVALID_DIGEST("InvalidDigest", 400, "The Content-MD5 you specified is not valid"),
    INVALID_LOCATION_CONSTRAINT("InvalidLocationConstraint", 400, "The specified location constraint is not valid"),
    INVALID_POLICY_DOCUMENT(
            "InvalidPolicyDocument",
            400,
            "The content of the form does not meet the conditions specified in the policy document"),
    INVALID_PART("InvalidPart", 400, "One or more of the specified parts could not be found"),
    INVALID_PART_ORDER("InvalidPartOrder", 400, "The list of parts was not in ascending order"),
    INVALID_RETENTION_PERIOD(
            "InvalidRetentionPeriod", 400, "The retention period must be a positive number of days or years"),
    INVALID_RANGE("InvalidRange", 416, "The requested range is not satisfiable"),
    INVALID_TAG("InvalidTag", 400, "The tag provided was not a valid tag"),
    INVALID_REQUEST("InvalidRequest", 400, "Invalid Request"),
    KEY_TOO_LONG("KeyTooLongError", 400, "Your key is too long"),
    MALFORMED_XML(
            "MalformedXML",
            400,
            "The XML you provided was not well-formed or did not validate against our published schema"),
    MALFORMED_POLICY("MalformedPolicy", 400, "The policy is not valid"),
    MALFORMED_POST_REQUEST(
            "MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data"),
    MAX_POST_PRE_DATA_LENGTH_EXCEEDED(
            "MaxPostPreDataLengthExceeded", 400, "Your POST request fields preceding the upload file were too large"),
    MAX_MESSAGE_LENGTH_EXCEEDED("MaxMessageLengthExceeded", 400, "Your request was too big"),
    METADATA_TOO_LARGE("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size"),
    METHOD_NOT_ALLOWED("MethodNotAllowed", 405, "The specified method is not allowed against this resource"),
    MISSING_SECURITY_HEADER("MissingSecurityHeader", 400, "Your request was missing a required header"),
    MISSING_CONTENT_LENGTH("MissingContentLength", 411, "You must provide the Content-Length HTTP header"),
    NO_SUCH_BUCKET_POLICY("NoSuchBucketPolicy", 404, "The bucket policy does not exist"),
    NO_SUCH_CORS_CONFIGURATION("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"),
    NO_SUCH_LIFECYCLE_CONFIGURATION("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"),
    NO_SUCH_OBJECT_LOCK_CONFIGURATION(
            "NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration"),
    NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION(
            "NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found"),
    NO_SUCH_TAG_SET("NoSuchTagSet", 404, "The TagSet does not exist"),
    NO_SUCH_VERSION("NoSuchVersion", 404, "The specified version does not exist"),
    NO_SUCH_BUCKET("NoSuchBucket", 404, "The specified bucket does not exist"),
    NO_SUCH_KEY("NoSuchKey", 404, "The specified key does not exist"),
    NO_SUCH_UPLOAD("NoSuchUpload", 404, "The specified multipart upload does not exist"),
    /**
     * No copy of the object's data can be read now — e.g. its only copy was on a device that
     * failed. Not an AWS code (AWS never loses a copy it acknowledged); like MinIO's read-quorum
     * error it is a 503: the data may come back with its device, and the message says what to do.
     */
    OBJECT_UNAVAILABLE(
            "ObjectUnavailable", 503, "No copy of the object's data can be read: the device that held it has failed"),
    OBJECT_LOCK_CONFIGURATION_NOT_FOUND(
            "ObjectLockConfigurationNotFoundError", 404, "Object Lock configuration does not exist for this bucket"),
    OWNERSHIP_CONTROLS_NOT_FOUND("OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found"),
    ACCESS_CONTROL_LIST_NOT_SUPPORTED("AccessControlListNotSupported", 400, "The bucket does not allow ACLs"),
    NOT_IMPLEMENTED(
            "NotImplemented", 501, "A header or query you provided implies functionality that is not implemented"),
    NOT_MODIFIED("NotModified", 304, "Not Modified"),
    PRECONDITION_FAILED("PreconditionFailed", 412, "At least one of the preconditions you specified did not hold"),
    REQUEST_HEADER_SECTION_TOO_LARGE(
            "RequestHeaderSectionTooLarge", 400, "Your request header section exceeds the maximum allowed size"),
    REQUEST_TIME_TOO_SKEWED(
            "RequestTimeTooSkewed", 403, "The difference between the request time and the server's time is too large"),
    REQUEST_TIMEOUT(
            "RequestTimeout",
            400,
            "Your socket connection to the server was not read from or written to within the timeout period"),
    SERVICE_UNAVAILABLE("ServiceUnavailable", 503, "Please reduce your request rate"),
    /** AWS's throttling answer: clients back off and retry (the fast tier is full). */
    SLOW_DOWN("SlowDown", 503, "Please reduce your request rate."),
    SIGNATURE_DOES_NOT_MATCH(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided"),
    UNEXPECTED_CONTENT("UnexpectedContent", 400, "This request does not support content"),
    UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS(
            "UnresolvableGrantByEmailAddress",
            400,
            "The e-mail address you provided does not match any account on record"),
    X_AMZ_CONTENT_SHA256_MISMATCH(
            "XAmzContentSHA256Mismatch",
            400,
            "The provided 'x-amz-content-sha256' header does not match what was computed");

    private static final Map<Errno, S3Error> BY_ERRNO = new EnumMap<>(Errno.class);

    static {
        // What a device failure looks like to an S3 client. Domain errors (no such bucket, key
        // too long, ...) are decided by the gateway before it calls the device; this table is
        // only for what the device itself reports.
        BY_ERRNO.put(Errno.ENOENT, NO_SUCH_KEY);
        BY_ERRNO.put(Errno.EACCES, ACCESS_DENIED);
        BY_ERRNO.put(Errno.EPERM, ACCESS_DENIED);
        BY_ERRNO.put(Errno.EROFS, ACCESS_DENIED);
        // A full pool is a full fast tier the daemon is draining: clients back off and retry
        // (with Retry-After), as they do when S3 throttles them.
        BY_ERRNO.put(Errno.ENOSPC, SLOW_DOWN);
        BY_ERRNO.put(Errno.EDQUOT, INSUFFICIENT_STORAGE);
        BY_ERRNO.put(Errno.EFBIG, ENTITY_TOO_LARGE);
        BY_ERRNO.put(Errno.E2BIG, METADATA_TOO_LARGE);
        BY_ERRNO.put(Errno.ENAMETOOLONG, KEY_TOO_LONG);
        BY_ERRNO.put(Errno.EINVAL, INVALID_ARGUMENT);
        BY_ERRNO.put(Errno.EOPNOTSUPP, NOT_IMPLEMENTED);
        BY_ERRNO.put(Errno.EAGAIN, SERVICE_UNAVAILABLE);
        BY_ERRNO.put(Errno.EBUSY, SERVICE_UNAVAILABLE);
        BY_ERRNO.put(Errno.ETIMEDOUT, SERVICE_UNAVAILABLE);
        // EIO, EBADMSG, EPROTO, ESTALE, EEXIST, ... : the device broke a promise → 500.
    }

    private final String code;
    private final int status;
    private final String defaultMessage;

    S3Error(String code, int status, String defaultMessage) {
        this.code = code;
        this.status = status;
        this.defaultMessage = defaultMessage;
    }

    /** The S3 error code, as in {@code <Code>}. */
    public String code() {
        return code;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    public String defaultMessage() {
        return defaultMessage;
    }

    /** The S3 error a device failure with {@code errno} becomes; InternalError when unmapped. */
    public static S3Error forErrno(Errno errno) {
        return BY_ERRNO.getOrDefault(errno, INTERNAL_ERROR);
    }
}
