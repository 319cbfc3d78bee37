package dev.spillway.server.admin;

import dev.spillway.gateway.s3.ObjectNames;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.layout.LayoutPrinter;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.Stripe;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An object as {@code getstripe} shows it: a summary a person reads first (where the body is,
 * each copy with its device, state, size and checksums), the lfs-style layout text, and for a
 * multipart S3 object the same for every part.
 */
final class ObjectView {
    private final PoolOsd pool;
    private final ObjectNames names;

    ObjectView(PoolOsd pool, ObjectNames names) {
        this.pool = pool;
        this.names = names;
    }

    /** The name a person knows the object by: {@code bucket/key}, or null for objects the gateway did not write. */
    String name(Fid f) {
        return names == null ? null : names.origin(f).orElse(null);
    }

    Map<String, Object> layout(Fid f, String asked) throws OsdException {
        if (pool.object(f).isEmpty()) {
            return multipart(f, asked);
        }
        PoolObject p = pool.requireObject(f);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fid", f.toString());
        String name = name(f);
        m.put("name", name != null ? name : asked);
        m.put("size", p.size());
        m.put("dataVersion", p.dataVersion());
        m.put("layoutGeneration", p.layoutGen());
        List<Map<String, Object>> cs = new ArrayList<>();
        for (Copy c : p.copies()) {
            cs.add(copy(p, c));
        }
        m.put("placement", placement(p));
        m.put("extents", extents(p));
        m.put("copies", cs);
        m.put("getstripe", LayoutPrinter.getstripe(pool.layout(f), f.toString(), ZoneOffset.UTC));
        return m;
    }

    private Map<String, Object> copy(PoolObject p, Copy c) {
        PoolDevice d = pool.device(c.device());
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("mirror", c.mirrorId());
        x.put("device", d.name());
        if (c.striped()) {
            // RAID0 over several devices: each holds a stripe, and losing any loses the copy.
            x.put("devices", stripeDevices(c));
            x.put("stripeSize", c.stripeSize());
        }
        if (!c.whole()) {
            // Range-level placement: the byte ranges [start, end) of the body this copy holds,
            // as the lcme_extent of its in-sync PFL components (end -1: EOF).
            List<List<Long>> extents = new ArrayList<>();
            for (Span sp : c.spans()) {
                extents.add(List.of(sp.start(), sp.toEof() ? -1L : sp.end()));
            }
            x.put("extents", extents);
        }
        x.put("tier", tier(d));
        x.put("deviceState", d.state().yamlName());
        x.put("state", state(c));
        x.put(
                "size",
                (c.state() == CopyState.IN_SYNC || c.state() == CopyState.STALE || c.state() == CopyState.LOST)
                                && c.whole()
                        ? p.size()
                        : c.whole()
                                ? c.bytes()
                                : c.spans().stream()
                                        .mapToLong(sp -> sp.length(p.size()))
                                        .sum());
        x.put("version", c.version());
        x.put("current", c.version() == p.dataVersion());
        x.put("preferred", c.preferred());
        x.put("key", c.key().toString());
        x.put("checksum", checksum(c));
        return x;
    }

    /** fast (the metadata device, which takes writes), spill (a background device) or cache (a read cache). */
    static String tier(PoolDevice d) {
        if (d.has(Role.METADATA) || d.has(Role.FOREGROUND)) {
            return "fast";
        }
        if (d.has(Role.CACHE)) {
            return "cache";
        }
        return d.has(Role.BACKGROUND) ? "spill" : "other";
    }

