package dev.spillway.osd.vfs;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The limits of OSD xattrs stored as the body file's user xattrs. OSD name {@code X} is stored
 * as the file's {@code user.X} (so {@code trusted.lov} becomes {@code user.trusted.lov}: no
 * privilege needed, no collision between namespaces).
 *
 * <p>A filesystem limits not only each value but all xattrs of one file together (ext4 keeps
 * them in the inode's spare bytes and one block). The probe measured the largest value beside
 * the longest name; {@link #budget} is what that single xattr costs, and a set is refused with
 * E2BIG before it is made if the object's xattrs would cost more, counted the way ext4 lays
 * them out (16 bytes of entry, name and value each rounded up to 4). That check matters in
 * journal mode, where a committed transaction must never fail when applied. Where records live in
 * xattrs ({@link XattrRecord}) the record's own cost is part of every object's total, so a set
 * never crowds out the record, and its name is reserved.
 */
final class XattrRules {
    private final String device;
    private final boolean supported;
    private final int maxValue;
    private final int maxName;
    private final long budget;
    // What the object's record costs of the budget: 0 where records live in .attr files.
    private final long recordCost;
    private final boolean xattrRecords;

    XattrRules(String device, Probe probe, boolean xattrRecords) {
        this.device = device;
        this.supported = probe.xattrs();
        this.maxValue = probe.maxXattrValue();
        this.maxName = probe.maxXattrName();
        this.xattrRecords = xattrRecords;
        this.recordCost = xattrRecords ? cost(XattrRecord.NAME, XattrRecord.SIZE) : 0;
        this.budget = cost(maxName, maxValue) + recordCost;
    }

    boolean supported() {
        return supported;
    }

    int maxValue() {
        return supported ? maxValue : 0;
    }

    int maxName() {
        return maxName;
    }

    long budget() {
        return budget;
    }

    static long cost(int nameBytes, int valueBytes) {
        return 16 + round4(nameBytes) + round4(valueBytes);
    }

    static long cost(String name, int valueBytes) {
        return cost(name.getBytes(StandardCharsets.UTF_8).length, valueBytes);
    }

    private static long round4(long n) {
        return (n + 3) & ~3L;
    }

    void requireSupported(Fid fid, String op) throws OsdException {
        if (!supported) {
            throw new OsdException(
                    Errno.EOPNOTSUPP,
                    device,
                    fid,
                    op + " needs " + Capability.XATTRS + ": the filesystem has no user xattrs (found at mount)");
        }
    }

    /** Whether {@code name} is the device's own record (never an OSD xattr: hidden, not settable). */
    boolean reserved(String name) {
        return xattrRecords && name.equals(XattrRecord.NAME);
    }

    /** ERANGE for a name over the limit, E2BIG for a value over it, EINVAL for the record's name. */
    void checkSet(Fid fid, String name, int valueLength) throws OsdException {
        if (reserved(name)) {
            throw new OsdException(
                    Errno.EINVAL,
                    device,
                    fid,
                    "xattr name " + name + " is reserved: the device keeps each object's record under it");
        }
        int nb = name.getBytes(StandardCharsets.UTF_8).length;
        if (nb > maxName || name.indexOf('\0') >= 0) {
            throw new OsdException(
                    Errno.ERANGE,
                    device,
                    fid,
                    "xattr name of " + nb + " bytes is longer than " + maxName + " (or holds NUL)");
        }
        if (valueLength > maxValue) {
            throw new OsdException(
                    Errno.E2BIG,
                    device,
                    fid,
                    "xattr " + name + " value of " + valueLength + " bytes exceeds the limit of " + maxValue
                            + " bytes found at mount");
        }
    }

    /** E2BIG if xattrs of these names and value sizes would not fit one file. */
    void checkBudget(Fid fid, String name, Map<String, Integer> sizesAfter) throws OsdException {
        long total = recordCost;
        for (Map.Entry<String, Integer> e : sizesAfter.entrySet()) {
            total += cost(e.getKey(), e.getValue());
        }
        if (total > budget) {
            throw new OsdException(
                    Errno.E2BIG,
                    device,
                    fid,
                    "setting xattr " + name + " would make the object's xattrs take " + total
                            + " bytes; the filesystem holds " + budget + " bytes of xattrs per file");
        }
    }
}
