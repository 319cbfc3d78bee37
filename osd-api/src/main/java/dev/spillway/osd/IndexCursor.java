package dev.spillway.osd;

/**
 * An ordered iteration over an index object, from {@link Osd#cursor}. Starts before its first
 * entry: call {@link #next()} to move onto it. Used by one thread; close it when done.
 */
public interface IndexCursor extends AutoCloseable {
    /** Moves to the next entry; false (and no entry) at the end. */
    boolean next() throws OsdException;

    /** The current entry's key; only after {@link #next()} returned true. */
    byte[] key();

    /** The current entry's value; only after {@link #next()} returned true. */
    byte[] value();

    @Override
    void close();
}
