package dev.spillway.osd.vfs;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the filesystem under the device really does, found at mount by trying it on a scratch
 * file: user xattrs (and how large a value fits with the longest name the device allows), hole
 * punching, and whether {@code SEEK_DATA/SEEK_HOLE} see holes. The device advertises exactly
 * this; nothing is assumed from the filesystem's name.
 *
 * @param xattrs user xattrs work
 * @param maxXattrValue the largest value that fits beside a name of {@code maxXattrName} bytes
 * @param maxXattrName the longest xattr name the device accepts, in UTF-8 bytes
 * @param punch punching a hole works and reads back as zeros
 * @param sparseSeek seek data/hole report a real hole
 * @param blockSize the filesystem's allocation unit
 * @param notes one line per finding, for the mount log and {@code describe()}
 */
record Probe(
        boolean xattrs,
        int maxXattrValue,
        int maxXattrName,
        boolean punch,
        boolean sparseSeek,
        int blockSize,
        List<String> notes) {

    static final String FILE = "probe.tmp";
    /** Names up to this many bytes: Lustre's are short ("trusted.lov"); ext4's limit is 255. */
    static final int MAX_NAME = 128;
    /** Linux's XATTR_SIZE_MAX: no filesystem takes a larger value. */
    static final int VALUE_CEILING = 65536;

    /**
     * At format: whether a record fits in a user xattr of a file here (set, read back, removed).
     * False without user xattrs (tmpfs before Linux 6.6, some overlay and FUSE setups) or where
     * the filesystem refuses a {@value XattrRecord#SIZE}-byte value; the device then keeps its
     * records in {@code .attr} files for good.
     */
    static boolean recordsFitInXattrs(Storage s, List<String> notes) throws IOException {
        s.deleteIfExists(FILE);
        try {
            s.open(FILE, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                    .close();
            byte[] sample = new byte[XattrRecord.SIZE];
            Arrays.fill(sample, (byte) 0xa5);
            s.setXattr(FILE, XattrRecord.NAME, sample);
            Optional<byte[]> back = s.getXattr(FILE, XattrRecord.NAME);
            if (back.isPresent() && Arrays.equals(back.get(), sample)) {
                return true;
            }
            notes.add("records: a " + XattrRecord.SIZE + "-byte user xattr did not read back; in .attr files");
            return false;
        } catch (UnsupportedOperationException e) {
            notes.add("records: no user xattrs (" + e.getMessage() + "); in .attr files");
            return false;
        } catch (IOException e) {
            notes.add("records: a " + XattrRecord.SIZE + "-byte user xattr was refused (" + StorageErrors.describe(e)
                    + "); in .attr files");
            return false;
        } finally {
            s.deleteIfExists(FILE);
        }
    }

    /**
     * Probes the filesystem; with {@code xattrRecords} the xattr limits are measured beside a
     * record, so the advertised largest value still fits on a body that carries one.
     */
    static Probe run(Storage s, boolean xattrRecords) throws IOException {
        List<String> notes = new ArrayList<>();
        int bs = s.stats().blockSize();
        if (bs < 512 || Integer.bitCount(bs) != 1) {
            notes.add("filesystem block size " + bs + " is not a power of two >= 512; using 4096");
            bs = 4096;
        }
        s.deleteIfExists(FILE);
        try {
            boolean[] holes = probeHoles(s, bs, notes);
            int max = probeXattrs(s, xattrRecords, notes);
            return new Probe(max > 0, Math.max(0, max), MAX_NAME, holes[0], holes[1], bs, List.copyOf(notes));
        } finally {
            s.deleteIfExists(FILE);
        }
    }

    /**
     * What a read-only mount learns without writing (probing needs a scratch file): the block
     * size, and whether user xattrs are readable (certain when the device keeps its records in
     * them). Punch and hole seeking are not advertised and the xattr value limit is the kernel's:
     * they only bound writes, which a read-only mount refuses.
     */
    static Probe readOnly(Storage s, boolean xattrRecords) throws IOException {
        List<String> notes = new ArrayList<>();
        int bs = s.stats().blockSize();
        if (bs < 512 || Integer.bitCount(bs) != 1) {
            notes.add("filesystem block size " + bs + " is not a power of two >= 512; using 4096");
            bs = 4096;
        }
        boolean xattrs = xattrRecords;
        if (!xattrs) {
            // Read on the marker (a file every formatted device has), else on the folder.
            for (String on : List.of(DeviceLayout.MARKER, "")) {
                try {
                    s.getXattr(on, "probe");
                    xattrs = true;
                    break;
                } catch (UnsupportedOperationException | IOException e) {
                    // not here
                }
            }
        }
        notes.add("read-only: the filesystem was not probed (that writes a scratch file); user xattrs "
                + (xattrs ? "readable" : "unavailable") + ", no punch or hole seeking advertised");
        return new Probe(xattrs, xattrs ? VALUE_CEILING : 0, MAX_NAME, false, false, bs, List.copyOf(notes));
    }

    /** [punch, sparse seek]. */
    private static boolean[] probeHoles(Storage s, int bs, List<String> notes) throws IOException {
        boolean punch = false;
        boolean sparse = false;
        try (StorageFile f =
                s.open(FILE, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            byte[] fill = new byte[3 * bs];
            Arrays.fill(fill, (byte) 0x5a);
            f.write(ByteBuffer.wrap(fill), 0);
            try {
                f.punch(bs, bs);
                ByteBuffer mid = ByteBuffer.allocate(bs);
                f.read(mid, bs);
                byte[] zero = new byte[bs];
                punch = Arrays.equals(mid.array(), zero) && f.size() == 3L * bs;
                notes.add(
                        punch
                                ? "punch: fallocate(PUNCH_HOLE) works"
                                : "punch: the punched range did not read back as zeros; no PUNCH");
            } catch (UnsupportedOperationException e) {
                notes.add("punch: unavailable (" + e.getMessage() + ")");
            }
            try {
                // A hole that surely exists: far past the data, then one byte.
                f.truncate(0);
                f.write(ByteBuffer.wrap(new byte[] {1}), 16L * bs);
                long data = f.seekData(0);
                long hole = f.seekHole(0);
                sparse = data == 16L * bs && hole == 0;
                notes.add(
                        sparse
                                ? "seek: SEEK_DATA/SEEK_HOLE see holes"
                                : "seek: the filesystem reports no holes (SEEK_DATA " + data + ", SEEK_HOLE " + hole
                                        + "); no SPARSE_SEEK");
            } catch (UnsupportedOperationException e) {
                notes.add("seek: unavailable (" + e.getMessage() + ")");
            }
        }
        return new boolean[] {punch, sparse};
    }

    /** The largest value that fits with a {@link #MAX_NAME}-byte name, or 0 without user xattrs. */
    private static int probeXattrs(Storage s, boolean xattrRecords, List<String> notes) throws IOException {
        try {
            if (xattrRecords) {
                s.setXattr(FILE, XattrRecord.NAME, new byte[XattrRecord.SIZE]);
            }
            s.setXattr(FILE, "probe", new byte[] {42});
            Optional<byte[]> back = s.getXattr(FILE, "probe");
            if (back.isEmpty() || back.get().length != 1 || back.get()[0] != 42) {
                notes.add("xattrs: a user xattr did not read back; no XATTRS");
                return 0;
            }
            s.removeXattr(FILE, "probe");
        } catch (UnsupportedOperationException e) {
            notes.add("xattrs: user xattrs unsupported (" + e.getMessage() + ")");
            return 0;
        } catch (IOException e) {
            notes.add("xattrs: setting a user xattr failed (" + StorageErrors.describe(e) + "); no XATTRS");
            return 0;
        }
        String name = "p".repeat(MAX_NAME);
        int lo = 0;
        int hi = VALUE_CEILING;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            try {
                s.setXattr(FILE, name, new byte[mid]);
                lo = mid;
            } catch (IOException e) {
                hi = mid - 1;
            }
        }
        s.removeXattr(FILE, name);
        notes.add("xattrs: user xattrs work; largest value " + lo + " bytes beside a " + MAX_NAME + "-byte name"
                + (xattrRecords ? " and the object's record" : ""));
        return lo;
    }
}
