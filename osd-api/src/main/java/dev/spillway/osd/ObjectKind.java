package dev.spillway.osd;

/**
 * What an object is. The kind is fixed at create time.
 *
 * <p>Only {@link #DATA} objects have a body and may ever leave a pool's metadata device;
 * {@link #INDEX} objects (and every record a pool keeps about itself) stay on it.
 */
public enum ObjectKind {
    /** A byte stream: read, write at offset, punch, truncate, seek data/hole. */
    DATA,
    /** An ordered map from byte-string keys to byte-string values, compared unsigned. */
    INDEX
}
