package dev.spillway.pool.meta;

import static dev.spillway.pool.layout.LovFormat.HS_ARCHIVED;
import static dev.spillway.pool.layout.LovFormat.HS_DIRTY;
import static dev.spillway.pool.layout.LovFormat.HS_EXISTS;
import static dev.spillway.pool.layout.LovFormat.HS_LOST;
import static dev.spillway.pool.layout.LovFormat.HS_RELEASED;
import static dev.spillway.pool.layout.LovFormat.LCME_FL_INIT;
import static dev.spillway.pool.layout.LovFormat.LCME_FL_PREF_RD;
import static dev.spillway.pool.layout.LovFormat.LCME_FL_STALE;

import dev.spillway.osd.Fid;
import dev.spillway.pool.layout.Component;
import dev.spillway.pool.layout.FlrState;
import dev.spillway.pool.layout.HsmForeign;
import dev.spillway.pool.layout.HsmType;
import dev.spillway.pool.layout.Layout;
import dev.spillway.pool.layout.LayoutCodec;
import dev.spillway.pool.layout.LovFormat;
import dev.spillway.pool.layout.OstStripe;
import dev.spillway.pool.layout.StripeLayout;
import dev.spillway.pool.layout.SubLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Renders a {@link PoolObject} as Lustre's composite layout (the {@code trusted.lov} xattr), one
 * mirror per copy, each a whole-file component:
 * <ul>
 * <li>the copy on the metadata device: a plain RAID0 sub-layout with one stripe (OST index =
 * device index, object = the object's own FID);</li>
 * <li>a copy on a spill device: a foreign {@code lov_hsm_md} (type POSIX for directory devices,
 * S3 for object stores), archive id = device index, archive version = the data version it holds,
 * identifier = its key; HSM flags EXISTS|ARCHIVED when in sync (plus RELEASED when the object has
 * no local body), with DIRTY when stale, LOST when its device failed, DIRTY alone while being
 * written;</li>
 * <li>a striped copy (RAID0 over a striping tier, whatever the devices' backends): a plain RAID0
 * sub-layout with one {@code lov_ost_data_v1} per stripe (OST index = the stripe's device, object =
 * its key), {@code lmm_stripe_size} = the tier's stripe size. An HSM component has no stripe fields
 * and must cover the whole file, so it cannot say where each unit lies; the data version and the
 * checksums such a copy holds are in the pool record (a lost striped copy is STALE: a plain
 * component has no HS_LOST);</li>
 * <li>a copy holding ranges of the body (issue 20, range-level placement): its mirror split into
 * PFL components at its spans' boundaries, covering {@code [0, EOF)} as FLR requires — the
 * ranges it holds as they are, the others {@code LCME_FL_STALE}; each a plain RAID0 component
 * naming the copy's object (the metadata device's body, or the range's object on its device:
 * Lustre allows a foreign HSM component only over {@code [0, EOF)}) — for a striped copy of a
 * range, its stripes, one {@code lov_ost_data_v1} each, as a striped whole copy's component.</li>
 * <li>{@code LCME_FL_STALE} on every copy that is not in sync (lost ones included), {@code LCME_FL_PREF_RD} on the
 * preferred one; the FLR state RDONLY, WRITE_PENDING (stale copies) or SYNC_PENDING (copies
 * being written) once there are two mirrors; the layout generation is the object's.</li>
 * </ul>
 * The pool's record ({@link PoolObjectCodec}) holds what the format has no field for (size, data
 * version, checksums) and is written in the same transaction; fsck checks that both agree.
 */
public final class LayoutView {
    private LayoutView() {}

    /** The HSM foreign type for a device's backend: S3 for object stores, POSIX otherwise. */
    public static HsmType hsmType(String backend) {
        return "s3".equals(backend) ? HsmType.S3 : HsmType.POSIX;
    }

    static String keyText(Fid key) {
        String s = key.toString();
        return s.substring(1, s.length() - 1);
    }

