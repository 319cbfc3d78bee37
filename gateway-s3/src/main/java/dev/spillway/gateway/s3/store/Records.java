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

    private Records() {}

    /** A header carried with an object: lower-case name and value (content-type, x-amz-meta-*, ...). */
    public record Header(String name, String value) {}

    /**
     * The key record: what a key of a bucket index points to.
     *
     * @param manifest true if {@code fid} is a manifest INDEX of parts (a completed multipart
     *     upload), false if it is the DATA object itself
     * @param etag the ETag without quotes
     * @param parts the part count of a multipart object, 0 otherwise
     * @param checksumAlgorithm the additional checksum's algorithm, or null
     * @param checksum its base64 value (for multipart: of the part checksums, "-N"), or null
     */
    public record ObjectRecord(
            Fid fid,
            boolean manifest,
            long size,
            long mtimeMillis,
            String etag,
            int parts,
            String checksumAlgorithm,
            String checksum,
            List<Header> headers) {
        public byte[] encode() {
            return write(out -> {
                out.write(fid.toBytes());
                out.writeByte(FORMAT);
                out.writeBoolean(manifest);
                out.writeLong(size);
                out.writeLong(mtimeMillis);
                out.writeUTF(etag);
                out.writeInt(parts);
                out.writeUTF(checksumAlgorithm == null ? "" : checksumAlgorithm);
                out.writeUTF(checksum == null ? "" : checksum);
                writeHeaders(out, headers);
            });
        }

        public static ObjectRecord decode(byte[] b) {
            return read(
                    b,
                    in -> new ObjectRecord(
                            readFid(in),
                            checkFormat(in) && in.readBoolean(),
                            in.readLong(),
                            in.readLong(),
                            in.readUTF(),
                            in.readInt(),
                            emptyToNull(in.readUTF()),
                            emptyToNull(in.readUTF()),
                            readHeaders(in)));
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
    }

    /** A bucket: its key index, its multipart-upload index, its creation time. */
    public record BucketRecord(Fid keys, Fid uploads, long createdMillis) {
        public byte[] encode() {
            return write(out -> {
                out.write(keys.toBytes());
                out.write(uploads.toBytes());
                out.writeByte(FORMAT);
                out.writeLong(createdMillis);
            });
        }

        public static BucketRecord decode(byte[] b) {
            return read(b, in -> {
                Fid k = readFid(in);
                Fid u = readFid(in);
                checkFormat(in);
                return new BucketRecord(k, u, in.readLong());
            });
        }
    }

    /** A multipart upload in progress: its parts index and what the object will carry. */
    public record UploadRecord(Fid parts, long initiatedMillis, String checksumAlgorithm, List<Header> headers) {
        public byte[] encode() {
            return write(out -> {
                out.write(parts.toBytes());
                out.writeByte(FORMAT);
                out.writeLong(initiatedMillis);
                out.writeUTF(checksumAlgorithm == null ? "" : checksumAlgorithm);
                writeHeaders(out, headers);
            });
        }

        public static UploadRecord decode(byte[] b) {
            return read(b, in -> {
                Fid p = readFid(in);
                checkFormat(in);
                return new UploadRecord(p, in.readLong(), emptyToNull(in.readUTF()), readHeaders(in));
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

    /** An entry of a manifest, keyed by the part's end offset: its DATA object and size. */
    public record ManifestEntry(Fid fid, long size, int partNumber) {
        public byte[] encode() {
            return write(out -> {
                out.write(fid.toBytes());
                out.writeByte(FORMAT);
                out.writeLong(size);
                out.writeInt(partNumber);
            });
        }

        public static ManifestEntry decode(byte[] b) {
            return read(b, in -> {
                Fid f = readFid(in);
                checkFormat(in);
                return new ManifestEntry(f, in.readLong(), in.readInt());
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
