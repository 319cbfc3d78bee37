package dev.spillway.gateway.s3;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.BucketObjects;
import dev.spillway.gateway.s3.store.Namespace;
import dev.spillway.gateway.s3.store.Records;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the tools beside the gateway (the server's admin API, the CLI) ask it about its objects,
 * so that they never read the gateway's records themselves: the FID behind a {@code bucket/key},
 * the {@code bucket/key} a DATA object was written for, and the parts of a multipart object.
 */
public final class ObjectNames {
    private final Namespace ns;
    private final BucketObjects objects;

    ObjectNames(Namespace ns) {
        this.ns = ns;
        this.objects = new BucketObjects(ns);
    }

    /**
     * The gateway's own index objects on the OSD (its superblock, its garbage index, and a key
     * index and an uploads index per bucket): objects of the pool that are no one's data, so that
     * object counts shown to people can leave them out.
     */
    public long internalObjects() throws OsdException {
        return ns.internalObjects();
    }

    /** One part of a multipart object, in object order. */
    public record Part(int number, Fid fid, long size) {}

    /**
     * The object stored under {@code bucket/key}: its DATA object, or the manifest INDEX of a
     * multipart object.
     *
     * @throws OsdException ENOENT saying whether the bucket or the key is missing
     */
    public Fid locate(String bucket, String key) throws OsdException {
        var b = ns.findBucket(bucket);
        if (b.isEmpty()) {
            throw new OsdException(Errno.ENOENT, null, null, "no bucket '" + bucket + "' (`aws s3 ls` lists them)");
        }
        Optional<Records.KeyRecord> r;
        try {
            r = objects.lookup(b.get(), bucket, key.getBytes(StandardCharsets.UTF_8));
        } catch (S3Exception e) {
            throw new OsdException(
                    Errno.EINVAL, null, null, "bucket '" + bucket + "', key '" + key + "': " + e.getMessage());
        }
        if (r.isEmpty()) {
            throw new OsdException(
                    Errno.ENOENT,
                    null,
                    null,
                    "no key '" + key + "' in bucket '" + bucket + "' (`aws s3 ls s3://" + bucket + "/` lists them)");
        }
        return r.get().fid();
    }

    /**
     * The {@code bucket/key} (for a part: {@code bucket/key upload ID part N}) a DATA object was
     * written for, from the xattr the gateway keeps on it; empty for objects it did not write.
     */
    public Optional<String> origin(Fid fid) {
        try {
            byte[] v = ns.osd().getXattr(fid, Namespace.ORIGIN_XATTR);
            return Optional.of(new String(v, StandardCharsets.UTF_8));
        } catch (OsdException e) {
            return Optional.empty();
        }
    }

    /**
     * The parts of a multipart object, given the manifest INDEX {@link #locate} returned.
     *
     * @throws OsdException EISDIR if {@code fid} is an index object that is not a manifest
     */
    public List<Part> parts(Fid manifest) throws OsdException {
        if (ns.osd().getAttr(manifest).kind() != ObjectKind.INDEX) {
            throw new OsdException(Errno.EINVAL, null, manifest, "a DATA object, not a multipart manifest");
        }
        List<Part> out = new ArrayList<>();
        try (IndexCursor c = ns.osd().cursor(manifest, null)) {
            while (c.next()) {
                Records.ManifestEntry e;
                try {
                    e = Records.ManifestEntry.decode(c.value());
                } catch (RuntimeException notManifest) {
                    throw new OsdException(
                            Errno.EISDIR, null, manifest, "an index object, not a multipart object's manifest");
                }
                out.add(new Part(e.partNumber(), e.fid(), e.size()));
            }
        }
        return out;
    }
}