    public static Layout layout(Fid fid, PoolObject o, int mdIndex, IntFunction<HsmType> types) {
        boolean resident = o.resident(mdIndex);
        List<Component> cs = new ArrayList<>();
        for (Copy c : o.copies()) {
            int flags = LCME_FL_INIT
                    | (c.preferred() ? LCME_FL_PREF_RD : 0)
                    | (c.state() != CopyState.IN_SYNC ? LCME_FL_STALE : 0);
            SubLayout sub;
            if (!c.whole()) {
                int seq = 1;
                long pos = 0;
                // A striped copy of a range: each of its components is the RAID0 sub-layout of its
                // stripes, as a striped whole copy's is (the stripes hold the range from its start).
                SubLayout obj = c.striped() ? stripedSub(fid, c) : StripeLayout.ostCopy(fid, c.device(), c.key());
                for (Span sp : c.spans()) {
                    if (sp.start() > pos) {
                        cs.add(new Component(
                                LovFormat.pflrId(c.mirrorId(), seq++),
                                flags | LCME_FL_STALE,
                                pos,
                                sp.start(),
                                0,
                                0,
                                0,
                                obj));
                    }
                    cs.add(new Component(
                            LovFormat.pflrId(c.mirrorId(), seq++),
                            flags,
                            sp.start(),
                            sp.toEof() ? LovFormat.LUSTRE_EOF : sp.end(),
                            0,
                            0,
                            0,
                            obj));
                    pos = sp.end();
                }
                if (pos != Span.EOF) {
                    cs.add(new Component(
                            LovFormat.pflrId(c.mirrorId(), seq),
                            flags | LCME_FL_STALE,
                            pos,
                            LovFormat.LUSTRE_EOF,
                            0,
                            0,
                            0,
                            obj));
                }
                continue;
            }
            if (c.device() == mdIndex) {
                sub = StripeLayout.ostCopy(fid, mdIndex, c.key());
            } else if (c.striped()) {
                sub = stripedSub(fid, c);
            } else {
                int hs = switch (c.state()) {
                    case IN_SYNC -> HS_EXISTS | HS_ARCHIVED | (resident ? 0 : HS_RELEASED);
                    case STALE -> HS_EXISTS | HS_ARCHIVED | HS_DIRTY;
                    // As Lustre's HSM marks a file whose archive copy is gone.
                    case LOST -> HS_EXISTS | HS_ARCHIVED | HS_LOST;
                    default -> HS_DIRTY;
                };
                sub = HsmForeign.copy(types.apply(c.device()), c.device(), c.version(), keyText(c.key()), hs);
            }
            cs.add(Component.wholeFile(LovFormat.pflrId(c.mirrorId(), 1), flags, sub));
        }
        FlrState flr;
        if (o.copies().size() < 2) {
            flr = FlrState.NONE;
        } else if (o.copies().stream().anyMatch(c -> c.state() == CopyState.PENDING)) {
            flr = FlrState.SYNC_PENDING;
        } else if (o.copies().stream().anyMatch(c -> c.state() == CopyState.STALE || c.state() == CopyState.LOST)) {
            flr = FlrState.WRITE_PENDING;
        } else {
            flr = FlrState.RDONLY;
        }
        return new Layout(o.layoutGen(), flr, cs);
    }

    /** A striped copy's RAID0 sub-layout: one {@code lov_ost_data_v1} per stripe, stripe 0 first. */
    private static SubLayout stripedSub(Fid fid, Copy c) {
        return StripeLayout.striped(
                fid,
                c.stripeSize(),
                c.stripes().stream()
                        .map(st -> OstStripe.of(st.device(), st.key()))
                        .toList());
    }

    public static byte[] encode(Fid fid, PoolObject o, int mdIndex, IntFunction<HsmType> types) {
        return LayoutCodec.encode(layout(fid, o, mdIndex, types));
    }

    /** What differs between a decoded layout and the record, or empty if they agree. */
    public static Optional<String> mismatch(
            Fid fid, Layout stored, PoolObject o, int mdIndex, IntFunction<HsmType> types) {
        Layout want = layout(fid, o, mdIndex, types);
        if (!want.equals(stored)) {
            return Optional.of("layout xattr (gen " + stored.layoutGen() + ", "
                    + stored.components().size() + " components) disagrees with the pool record (gen "
                    + want.layoutGen() + ", " + want.components().size() + ")");
        }
        return Optional.empty();
    }
}
