package dev.spillway.osd.s3;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Mounting a device's prefix: the bucket must exist; an empty prefix is formatted (the marker
 * {@code .spillway/device} and zeroed counters); a prefix holding anything but a Spillway device
 * is refused, never formatted over; then the multipart uploads an earlier mount left under the
 * prefix (a crash, an abort that could not reach the server) are aborted with their sidecars.
 * A read-only mount makes only reads: a prefix without a marker is refused (EROFS) and nothing
 * is swept (what an upload left is invisible to reads: never listed, never a body).
 */
final class S3Mount {
    private static final System.Logger LOG = System.getLogger(S3Mount.class.getName());
    static final String MARKER = "spillway osd-s3 device 1";

    private S3Mount() {}

    /** Mounts {@code store}'s prefix, loading {@code counters}; returns the uploads swept. */
    static int mount(S3Store store, SpaceCounters counters, boolean readOnly) throws OsdException {
        String name = store.name();
        S3Settings settings = store.settings();
        S3Keys keys = store.keys();
        try {
            store.client().headBucket(b -> b.bucket(settings.bucket()));
        } catch (SdkException e) {
            OsdException oe = S3Errors.map(e, name, null, settings.bucket(), "head bucket");
            if (oe.is(Errno.ENOENT)) {
                throw new OsdException(
                        Errno.ENOENT,
                        name,
                        null,
                        "bucket '" + settings.bucket() + "' does not exist at " + settings.where()
                                + " (osd-s3 does not create buckets)",
                        e);
            }
            throw oe;
        }
        Optional<byte[]> marker = store.getBytes(null, keys.marker());
        if (marker.isEmpty() && readOnly) {
            throw new OsdException(
                    Errno.EROFS,
                    name,
                    "prefix '" + keys.prefix() + "' of bucket '" + settings.bucket() + "' (" + settings.where()
                            + ") holds no Spillway device marker " + keys.marker()
                            + ": not a formatted osd-s3 device, and a read-only mount formats nothing");
        }
        if (marker.isEmpty()) {
            format(store, counters);
        } else {
            String text = new String(marker.get(), StandardCharsets.UTF_8);
            if (!text.startsWith(MARKER + "\n")) {
                throw new OsdException(
                        Errno.EPROTO,
                        name,
                        "prefix " + settings.where() + " holds a device marker of an unknown format: '"
                                + text.lines().findFirst().orElse("") + "'");
            }
            byte[] stat = store.getBytes(null, keys.statfs())
                    .orElseThrow(() -> new OsdException(
                            Errno.EPROTO,
                            name,
                            "device at " + settings.where() + " has lost its counters object " + keys.statfs()));
            counters.load(stat, name, keys.statfs());
        }
        return readOnly ? 0 : sweep(store);
    }

    private static void format(S3Store store, SpaceCounters counters) throws OsdException {
        S3Keys keys = store.keys();
        ListObjectsV2Response any = store.wrap(
                null,
                keys.prefix(),
                "list",
                () -> store.client()
                        .listObjectsV2(b ->
                                b.bucket(store.bucket()).prefix(keys.prefix()).maxKeys(1)));
        if (!any.contents().isEmpty()) {
            throw new OsdException(
                    Errno.EPROTO,
                    store.name(),
                    "prefix " + store.settings().where() + " holds objects ("
                            + any.contents().get(0).key()
                            + ") but no Spillway device marker: refusing to format over them (choose another prefix)");
        }
        store.putBytes(null, keys.statfs(), counters.encode());
        store.putBytes(
                null,
                keys.marker(),
                (MARKER + "\nname " + store.name() + "\nformatted " + Instant.now() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
        LOG.log(
                System.Logger.Level.INFO,
                store.name() + ": formatted an osd-s3 device at "
                        + store.settings().where());
    }

    /** Aborts the multipart uploads an earlier mount left under the prefix, and their sidecars. */
    private static int sweep(S3Store store) throws OsdException {
        S3Keys keys = store.keys();
        String marker = null;
        String idMarker = null;
        List<MultipartUpload> stale = new ArrayList<>();
        while (true) {
            String km = marker;
            String im = idMarker;
            var page = store.wrap(
                    null,
                    keys.objects(),
                    "list multipart uploads under",
                    () -> store.client()
                            .listMultipartUploads(b -> b.bucket(store.bucket())
                                    .prefix(keys.objects())
                                    .keyMarker(km)
                                    .uploadIdMarker(im)));
            stale.addAll(page.uploads());
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                break;
            }
            marker = page.nextKeyMarker();
            idMarker = page.nextUploadIdMarker();
        }
        for (MultipartUpload u : stale) {
            Fid fid = keys.fidOf(u.key());
            store.wrap(
                    fid,
                    u.key(),
                    "abort stale multipart upload " + u.uploadId() + " of",
                    () -> store.client()
                            .abortMultipartUpload(
                                    b -> b.bucket(store.bucket()).key(u.key()).uploadId(u.uploadId())));
            if (fid != null) {
                cleanSidecars(store, fid);
            }
        }
        if (!stale.isEmpty()) {
            LOG.log(
                    System.Logger.Level.INFO,
                    store.name() + ": aborted " + stale.size() + " stale multipart upload(s) under "
                            + store.settings().where());
        }
        return stale.size();
    }

    /** Deletes every sidecar of {@code fid} but the one its current body names. */
    private static void cleanSidecars(S3Store store, Fid fid) throws OsdException {
        String keep = null;
        Optional<S3Store.Head> h = store.head(fid);
        if (h.isPresent() && BlockSums.token(h.get().meta().sums()) != null) {
            keep = store.keys().sums(fid, BlockSums.token(h.get().meta().sums()));
        }
        String dir = store.keys().sumsDir(fid);
        ListObjectsV2Response l = store.wrap(
                fid,
                dir,
                "list",
                () -> store.client().listObjectsV2(b -> b.bucket(store.bucket()).prefix(dir)));
        for (S3Object o : l.contents()) {
            if (!o.key().equals(keep)) {
                store.deleteKey(fid, o.key());
            }
        }
    }
}
