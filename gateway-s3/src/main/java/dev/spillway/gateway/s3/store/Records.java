package dev.spillway.gateway.s3.store;

import dev.spillway.osd.Fid;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary records the gateway keeps in index objects. Each starts with a format byte so a
 * later version can read an older one. Records that point at a DATA object start with its FID,
 * so the garbage sweeper can free what any index points to without knowing the record's type.
 */
public final class Records {
    static final int FORMAT = 1;
    /** Format 1 and a list of named fields ({@link Meta}). */
    static final int FORMAT_2 = 2;

    private Records() {}

    /** A header carried with an object: lower-case name and value (content-type, x-amz-meta-*, ...). */
    public record Header(String name, String value) {}

    /**
     * The key record: what a key of a bucket index (or a version of a versions index) points to.
     *
     * @param manifest true if {@code fid} is a manifest INDEX of parts (a completed multipart
     *     upload), false if it is the DATA object itself
     * @param etag the ETag without quotes
     * @param parts the part count of a multipart object, 0 otherwise
     * @param checksumAlgorithm the additional checksum's algorithm, or null
     * @param checksum its base64 value (for multipart: of the part checksums, "-N"), or null
     * @param meta what format 2 added: version, storage class, tags, lock, owner ({@link Meta#NONE} for format 1)
     */
    public record KeyRecord(
            Fid fid,
            boolean manifest,
            long size,
            long mtimeMillis,
            String etag,
            int parts,
            String checksumAlgorithm,
            String checksum,
            List<Header> headers,
            Meta meta) {
        public KeyRecord {
            meta = meta == null ? Meta.NONE : meta;
        }

        /** A record without format-2 fields (an unversioned object of the default class). */
        public KeyRecord(
                Fid fid,
                boolean manifest,
                long size,
                long mtimeMillis,
                String etag,
                int parts,
                String checksumAlgorithm,
                String checksum,
                List<Header> headers) {
            this(fid, manifest, size, mtimeMillis, etag, parts, checksumAlgorithm, checksum, headers, Meta.NONE);
        }

        public KeyRecord withMeta(Meta m) {
            return new KeyRecord(
                    fid, manifest, size, mtimeMillis, etag, parts, checksumAlgorithm, checksum, headers, m);
        }

        public KeyRecord withHeaders(List<Header> h) {
            return new KeyRecord(fid, manifest, size, mtimeMillis, etag, parts, checksumAlgorithm, checksum, h, meta);
        }

        public byte[] encode() {
            boolean extended = !meta.isEmpty();
            return write(out -> {
                out.write(fid.toBytes());
                out.writeByte(extended ? FORMAT_2 : FORMAT);
                out.writeBoolean(manifest);
                out.writeLong(size);
                out.writeLong(mtimeMillis);
                out.writeUTF(etag);
                out.writeInt(parts);
                out.writeUTF(checksumAlgorithm == null ? "" : checksumAlgorithm);
                out.writeUTF(checksum == null ? "" : checksum);
                writeHeaders(out, headers);
                if (extended) {
                    writeHeaders(out, meta.encode());
                }
            });
        }

        public static KeyRecord decode(byte[] b) {
            return read(b, in -> {
                Fid f = readFid(in);
                int format = in.readUnsignedByte();
                if (format != FORMAT && format != FORMAT_2) {
                    throw new IOException(
                            "record format " + format + ", this gateway reads " + FORMAT + " and " + FORMAT_2);
                }
                boolean manifest = in.readBoolean();
                long size = in.readLong();
                long mtime = in.readLong();
                String etag = in.readUTF();
                int parts = in.readInt();
                String alg = emptyToNull(in.readUTF());
                String sum = emptyToNull(in.readUTF());
                List<Header> headers = readHeaders(in);
                Meta meta = format == FORMAT_2 ? Meta.decode(readHeaders(in)) : Meta.NONE;
                return new KeyRecord(f, manifest, size, mtime, etag, parts, alg, sum, headers, meta);
            });
        }

        /** The value of header {@code name}, or null. */
        public String header(String name) {
            for (Header h : headers) {
                if (h.name.equals(name)) {
                    return h.value;
                }
            }
            return null;
        }

        /** The version id clients see: "null" for the null version (and every unversioned object). */
        public String versionIdText() {
            return meta.versionId() == null ? "null" : meta.versionId();
        }

        public boolean deleteMarker() {
            return meta.deleteMarker();
        }

        /** The storage class clients see. */
        public String storageClass() {
            return meta.storageClass() == null ? "STANDARD" : meta.storageClass();
        }
    }

