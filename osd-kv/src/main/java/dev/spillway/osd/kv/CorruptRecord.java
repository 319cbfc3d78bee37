package dev.spillway.osd.kv;

/**
 * A record of the database that does not decode: wrong length or version, a value out of range.
 * RocksDB checksums its blocks, so this is a bug or a record of a newer build, never a torn
 * write; the caller turns it into an {@code OsdException} naming the device and the object.
 */
final class CorruptRecord extends Exception {
    private static final long serialVersionUID = 1L;

    CorruptRecord(String message) {
        super(message);
    }
}
