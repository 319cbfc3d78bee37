package dev.spillway.osd.spi.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One open file of a {@link Storage}: an inode, which keeps its bytes when its name is renamed
 * or deleted. Positional calls are thread-safe; the handle is closed once.
 */
public interface StorageFile extends Closeable {

    /** The path it was opened by (for messages). */
    String path();

    /**
     * Reads into {@code dst} from {@code position}, advancing {@code dst}'s position; holes read
     * as zeros. Returns the bytes read, fewer only at the end of the file, or -1 at or past it.
     */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Writes all of {@code src}'s remaining bytes at {@code position}, growing the file if needed. */
    void write(ByteBuffer src, long position) throws IOException;

    /** The size in bytes. */
    long size() throws IOException;

    /** Sets the size: cuts the file, or extends it with a hole. */
    void truncate(long size) throws IOException;

    /**
     * Makes the written bytes durable ({@code fdatasync}; with {@code metadata}, {@code fsync}).
     * After a failed force the file's durable state is unknown: callers must not retry and
     * carry on (the "fsyncgate" lesson); they fail.
     */
    void force(boolean metadata) throws IOException;

    /**
     * Deallocates {@code [offset, offset+length)} keeping the size
     * ({@code fallocate(PUNCH_HOLE|KEEP_SIZE)}): the range reads as zeros.
     *
     * @throws UnsupportedOperationException if the platform or filesystem cannot punch
     */
    void punch(long offset, long length) throws IOException;

    /**
     * {@code lseek(SEEK_DATA)}: the first offset at or after {@code offset} in data, or -1 if
     * none (ENXIO).
     *
     * @throws UnsupportedOperationException if the platform cannot tell holes from data
     */
    long seekData(long offset) throws IOException;

    /**
     * {@code lseek(SEEK_HOLE)}: the first offset at or after {@code offset} in a hole; the end
     * of the file counts as one. -1 if {@code offset} is at or past the end.
     *
     * @throws UnsupportedOperationException as {@link #seekData}
     */
    long seekHole(long offset) throws IOException;
}
