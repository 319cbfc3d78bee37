package dev.spillway.osd.kv;

import java.nio.ByteBuffer;

/**
 * One run of a body's block map: blocks {@code [start, start + blocks)} held inline, in an
 * extent file, or not at all. Every piece stores a prefix of its bytes; the rest of its blocks
 * read as zeros (so a short tail needs no padding on disk). Pieces of one body never overlap, and
 * no byte past the object's size is ever stored (truncate cuts, so a later extension reads zeros).
 */
sealed interface Piece permits Piece.Inline, Piece.Extent, Piece.Hole {

    long start();

    long blocks();

    default long end() {
        return start() + blocks();
    }

    /** This piece cut to blocks {@code [lo, hi)}, which must overlap it. */
    Piece clip(long lo, long hi, int blockSize);

    /** Blocks that hold space: all but holes. */
    default long allocated() {
        return this instanceof Hole ? 0 : blocks();
    }

    /** One inline block: {@code data} is its stored prefix (at most a block). */
    record Inline(long start, byte[] data) implements Piece {
        @Override
        public long blocks() {
            return 1;
        }

        @Override
        public Piece clip(long lo, long hi, int blockSize) {
            return this;
        }
    }

    /**
     * Blocks held in extent file {@code fileId} from byte {@code fileOff}; {@code stored} bytes
     * are in the file, the rest of the blocks read as zeros.
     */
    record Extent(long start, long blocks, long fileId, long fileOff, long stored) implements Piece {
        @Override
        public Piece clip(long lo, long hi, int blockSize) {
            long s = Math.max(start, lo);
            long e = Math.min(end(), hi);
            long skip = (s - start) * blockSize;
            long st = Math.max(0, Math.min(stored - skip, (e - s) * blockSize));
            return new Extent(s, e - s, fileId, fileOff + skip, st);
        }

        byte[] encode() {
            return ByteBuffer.allocate(32)
                    .putLong(blocks)
                    .putLong(fileId)
                    .putLong(fileOff)
                    .putLong(stored)
                    .array();
        }

        /** @throws CorruptRecord unless {@code v} is what {@link #encode} writes: 32 bytes, no negative field */
        static Extent decode(long start, byte[] v) throws CorruptRecord {
            if (v.length != 32) {
                throw new CorruptRecord("extent record at block " + start + " of " + v.length + " bytes, not 32");
            }
            ByteBuffer b = ByteBuffer.wrap(v);
            Extent e = new Extent(start, b.getLong(), b.getLong(), b.getLong(), b.getLong());
            if (start < 0 || e.blocks <= 0 || e.end() < 0 || e.fileId < 0 || e.fileOff < 0 || e.stored < 0) {
                throw new CorruptRecord("extent record " + e + " has a field out of range");
            }
            return e;
        }
    }

    /** Blocks that hold nothing (in a transaction's delta: they hide what was committed). */
    record Hole(long start, long blocks) implements Piece {
        @Override
        public Piece clip(long lo, long hi, int blockSize) {
            long s = Math.max(start, lo);
            return new Hole(s, Math.min(end(), hi) - s);
        }
    }
}
