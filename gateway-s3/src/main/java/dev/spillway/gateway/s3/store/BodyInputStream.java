package dev.spillway.gateway.s3.store;

import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.gateway.s3.store.Records.ManifestEntry;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Reads a byte range of an object's body from the OSD, a chunk at a time: a DATA object
 * directly, a multipart object through its manifest (an index keyed by each part's end offset,
 * so the part holding any offset is one cursor seek away). The caller holds the object in
 * {@link InUse} while it reads.
 */
public final class BodyInputStream extends InputStream {
    private final Osd osd;
    private final KeyRecord record;
    private final long end;
    private final int chunk;
    // The stream's own heap chunk, allocated at the first read (send() brings its own buffer).
    private ByteBuffer buf;
    // The buffer prefetch() filled with the first chunk, not yet sent (null: none).
    private ByteBuffer prefetched;
    private long pos;
    private IndexCursor manifest;
    // The part being read (manifest objects): its FID and the object offset where it starts.
    private Fid part;
    private long partStart;
    private long partEnd;

    BodyInputStream(Osd osd, KeyRecord record, long start, long length, int chunk) {
        this.osd = osd;
        this.record = record;
        this.pos = start;
        this.end = start + length;
        this.chunk = chunkSize(chunk, length);
        if (!record.manifest()) {
            part = record.fid();
            partStart = 0;
            partEnd = record.size();
        }
    }

    /** The chunk a range of {@code length} bytes is read in: {@code chunk}, or less for a short range. */
    static int chunkSize(int chunk, long length) {
        return (int) Math.max(1, Math.min(chunk, length));
    }

    /** Receives a range chunk by chunk (see {@link #send}). */
    @FunctionalInterface
    public interface Sink {
        /**
         * Takes {@code data}'s remaining bytes before returning (the buffer is refilled after);
         * {@code last} on the range's final chunk.
         */
        void write(ByteBuffer data, boolean last) throws IOException;
    }

    /**
     * Sends the rest of the range to {@code sink}, each chunk read straight into {@code into} (up
     * to its capacity): with a direct buffer the bytes go from the device to the socket without a
     * copy through the heap. An empty range sends one empty last chunk.
     */
    public long send(ByteBuffer into, Sink sink) throws IOException {
        long sent = 0;
        if (prefetched == null && pos >= end) {
            sink.write(into.clear().limit(0), true);
            return 0;
        }
        while (prefetched == into || pos < end) {
            if (prefetched != into) {
                try {
                    fill(into);
                } catch (OsdException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            prefetched = null;
            int n = into.remaining();
            sink.write(into, pos >= end);
            sent += n;
        }
        return sent;
    }

    /**
     * Reads the first chunk into {@code into} now, so that a device error surfaces before the
     * caller commits to a response; {@link #send} with the same buffer sends it first. Does
     * nothing for an empty range.
     */
    public void prefetch(ByteBuffer into) throws OsdException, IOException {
        if (prefetched == null && pos < end) {
            fill(into);
            prefetched = into;
        }
    }

    private ByteBuffer buf() {
        if (buf == null) {
            buf = ByteBuffer.allocate(chunk);
            buf.limit(0);
        }
        return buf;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        ByteBuffer buf = buf();
        if (!buf.hasRemaining()) {
            if (pos >= end) {
                return -1;
            }
            try {
                fill(buf);
            } catch (OsdException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
        int n = Math.min(len, buf.remaining());
        buf.get(b, off, n);
        return n;
    }

    /**
     * Writes the rest of the range to {@code out} a whole chunk per call, from this stream's own
     * buffer: InputStream's default copies through a 16 KiB array, and each write to a blocking
     * HTTP response stream is a round trip through the server's send path.
     */
    @Override
    public long transferTo(OutputStream out) throws IOException {
        long sent = 0;
        ByteBuffer buf = buf();
        while (true) {
            if (!buf.hasRemaining()) {
                if (pos >= end) {
                    return sent;
                }
                try {
                    fill(buf);
                } catch (OsdException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            int n = buf.remaining();
            out.write(buf.array(), buf.arrayOffset() + buf.position(), n);
            buf.position(buf.limit());
            sent += n;
        }
    }

    /** Reads the next chunk straight into {@code buf}, flipped for reading. */
    private void fill(ByteBuffer buf) throws OsdException, IOException {
        if (part == null || pos >= partEnd) {
            nextPart();
        }
        buf.clear();
        int want = (int) Math.min(buf.capacity(), Math.min(end, partEnd) - pos);
        buf.limit(want);
        while (buf.hasRemaining()) {
            int n = osd.read(part, pos - partStart + buf.position(), buf);
            if (n <= 0) {
                throw new IOException(osd.name() + ": " + part + ": body of " + record.fid() + " ends at "
                        + (pos + buf.position()) + ", its record says " + record.size() + " bytes");
            }
        }
        buf.flip();
        pos += want;
    }

    private void nextPart() throws OsdException, IOException {
        if (manifest == null) {
            manifest = osd.cursor(record.fid(), Records.u64(pos + 1));
        }
        if (!manifest.next()) {
            throw new IOException(osd.name() + ": manifest " + record.fid() + " has no part covering offset " + pos);
        }
        partEnd = ByteBuffer.wrap(manifest.key()).getLong();
        ManifestEntry e = ManifestEntry.decode(manifest.value());
        part = e.fid();
        partStart = partEnd - e.size();
    }

    @Override
    public void close() {
        if (manifest != null) {
            manifest.close();
            manifest = null;
        }
    }
}
