package dev.spillway.migrate.heat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The heat checkpoint: what the daemon writes to an object on the metadata device periodically
 * and at shutdown, and reads at mount. Losing the newest interval (a crash between checkpoints)
 * costs placement quality only: heat is advice, never the truth about where a body is.
 *
 * <pre>
 * header   magic "SPWHEAT\0" (8 bytes), version u32 = 5, epoch second i64, logical time f64
 *          (half-lives), share start f64, trial share f64, trial ghost clock u64,
 *          main ghost clock u64, block count u32
 * block    record count u32, then that many records (one block per tracker segment)
 * record   seq u64, oid u32, ver u32, key f64, frequency key f32, last-access second i32,
 *          since second i32, size code u32, flags u8                     (41 bytes each)
 * extents  (version 5) extent size u64 (0 if no object), object count u32, then per object: seq u64, oid u32,
 *          ver u32, size u64, extent count u32, a key f64 per extent, then the residency bits,
 *          a u64 per 64 extents (bit e % 64 of word e / 64 set: extent e believed spilled)
 * trailer  CRC32C u32 of every byte before it
 * </pre>
 * Big-endian. Last-access and since are wall seconds since the epoch in the header. A key is
 * {@code T + log2(count)} in logical time (half-lives of access count, see {@link HeatTracker});
 * the tracker resumes at the checkpoint's logical time, so heat is exactly what it was. The
 * frequency key is the same for the longer frequency half-life, in its own half-lives (see
 * {@link HeatConfig#frequencyHalfLife()}). The placement policy's state rides along (version 4):
 * its adapted trial share and the configured {@code probation-share} it started from (both NaN
 * if it never adapted; a policy started with another configured share ignores it), and the two
 * ghosts' clocks — the bytes spill passes took from trial copies and from the main part — with
 * each spilled record's ghost mark (flags GHOST 0x20, GHOST_TRIAL 0x40; the mark in the since
 * field). Version 5 adds the heat per extent of big objects ({@link ExtentHeat}: range-level
 * placement): each tracked object's extent keys, on the same logical clock (negative infinity: an
 * extent never counted), and its residency bits; at most {@value #MAX_EXTENTS} extents in all.
 * Version 4 (no extents: big objects' extents start cold and resident, as before) is still read.
 * Version 3 (no policy state: the share starts at {@code probation-share} again and no
 * spilled object is a ghost) is still read. Version 2 (37-byte records, no frequency key) is
 * still read: an object's frequency restarts at its heat as of the load. Version
 * 1 (keys in wall-clock time, {@code t/halfLife + log2(count)}, header field: half-life ns) is
 * still read: each object keeps its heat as of the load. Flags: DATA 0x02, PINNED 0x04,
 * RESIDENT 0x08, PROMOTED 0x10, GHOST 0x20, GHOST_TRIAL 0x40 (spilled records only), PROBATION
 * 0x80 (bits 5-6 held version 1's hit window; ignored).
 * The size code is exact bytes below 2^30, else 2^30 | MiB.
 */
public final class HeatCheckpoint {
    static final byte[] MAGIC = {'S', 'P', 'W', 'H', 'E', 'A', 'T', 0};
    static final int VERSION = 5;
    /** The most extents a checkpoint carries (a reader refuses more: a damaged count never allocates past it). */
    public static final int MAX_EXTENTS = 1 << 24;
    /** Bytes per record in the checkpoint. */
    public static final int RECORD_BYTES = 41;

    private HeatCheckpoint() {}

    /**
     * Writes every tracked object of {@code tracker} to {@code out} (not closed). Each segment is
     * locked while it is written, so accesses to it wait that long; others go on.
     */
    public static void write(HeatTracker tracker, OutputStream out) throws IOException {
        write(tracker, null, out);
    }

    /**
     * Writes every tracked object of {@code tracker} and, if not null, the extents of {@code
     * extents} (the big objects' heat per extent, on the same tracker's clock) to {@code out} (not
     * closed).
     */
    public static void write(HeatTracker tracker, ExtentHeat extents, OutputStream out) throws IOException {
        CRC32C crc = new CRC32C();
        DataOutputStream d =
                new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(nonClosing(out), crc), 1 << 16));
        d.write(MAGIC);
        d.writeInt(VERSION);
        d.writeLong(tracker.epochSecond());
        d.writeDouble(tracker.logicalNow());
        double[] share = tracker.trialShareState();
        d.writeDouble(share[0]);
        d.writeDouble(share[1]);
        long[] ghosts = tracker.ghostClocks();
        d.writeLong(ghosts[0]);
        d.writeLong(ghosts[1]);
        // One block per segment, each counted under the lock it is written under, so concurrent
        // creates and deletes never make a count lie.
        HeatSegment[] segs = tracker.segments();
        d.writeInt(segs.length);
        for (HeatSegment s : segs) {
            synchronized (s) {
                EntryStore st = s.store;
                d.writeInt(st.live());
                for (int id = 0; id < st.allocated(); id++) {
                    if (!st.isLive(id)) {
                        continue;
                    }
                    d.writeLong(st.seq(id));
                    d.writeLong(st.oidVer(id));
                    d.writeDouble(st.key(id));
                    d.writeFloat(st.freq(id));
                    d.writeInt(st.last(id));
                    d.writeInt(st.aux(id));
                    d.writeInt(st.sizeCode(id));
                    d.writeByte(st.flags(id) & ~HeatSegment.F_LIVE);
                }
            }
        }
        List<ExtentHeat.Saved> saved = extents == null ? List.of() : extents.saved(MAX_EXTENTS);
        // No object: extent size 0, so a checkpoint without extents is the same bytes however written.
        d.writeLong(saved.isEmpty() ? 0 : extents.config().extentSize());
        d.writeInt(saved.size());
        for (ExtentHeat.Saved x : saved) {
            d.writeLong(x.fid().seq());
            d.writeInt(x.fid().oid());
            d.writeInt(x.fid().ver());
            d.writeLong(x.size());
            d.writeInt(x.keys().length);
            for (double k : x.keys()) {
                d.writeDouble(k);
            }
            for (long w : x.spilled()) {
                d.writeLong(w);
            }
        }
        d.flush();
        out.write(intBytes((int) crc.getValue()));
        out.flush();
    }

    /**
     * Reads a checkpoint into a new tracker that uses {@code config} and {@code clock} (and the
     * checkpoint's epoch). Nothing is returned unless the whole checkpoint is intact.
     *
     * @param device the device the checkpoint was read from, for error messages
     * @param fid the object that holds it, for error messages
     * @throws OsdException EBADMSG if it is truncated, corrupt (CRC) or inconsistent; EPROTO if
     *     it is not a heat checkpoint or of an unknown version; EIO if reading fails
     */
    public static HeatTracker read(InputStream in, HeatConfig config, InstantSource clock, String device, Fid fid)
            throws OsdException {
        return load(in, config, clock, device, fid).heat();
    }

    /**
     * What a checkpoint holds: the object heat, and the heat per extent of big objects with the
     * extent size it was kept at (0 and none before version 5).
     */
    public record Loaded(HeatTracker heat, long extentSize, List<ExtentHeat.Saved> extents) {}

    /**
     * {@link #read}, with the heat per extent (version 5) for {@link ExtentHeat#restore}. Nothing is
     * returned unless the whole checkpoint is intact.
     */
    public static Loaded load(InputStream in, HeatConfig config, InstantSource clock, String device, Fid fid)
            throws OsdException {
        CRC32C crc = new CRC32C();
        DataInputStream d =
                new DataInputStream(new CheckedInputStream(new BufferedInputStream(nonClosing(in), 1 << 16), crc));
        long records = -1;
        try {
            byte[] magic = new byte[MAGIC.length];
            d.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new OsdException(Errno.EPROTO, device, fid, "heat checkpoint: bad magic, not a heat checkpoint");
            }
            int version = d.readInt();
            if (version < 1 || version > VERSION) {
                throw new OsdException(Errno.EPROTO, device, fid, "heat checkpoint: unknown version " + version);
            }
            long epoch = d.readLong();
            double logical;
            double oldLambda = 0;
            double nowWall = 0;
            if (version == 1) {
                long halfLifeNanos = d.readLong();
                if (halfLifeNanos <= 0) {
                    throw new OsdException(
                            Errno.EBADMSG,
                            device,
                            fid,
                            "heat checkpoint: bad header (half-life " + halfLifeNanos + " ns)");
                }
                oldLambda = 1e9 / halfLifeNanos;
                nowWall = clock.millis() / 1000.0 - epoch;
                logical = 0;
            } else {
                logical = d.readDouble();
            }
            double shareStart = Double.NaN;
            double share = Double.NaN;
            long trialGhost = 0;
            long mainGhost = 0;
            if (version >= 4) {
                shareStart = d.readDouble();
                share = d.readDouble();
                trialGhost = d.readLong();
                mainGhost = d.readLong();
            }
            int blocks = d.readInt();
            if (blocks < 0
                    || Double.isNaN(logical)
                    || Double.isInfinite(logical)
                    || !(Double.isNaN(share) || (share >= 0 && share <= 1))
                    || trialGhost < 0
                    || mainGhost < 0) {
                throw new OsdException(
                        Errno.EBADMSG,
                        device,
                        fid,
                        String.format(
                                "heat checkpoint: bad header (%d blocks, logical time %s, trial share %s, ghost clocks"
                                        + " %d/%d)",
                                blocks, logical, share, trialGhost, mainGhost));
            }
            HeatTracker t = new HeatTracker(config, clock, epoch, logical);
            t.restorePolicyState(shareStart, share, trialGhost, mainGhost);
            // Version 1 keys: heat now = 2^(key - lambda * now); a version 2 key for the same heat
            // at logical time 0 is log2 of it.
            double shift1 = version == 1 ? -oldLambda * nowWall : 0;
            HeatSegment[] segs = t.segments();
            int shift = 32 - Integer.numberOfTrailingZeros(segs.length);
            records = 0;
            for (int blk = 0; blk < blocks; blk++) {
                int inBlock = d.readInt();
                if (inBlock < 0) {
                    throw new OsdException(
                            Errno.EBADMSG,
                            device,
                            fid,
                            "heat checkpoint: block " + blk + " has " + inBlock + " records");
                }
                for (int i = 0; i < inBlock; i++, records++) {
                    readRecord(d, segs, shift, shift1, version, logical, records, device, fid);
                }
            }
            long extentSize = 0;
            List<ExtentHeat.Saved> saved = List.of();
            if (version >= 5) {
                extentSize = d.readLong();
                saved = readExtents(d, extentSize, device, fid);
            }
            int expected = (int) crc.getValue();
            int stored = d.readInt();
            if (stored != expected) {
                throw new OsdException(
                        Errno.EBADMSG,
                        device,
                        fid,
                        String.format(
                                "heat checkpoint: CRC32C mismatch (stored %08x, computed %08x) over %d records",
                                stored, expected, records));
            }
            return new Loaded(t, extentSize, saved);
        } catch (EOFException e) {
            throw new OsdException(
                    Errno.EBADMSG,
                    device,
                    fid,
                    "heat checkpoint: truncated" + (records >= 0 ? " after " + records + " records" : " header"),
                    e);
        } catch (IOException e) {
            throw new OsdException(Errno.EIO, device, fid, "heat checkpoint: read failed: " + e.getMessage(), e);
        }
    }

    private static List<ExtentHeat.Saved> readExtents(DataInputStream d, long extentSize, String device, Fid fid)
            throws IOException, OsdException {
        int count = d.readInt();
        if (extentSize < 0 || count < 0 || (count > 0 && extentSize == 0)) {
            throw new OsdException(
                    Errno.EBADMSG,
                    device,
                    fid,
                    "heat checkpoint: bad extent section (" + count + " objects of extents of " + extentSize
                            + " bytes)");
        }
        List<ExtentHeat.Saved> out = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < count; i++) {
            Fid f = new Fid(d.readLong(), d.readInt(), d.readInt());
            long size = d.readLong();
            int n = d.readInt();
            long want = Math.max(1, size / extentSize + (size % extentSize == 0 ? 0 : 1));
            total += Math.max(0, n);
            if (size < 0 || n <= 0 || n != want || total > MAX_EXTENTS) {
                throw new OsdException(
                        Errno.EBADMSG,
                        device,
                        fid,
                        "heat checkpoint: bad extents of object " + i + " (" + n + " extents, size " + size + ")");
            }
            double[] keys = new double[n];
            for (int e = 0; e < n; e++) {
                keys[e] = d.readDouble();
                if (Double.isNaN(keys[e]) || keys[e] == Double.POSITIVE_INFINITY) {
                    throw new OsdException(
                            Errno.EBADMSG, device, fid, "heat checkpoint: bad key of extent " + e + " of object " + i);
                }
            }
            long[] bits = new long[(n + 63) / 64];
            for (int w = 0; w < bits.length; w++) {
                bits[w] = d.readLong();
            }
            out.add(new ExtentHeat.Saved(f, size, keys, bits));
        }
        return out;
    }

    private static void readRecord(
            DataInputStream d,
            HeatSegment[] segs,
            int shift,
            double keyShift,
            int version,
            double logical,
            long r,
            String device,
            Fid fid)
            throws IOException, OsdException {
        long seq = d.readLong();
        long ov = d.readLong();
        double key = d.readDouble();
        float freq = version >= 3 ? d.readFloat() : Float.NaN;
        int last = d.readInt();
        int aux = d.readInt();
        int size = d.readInt();
        int flags = d.readUnsignedByte();
        if (Double.isNaN(key) || (version >= 3 && Float.isNaN(freq)) || size < 0 || (flags & HeatSegment.F_LIVE) != 0) {
            throw new OsdException(Errno.EBADMSG, device, fid, "heat checkpoint: bad record " + r);
        }
        if (version == 1) {
            key += keyShift;
            flags &= ~0x60; // version 1's hit-window count
        } else if (version < 4 || (flags & HeatSegment.F_RESIDENT) != 0) {
            flags &= ~HeatSegment.F_GHOST & ~HeatSegment.F_GHOST_TRIAL; // ghost marks: spilled, version 4
        }
        int h = EntryStore.hash(seq, ov);
        HeatSegment s = segs.length == 1 ? segs[0] : segs[h >>> shift];
        try {
            s.restore(seq, ov, key, freq, logical, last, aux, size, flags);
        } catch (IllegalArgumentException e) {
            throw new OsdException(Errno.EBADMSG, device, fid, "heat checkpoint: record " + r + " repeats a FID");
        }
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }

    private static InputStream nonClosing(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public void close() {}
        };
    }
}
