package dev.spillway.osd;

/** An iteration over a device's objects, from {@link Osd#listObjects()}. Close it when done. */
public interface ObjectCursor extends AutoCloseable {
    /** Moves to the next object; false at the end. */
    boolean next() throws OsdException;

    /** The current object's FID. */
    Fid fid();

    @Override
    void close();
}
