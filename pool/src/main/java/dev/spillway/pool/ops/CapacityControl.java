package dev.spillway.pool.ops;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Changes a device's capacity while the pool runs ({@code spillway device set-capacity}, and
 * {@code serve --fast-capacity} on an existing pool), and keeps a capacity that is too small for
 * what the fast tier holds from wedging the pool.
 *
 * <p>Growing, or shrinking to a size that still holds what is used plus the reserve, applies at
 * once. Shrinking the fast tier below that cannot apply at once — the pool's own work would have
 * no room — so it becomes a <em>target</em>: the device keeps its size, the daemon spills as if
 * the tier had the target size, and the target applies once what is used fits it. A configuration
 * whose capacity is below what the fast tier already holds (an edited YAML) is treated the same way
 * at mount, rather than mounting a device with no room for its own recovery and spills.
 */
public final class CapacityControl {
    /** What a resize did. */
    public record Resize(String device, long from, long to, boolean applied, long toSpill, String detail) {}

    // Room kept above what is used when a too-small capacity is raised at mount: the reserve plus
    // this, so that writers are not refused at once while the daemon spills.
    private static final long SLACK = 1 << 20;

    private final PoolContext ctx;
    // The fast tier's capacity to reach by spilling, or -1.
    private volatile long target = -1;

    public CapacityControl(PoolContext ctx) {
        this.ctx = ctx;
    }

    /** The smallest fast tier this pool accepts: twice what its reserve needs at that size, and 1 MiB. */
    public long minimum() {
        long c = 1 << 20;
        while (c < 2 * ctx.planFor(c).total()) {
            c *= 2;
        }
        return c;
    }

    /** The capacity the fast tier is being shrunk to by spilling, if any. */
    public OptionalLong target() {
        long t = target;
        return t < 0 ? OptionalLong.empty() : OptionalLong.of(t);
    }

    /**
     * Sets {@code d}'s capacity to {@code bytes}: at once if it holds what is used (plus the
     * reserve, on the fast tier), else — the fast tier only — as a target the daemon spills down to.
     *
     * @throws OsdException EOPNOTSUPP if the device's capacity cannot change while it is open;
     *     EINVAL for a size below the pool's minimum, or a shrink that needs spilling with nowhere
     *     to spill to
     */
    public synchronized Resize resize(PoolDevice d, long bytes) throws OsdException {
        StatFs s = d.osd().statfs();
        if (d != ctx.metadata()) {
            d.osd().setCapacity(bytes);
            return new Resize(
                    d.name(),
                    s.totalBytes(),
                    bytes,
                    true,
                    0,
                    bytes < s.usedBytes()
                            ? "applied; " + d.name() + " holds more than that (" + s.usedBytes()
                                    + " bytes): it takes no new copies until some are moved off"
                            : "applied");
        }
        long min = minimum();
        if (bytes < min) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    null,
                    "capacity " + bytes + " for " + d.name() + " is below the smallest fast tier this pool runs on ("
                            + min + " bytes: twice the room it keeps for its own work)");
        }
        long need = s.usedBytes() + ctx.planFor(bytes).total();
        if (need <= bytes) {
            d.osd().setCapacity(bytes);
            target = -1;
            ctx.applyReserve();
            return new Resize(d.name(), s.totalBytes(), bytes, true, 0, "applied");
        }
        boolean canSpill = ctx.devices().stream()
                .anyMatch(x -> x.has(Role.BACKGROUND) && x.state().writable());
        if (!canSpill) {
            throw new OsdException(
                    Errno.EINVAL,
                    ctx.name(),
                    null,
                    "capacity " + bytes + " for " + d.name() + " is below what it holds (" + s.usedBytes()
                            + " bytes used + " + ctx.planFor(bytes).total()
                            + " reserved for the pool's own work) and no background device takes copies to spill to;"
                            + " delete objects or add a spill device first");
        }
        target = bytes;
        return new Resize(
                d.name(),
                s.totalBytes(),
                bytes,
                false,
                need - bytes,
                "spilling " + (need - bytes)
                        + " bytes first; the new capacity applies once they are off the fast tier");
    }

    /**
     * Applies the target once what is used fits it (the daemon calls this after its spill pass).
     *
     * @return the resize, if it applied now
     */
    public synchronized Optional<Resize> settle() throws OsdException {
        long t = target;
        if (t < 0) {
            return Optional.empty();
        }
        PoolDevice mdDevice = ctx.metadata();
        StatFs s = mdDevice.osd().statfs();
        if (s.usedBytes() + ctx.planFor(t).total() > t) {
            return Optional.empty();
        }
        mdDevice.osd().setCapacity(t);
        target = -1;
        ctx.applyReserve();
        return Optional.of(new Resize(mdDevice.name(), s.totalBytes(), t, true, 0, "applied after spilling"));
    }

    /**
     * At mount: if the fast tier's configured capacity does not hold what it already holds plus the
     * reserve, runs it at a capacity that does, and makes the configured one the target.
     *
     * @return the capacity it runs at instead, if it had to
     */
    public synchronized OptionalLong atMount() throws OsdException {
        PoolDevice mdDevice = ctx.metadata();
        StatFs s = mdDevice.osd().statfs();
        long configured = s.totalBytes();
        long need = s.usedBytes() + ctx.planFor(configured).total();
        if (need <= configured) {
            return OptionalLong.empty();
        }
        long raised = need + ctx.planFor(need).total() + SLACK;
        try {
            mdDevice.osd().setCapacity(raised);
        } catch (OsdException e) {
            if (e.is(Errno.EOPNOTSUPP)) {
                return OptionalLong.empty();
            }
            throw e;
        }
        target = configured;
        return OptionalLong.of(raised);
    }
}
