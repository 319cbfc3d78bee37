package dev.spillway.gateway.s3.store;

import java.nio.ByteBuffer;

/** Values of the garbage index: what kind of object a FID is, and since when it is garbage. */
final class Garbage {
    /** A DATA body still being written: garbage unless its upload commits. */
    static final byte PENDING = 0;
    /** A DATA body no key points to any more. */
    static final byte DATA = 1;
    /** A manifest INDEX of a deleted multipart object: its entries point to part bodies. */
    static final byte MANIFEST = 2;
    /** The parts INDEX of an aborted or completed upload: entries point to unused part bodies. */
    static final byte PARTS = 3;

    static final int VALUE_BYTES = 9;

    private Garbage() {}

    static byte[] value(byte kind, long millis) {
        return ByteBuffer.allocate(VALUE_BYTES).put(kind).putLong(millis).array();
    }

    static byte kind(byte[] value) {
        return value[0];
    }
}