    private String state(Copy c) {
        if (pool.device(c.device()).state() == DeviceState.FAILED) {
            return "lost";
        }
        return c.state().name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private String checksum(Copy c) {
        if (c.device() == pool.metadataIndex()) {
            return "none kept (fast device: its own transactions protect it)";
        }
        int n = c.checksums().crcs().length;
        long chunk = c.checksums().chunkSize();
        if (c.striped()) {
            // Each stripe carries the checksums of its own chunks.
            n = 0;
            for (Stripe st : c.stripes()) {
                n += st.checksums().crcs().length;
                chunk = st.checksums().crcs().length > 0 ? st.checksums().chunkSize() : chunk;
            }
        }
        if (n == 0) {
            return c.state() == CopyState.PENDING ? "pending (taken as the copy is written)" : "none";
        }
        return "crc32c, " + n + " chunk" + (n == 1 ? "" : "s") + " of " + (chunk >> 20)
                + " MiB, verified on every read";
    }

    private List<String> stripeDevices(Copy c) {
        List<String> ds = new ArrayList<>();
        for (Stripe st : c.stripes()) {
            ds.add(pool.device(st.device()).name());
        }
        return ds;
    }

    /** A copy's device, or for a striped copy its devices: {@code slow0+slow1+slow2 (raid0)}. */
    private String where(Copy c) {
        return c.striped()
                ? String.join("+", stripeDevices(c)) + " (raid0)"
                : pool.device(c.device()).name();
    }

    /** One phrase: where the body is, in words. */
    String placement(PoolObject p) {
        int mdIndex = pool.metadataIndex();
        List<String> spill = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        boolean resident = false;
        for (Copy c : p.copies()) {
            boolean readable = pool.device(c.device()).state().readable();
            if (c.state() == CopyState.IN_SYNC && readable) {
                if (c.device() == mdIndex) {
                    resident = true;
                } else {
                    spill.add(where(c));
                }
            } else if (c.state() == CopyState.PENDING) {
                pending.add(where(c));
            }
        }
        String s;
        if (p.split(mdIndex)) {
            s = "split: " + p.on(mdIndex).orElseThrow().spans() + " resident, the rest on " + String.join(", ", spill);
        } else if (resident && spill.isEmpty()) {
            s = "resident (on the fast tier only)";
        } else if (resident) {
            s = "resident, with copies on " + String.join(", ", spill);
        } else if (!spill.isEmpty()) {
            s = "spilled to " + String.join(", ", spill) + " (released from the fast tier)";
        } else {
            s = "lost: no readable in-sync copy";
        }
        if (!pending.isEmpty()) {
            s += "; copy to " + String.join(", ", pending) + " in progress";
        }
        return s;
    }

    /**
     * Where each byte range of the body is (issue 20, range-level placement): the body cut at every
     * boundary of what its in-sync copies hold, each piece {@code [start, end)} with {@code resident} (the fast tier holds it: reads of it never leave
     * the fast device) and {@code on}: every readable device holding it, the fast tier first, a
     * striped copy as {@code slow0+slow1 (raid0)}; a piece no readable in-sync copy holds is
     * {@code lost}. A body resident or spilled whole is one piece.
     */
    List<Map<String, Object>> extents(PoolObject p) {
        int mdIndex = pool.metadataIndex();
        long size = p.size();
        java.util.TreeSet<Long> cuts = new java.util.TreeSet<>();
        cuts.add(0L);
        cuts.add(size);
        List<Copy> in = new ArrayList<>();
        for (Copy c : p.copies()) {
            if (c.state() != CopyState.IN_SYNC || c.version() != p.dataVersion()) {
                continue;
            }
            in.add(c);
            for (Span sp : c.held()) {
                cuts.add(Math.min(sp.start(), size));
                cuts.add(Math.min(sp.end(), size));
            }
        }
        // The fast tier first, then the others by device.
        in.sort(java.util.Comparator.comparing((Copy c) -> c.device() != mdIndex)
                .thenComparingInt(Copy::device));
        List<Map<String, Object>> out = new ArrayList<>();
        List<Long> at = new ArrayList<>(cuts);
        if (at.size() == 1) {
            at.add(0L); // an empty body: one empty piece, where its copies are
        }
        for (int i = 0; i + 1 < at.size(); i++) {
            long from = at.get(i);
            List<String> on = new ArrayList<>();
            boolean resident = false;
            for (Copy c : in) {
                boolean readable = c.parts().stream()
                        .allMatch(st -> pool.device(st.device()).state().readable());
                if (readable && (size == 0 || c.holds(from))) {
                    on.add(where(c));
                    resident |= c.device() == mdIndex;
                }
            }
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("start", from);
            x.put("end", at.get(i + 1));
            x.put("resident", resident);
            x.put("on", on);
            x.put("state", on.isEmpty() ? "lost" : resident ? "resident" : "spilled");
            out.add(x);
        }
        return out;
    }

    /** A multipart S3 object: its manifest, and the layout of every part. */
    private Map<String, Object> multipart(Fid f, String asked) throws OsdException {
        List<ObjectNames.Part> parts = names == null ? List.of() : names.parts(f);
        if (parts.isEmpty()) {
            throw new OsdException(Errno.EISDIR, null, f, "an index object, not a DATA object or a multipart object");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        long size = 0;
        Map<String, Integer> placements = new LinkedHashMap<>();
        for (ObjectNames.Part part : parts) {
            Map<String, Object> m = layout(part.fid(), null);
            m.put("part", part.number());
            // The part's bytes in the S3 object: [start, end), as lcme_extent would give them.
            m.put("start", size);
            m.put("end", size + part.size());
            out.add(m);
            placements.merge(String.valueOf(m.get("placement")), 1, Integer::sum);
            text.append("# part ")
                    .append(part.number())
                    .append(": ")
                    .append(part.fid())
                    .append(", bytes [")
                    .append(size)
                    .append(", ")
                    .append(size + part.size())
                    .append(") of the object\n")
                    .append(m.get("getstripe"));
            size += part.size();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fid", f.toString());
        m.put("name", asked);
        m.put("multipart", true);
        m.put("size", size);
        List<String> ps = new ArrayList<>();
        placements.forEach((k, n) -> ps.add(n + " part" + (n == 1 ? "" : "s") + " " + k));
        m.put("placement", String.join("; ", ps));
        m.put("parts", out);
        m.put("getstripe", text.toString());
        return m;
    }
}
