package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;

import dev.spillway.osd.Fid;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Valid layouts drawn at random from a seed: every field over its whole range (ids, flags,
 * extents, generations, timestamps, FIDs, unsigned sizes), v1 and v3 sub-layouts, multi-component
 * (PFL) mirrors, HSM copies of every type, identifiers and pool names with multi-byte UTF-8.
 * Also the seed plumbing of the randomized tests: {@code -Dspillway.seed} fixes the master seed.
 */
final class RandomLayouts {
    private RandomLayouts() {}

    /** The master seed: {@code -Dspillway.seed} or a fresh one; printed by the caller. */
    static long masterSeed() {
        String s = System.getProperty("spillway.seed");
        return s != null ? Long.decode(s) : new SplittableRandom().nextLong();
    }

    private static final String[] CHARS = {"a", "Z", "0", "9", "-", "_", ":", "/", ".", " ", "é", "€", "\uD834\uDD1E"};

    static String utf8(Random r, int maxBytes) {
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        int want = r.nextInt(maxBytes + 1);
        while (true) {
            String c = CHARS[r.nextInt(CHARS.length)];
            int n = c.getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > want) {
                return sb.toString();
            }
            sb.append(c);
            bytes += n;
        }
    }

    static Fid fid(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fid.of(0x200000400L + r.nextInt(1 << 20), 1 + r.nextInt(1 << 16));
            case 1 -> new Fid(r.nextLong(), r.nextInt(), r.nextInt());
            case 2 -> new Fid(0, 0, 0);
            default -> Fid.of(0x100000000L | ((long) r.nextInt(0x10000) << 16), r.nextInt());
        };
    }

    static int lcmeFlags(Random r) {
        int[] bits = {
            LCME_FL_STALE,
            LCME_FL_PREF_RD,
            LCME_FL_PREF_WR,
            LCME_FL_OFFLINE,
            LCME_FL_INIT,
            LCME_FL_NOSYNC,
            LCME_FL_NOCOMPR
        };
        int f = 0;
        for (int b : bits) {
            if (r.nextInt(3) == 0) {
                f |= b;
            }
        }
        return f;
    }

    static int hsmFlags(Random r) {
        int f;
        do {
            f = r.nextInt() & HSM_FLAGS_MASK;
        } while (f == 0);
        return f;
    }

    static StripeLayout stripes(Random r, int maxStripes) {
        boolean v3 = r.nextBoolean();
        int count = 1 + r.nextInt(maxStripes);
        List<OstStripe> objs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            objs.add(new OstStripe(
                    fid(r), r.nextInt(4) == 0 ? r.nextInt() : 0, r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(64)));
        }
        int stripeSize = r.nextBoolean() ? LOV_DESC_STRIPE_SIZE_DEFAULT : (1 + r.nextInt(0xffff)) * LOV_MIN_STRIPE_SIZE;
        return new StripeLayout(
                v3 ? LOV_MAGIC_V3 : LOV_MAGIC_V1,
                LOV_PATTERN_RAID0,
                fid(r),
                stripeSize,
                r.nextInt(3) == 0 ? r.nextInt(0x10000) : 0,
                v3 ? utf8(r, LOV_MAXPOOLNAME) : null,
                objs);
    }

    static HsmForeign hsm(Random r) {
        HsmType[] types = HsmType.values();
        return new HsmForeign(
                types[r.nextInt(types.length)],
                hsmFlags(r),
                r.nextInt(3) == 0 ? r.nextLong() : r.nextInt(16),
                r.nextLong(),
                utf8(r, UUID_MAX));
    }

    static SubLayout subLayout(Random r) {
        return r.nextInt(3) == 0 ? hsm(r) : stripes(r, r.nextInt(20) == 0 ? 200 : 4);
    }

    static Layout layout(Random r) {
        int mirrors = 1 + r.nextInt(r.nextInt(8) == 0 ? 12 : 4);
        Set<Integer> mirrorIds = new HashSet<>();
        List<Component> comps = new ArrayList<>();
        for (int m = 0; m < mirrors; m++) {
            int mirrorId;
            do {
                mirrorId = mirrors == 1 && r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 8 : MIRROR_ID_MAX);
            } while (!mirrorIds.add(mirrorId));
            boolean pfl = r.nextInt(3) == 0;
            int parts = pfl ? 1 + r.nextInt(4) : 1;
            long start = 0;
            for (int p = 0; p < parts; p++) {
                boolean last = p == parts - 1;
                long end;
                if (last && r.nextInt(5) != 0) {
                    end = LUSTRE_EOF;
                } else {
                    end = start + (long) (1 + r.nextInt(r.nextBoolean() ? 64 : 1 << 20)) * LOV_MIN_STRIPE_SIZE;
                }
                SubLayout sub = parts == 1 && end == LUSTRE_EOF ? subLayout(r) : stripes(r, 4);
                int seq = comps.size() + 1 + (r.nextInt(4) == 0 ? r.nextInt(1000) * 64 : 0);
                int id = pflrId(mirrorId, seq);
                long ts = r.nextInt(3) == 0 ? r.nextLong() & Component.TIMESTAMP_MASK : 0;
                int link = r.nextInt(4) == 0 ? r.nextInt(0x10000) : 0;
                comps.add(new Component(
                        id, lcmeFlags(r), start, end, r.nextInt(3) == 0 ? r.nextInt() : 0, ts, link, sub));
                start = end;
            }
        }
        FlrState[] states = FlrState.values();
        return new Layout(
                r.nextInt(4) == 0 ? r.nextInt() : 1 + r.nextInt(100), states[r.nextInt(states.length)], comps);
    }
}