    /**
     * The fields format 2 of an object record added, kept as name/value pairs so a later field
     * needs no new format. Nulls and false are not written.
     *
     * @param versionId the version id, null for the null version
     * @param deleteMarker this version is a delete marker (no body)
     * @param storageClass the storage class asked for at PUT, null for STANDARD
     * @param uploadId the multipart upload that made this version (a repeated Complete answers again)
     * @param checksumType FULL_OBJECT or COMPOSITE for a multipart checksum, null otherwise
     * @param tags the object's tags, in order
     * @param lockMode GOVERNANCE or COMPLIANCE, null if the version has no retention
     * @param retainUntilMillis the retention's end, 0 with no retention
     * @param legalHold the version is under legal hold
     * @param owner the id of the credential that wrote it, null for the bucket owner
     * @param acl the canned ACL it was written with, null for private
     */
    public record Meta(
            String versionId,
            boolean deleteMarker,
            String storageClass,
            String uploadId,
            String checksumType,
            List<Header> tags,
            String lockMode,
            long retainUntilMillis,
            boolean legalHold,
            String owner,
            String acl) {
        public static final Meta NONE = new Meta(null, false, null, null, null, List.of(), null, 0, false, null, null);

        public Meta {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }

        boolean isEmpty() {
            return equals(NONE);
        }

        public Meta withVersionId(String v) {
            return new Meta(
                    v,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withDeleteMarker(boolean v) {
            return new Meta(
                    versionId,
                    v,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withStorageClass(String v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    v,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withUploadId(String v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    v,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withChecksumType(String v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    v,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withTags(List<Header> v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    v,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withRetention(String mode, long until) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    mode,
                    until,
                    legalHold,
                    owner,
                    acl);
        }

        public Meta withLegalHold(boolean v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    v,
                    owner,
                    acl);
        }

        public Meta withOwner(String v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    v,
                    acl);
        }

        public Meta withAcl(String v) {
            return new Meta(
                    versionId,
                    deleteMarker,
                    storageClass,
                    uploadId,
                    checksumType,
                    tags,
                    lockMode,
                    retainUntilMillis,
                    legalHold,
                    owner,
                    v);
        }

        List<Header> encode() {
            List<Header> out = new ArrayList<>();
            put(out, "v", versionId);
            put(out, "dm", deleteMarker ? "1" : null);
            put(out, "sc", storageClass);
            put(out, "up", uploadId);
            put(out, "ct", checksumType);
            for (Header t : tags) {
                out.add(new Header("t:" + t.name, t.value));
            }
            put(out, "lm", lockMode);
            put(out, "lu", retainUntilMillis == 0 ? null : Long.toString(retainUntilMillis));
            put(out, "lh", legalHold ? "1" : null);
            put(out, "ow", owner);
            put(out, "acl", acl);
            return out;
        }

        static Meta decode(List<Header> fields) {
            String v = null, sc = null, up = null, ct = null, lm = null, ow = null, acl = null;
            boolean dm = false, lh = false;
            long lu = 0;
            List<Header> tags = new ArrayList<>();
            for (Header h : fields) {
                switch (h.name) {
                    case "v" -> v = h.value;
                    case "dm" -> dm = true;
                    case "sc" -> sc = h.value;
                    case "up" -> up = h.value;
                    case "ct" -> ct = h.value;
                    case "lm" -> lm = h.value;
                    case "lu" -> lu = Long.parseLong(h.value);
                    case "lh" -> lh = true;
                    case "ow" -> ow = h.value;
                    case "acl" -> acl = h.value;
                    default -> {
                        if (h.name.startsWith("t:")) {
                            tags.add(new Header(h.name.substring(2), h.value));
                        }
                        // other names: a later gateway's field, kept by neither side
                    }
                }
            }
            return new Meta(v, dm, sc, up, ct, tags, lm, lu, lh, ow, acl);
        }

        static void put(List<Header> out, String name, String value) {
            if (value != null) {
                out.add(new Header(name, value));
            }
        }
    }

    /**
     * A bucket: its key index, its multipart-upload index, its creation time, and (format 2)
     * what later features keep per bucket ({@link BucketMeta}).
     */
    public record BucketRecord(Fid keys, Fid uploads, long createdMillis, BucketMeta meta) {
        public BucketRecord {
            meta = meta == null ? BucketMeta.NONE : meta;
        }

        public BucketRecord(Fid keys, Fid uploads, long createdMillis) {
            this(keys, uploads, createdMillis, BucketMeta.NONE);
        }

        public BucketRecord withMeta(BucketMeta m) {
            return new BucketRecord(keys, uploads, createdMillis, m);
        }

        /** Versioning was enabled at least once: versions are kept (Enabled) or may exist (Suspended). */
        public boolean versioned() {
            return meta.versioning() != null;
        }

        public boolean versioningEnabled() {
            return "Enabled".equals(meta.versioning());
        }

        public byte[] encode() {
            boolean extended = !meta.equals(BucketMeta.NONE);
            return write(out -> {
                out.write(keys.toBytes());
                out.write(uploads.toBytes());
                out.writeByte(extended ? FORMAT_2 : FORMAT);
                out.writeLong(createdMillis);
                if (extended) {
                    writeHeaders(out, meta.encode());
                }
            });
        }

        public static BucketRecord decode(byte[] b) {
            return read(b, in -> {
                Fid k = readFid(in);
                Fid u = readFid(in);
                int format = checkFormats(in);
                long created = in.readLong();
                BucketMeta m = format == FORMAT_2 ? BucketMeta.decode(readHeaders(in)) : BucketMeta.NONE;
                return new BucketRecord(k, u, created, m);
            });
        }
    }

    /**
     * What format 2 of a bucket record added, as named fields (a later field needs no new format).
     *
     * @param owner the id of the credential that created the bucket, null for the gateway's
     *     first (a bucket made before owners were kept)
     * @param versioning null (never versioned), Enabled or Suspended
     * @param versions the versions INDEX holding non-current versions (null until versioning
     *     was first enabled)
     * @param objectLock object lock is enabled (for good: S3 never turns it off)
     * @param acl the bucket's ACL (encoded grants), null for private
     * @param due the due INDEX of its lifecycle and storage-class work (null until it had any)
     */
    public record BucketMeta(String owner, String versioning, Fid versions, boolean objectLock, String acl, Fid due) {
        public static final BucketMeta NONE = new BucketMeta(null, null, null, false, null, null);

        public BucketMeta withOwner(String v) {
            return new BucketMeta(v, versioning, versions, objectLock, acl, due);
        }

        public BucketMeta withVersioning(String v, Fid index) {
            return new BucketMeta(owner, v, index, objectLock, acl, due);
        }

        public BucketMeta withObjectLock(boolean v) {
            return new BucketMeta(owner, versioning, versions, v, acl, due);
        }

        public BucketMeta withAcl(String v) {
            return new BucketMeta(owner, versioning, versions, objectLock, v, due);
        }

        public BucketMeta withDue(Fid v) {
            return new BucketMeta(owner, versioning, versions, objectLock, acl, v);
        }

        List<Header> encode() {
            List<Header> out = new ArrayList<>();
            Meta.put(out, "ow", owner);
            Meta.put(out, "vs", versioning);
            Meta.put(out, "vi", versions == null ? null : versions.toString());
            Meta.put(out, "ol", objectLock ? "1" : null);
            Meta.put(out, "acl", acl);
            Meta.put(out, "di", due == null ? null : due.toString());
            return out;
        }

        static BucketMeta decode(List<Header> fields) {
            String ow = null, vs = null, acl = null;
            Fid vi = null, di = null;
            boolean ol = false;
            for (Header h : fields) {
                switch (h.name) {
                    case "ow" -> ow = h.value;
                    case "vs" -> vs = h.value;
                    case "vi" -> vi = Fid.parse(h.value);
                    case "ol" -> ol = true;
                    case "acl" -> acl = h.value;
                    case "di" -> di = Fid.parse(h.value);
                    default -> {} // a later gateway's field
                }
            }
            return new BucketMeta(ow, vs, vi, ol, acl, di);
        }
    }

    /**
     * A multipart upload in progress: its parts index and what the object will carry.
     *
     * @param meta what the completed object's record will carry besides (storage class,
     *     checksum type, tags, lock, ACL); {@link Meta#NONE} for format 1
     */
    public record UploadRecord(
            Fid parts, long initiatedMillis, String checksumAlgorithm, List<Header> headers, Meta meta) {
        public UploadRecord {
            meta = meta == null ? Meta.NONE : meta;
        }

        public UploadRecord(Fid parts, long initiatedMillis, String checksumAlgorithm, List<Header> headers) {
            this(parts, initiatedMillis, checksumAlgorithm, headers, Meta.NONE);
        }

        public byte[] encode() {
            boolean extended = !meta.isEmpty();
            return write(out -> {
                out.write(parts.toBytes());
                out.writeByte(extended ? FORMAT_2 : FORMAT);
                out.writeLong(initiatedMillis);
                out.writeUTF(checksumAlgorithm == null ? "" : checksumAlgorithm);
                writeHeaders(out, headers);
                if (extended) {
                    writeHeaders(out, meta.encode());
                }
            });
        }

        public static UploadRecord decode(byte[] b) {
            return read(b, in -> {
                Fid p = readFid(in);
                int format = checkFormats(in);
                long t = in.readLong();
                String alg = emptyToNull(in.readUTF());
                List<Header> h = readHeaders(in);
                Meta m = format == FORMAT_2 ? Meta.decode(readHeaders(in)) : Meta.NONE;
                return new UploadRecord(p, t, alg, h, m);
            });
        }
    }

    /** One uploaded part: its DATA object, size, MD5 (hex) and checksum. */
    public record PartRecord(Fid fid, long size, String md5Hex, long mtimeMillis, String checksum) {
        public byte[] encode() {
            return write(out -> {
                out.write(fid.toBytes());
                out.writeByte(FORMAT);
                out.writeLong(size);
                out.writeUTF(md5Hex);
                out.writeLong(mtimeMillis);
                out.writeUTF(checksum == null ? "" : checksum);
            });
        }

        public static PartRecord decode(byte[] b) {
            return read(b, in -> {
                Fid f = readFid(in);
                checkFormat(in);
                return new PartRecord(f, in.readLong(), in.readUTF(), in.readLong(), emptyToNull(in.readUTF()));
            });
        }
    }

    /** An entry of a manifest, keyed by the part's end offset: its DATA object, size, number and checksum. */
    public record ManifestEntry(Fid fid, long size, int partNumber, String checksum) {
        public ManifestEntry(Fid fid, long size, int partNumber) {
            this(fid, size, partNumber, null);
        }

        public byte[] encode() {
            return write(out -> {
                out.write(fid.toBytes());
                out.writeByte(checksum == null ? FORMAT : FORMAT_2);
                out.writeLong(size);
                out.writeInt(partNumber);
                if (checksum != null) {
                    out.writeUTF(checksum);
                }
            });
        }

        public static ManifestEntry decode(byte[] b) {
            return read(b, in -> {
                Fid f = readFid(in);
                int format = checkFormats(in);
                long size = in.readLong();
                int n = in.readInt();
                return new ManifestEntry(f, size, n, format == FORMAT_2 ? in.readUTF() : null);
            });
        }
    }

    /** A big-endian u64 key, so index order is numeric order. */
    public static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    public static byte[] u32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    // ---- encoding helpers ----------------------------------------------------------------

    interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static <T> T read(byte[] b, Reader<T> r) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            return r.read(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt gateway record (" + b.length + " bytes): " + e, e);
        }
    }

    private static Fid readFid(DataInputStream in) throws IOException {
        byte[] f = new byte[Fid.BYTES];
        in.readFully(f);
        return Fid.fromBytes(f);
    }

    private static boolean checkFormat(DataInputStream in) throws IOException {
        int f = in.readUnsignedByte();
        if (f != FORMAT) {
            throw new IOException("record format " + f + ", this gateway reads " + FORMAT);
        }
        return true;
    }

    private static int checkFormats(DataInputStream in) throws IOException {
        int f = in.readUnsignedByte();
        if (f != FORMAT && f != FORMAT_2) {
            throw new IOException("record format " + f + ", this gateway reads " + FORMAT + " and " + FORMAT_2);
        }
        return f;
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }

    private static void writeHeaders(DataOutputStream out, List<Header> headers) throws IOException {
        out.writeShort(headers.size());
        for (Header h : headers) {
            out.writeUTF(h.name);
            out.writeUTF(h.value);
        }
    }

    private static List<Header> readHeaders(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        List<Header> hs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            hs.add(new Header(in.readUTF(), in.readUTF()));
        }
        return List.copyOf(hs);
    }
}
