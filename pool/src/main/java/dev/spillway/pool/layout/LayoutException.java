package dev.spillway.pool.layout;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;

/**
 * A layout xattr that {@link LayoutCodec#decode} refuses, with the byte offset of the field at
 * fault. The errno says which kind of refusal it is:
 * <ul>
 *   <li>{@link Errno#EBADMSG}: the bytes are corrupt: truncated, a size, count or offset that does
 *       not add up, an extent or id Lustre itself rejects;</li>
 *   <li>{@link Errno#EPROTO}: the bytes are well formed but use something this codec does not
 *       serve: an unknown magic, flag or foreign type, a non-zero reserved field, or a Lustre
 *       feature the pool has no use for (EC, compression, SEL, DoM, PCC-RO file state).</li>
 * </ul>
 * Either way the input is untouched and nothing was half-decoded.
 */
public final class LayoutException extends OsdException {
    private static final long serialVersionUID = 1L;

    private final int offset;
    private final String problem;

    /**
     * @param device the device the xattr came from, or null
     * @param fid the object the xattr belongs to, or null
     * @param offset the byte offset of the offending field in the xattr value
     * @param problem what is wrong, naming the Lustre field
     */
    public LayoutException(Errno errno, String device, Fid fid, int offset, String problem) {
        super(errno, device, fid, "layout xattr, byte " + offset + ": " + problem);
        this.offset = offset;
        this.problem = problem;
    }

    /** The byte offset of the offending field. */
    public int offset() {
        return offset;
    }

    /** What is wrong, without the device, object and offset. */
    public String problem() {
        return problem;
    }
}
