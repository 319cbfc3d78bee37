package dev.spillway.osd;

/**
 * Advice a client of the OSD API gives about where an object's body should live, as Lustre's
 * {@code ladvise} gives advice about access: an xattr named {@link #XATTR} on a DATA object.
 * A device that places objects (the pool) reads it; any other device keeps it as an ordinary
 * xattr, so setting it is always safe. Advice is never a command: the pool may ignore it (a
 * pool with one tier has nowhere to move anything), and it never affects what a read returns.
 *
 * <p>Values:
 * <ul>
 * <li>{@link #COLD} — unlikely to be read again soon (a non-current S3 version): among the first
 * to spill when the fast tier needs room.</li>
 * <li>{@code tier:NAME} ({@link #tier}) — belongs on the background tier {@code NAME} (an S3
 * storage class mapped to it): spill there promptly, and do not promote on reads.</li>
 * </ul>
 */
public final class PlacementHint {
    /** The xattr holding the advice (ASCII value). */
    public static final String XATTR = "spillway.placement";

    /** The object is cold: spill it before objects of the same heat. */
    public static final String COLD = "cold";

    private static final String TIER = "tier:";

    private PlacementHint() {}

    /** The advice to live on tier {@code name}. */
    public static String tier(String name) {
        return TIER + name;
    }

    /** The tier an advice names, or null if it names none. */
    public static String tierOf(String advice) {
        return advice != null && advice.startsWith(TIER) ? advice.substring(TIER.length()) : null;
    }
}
