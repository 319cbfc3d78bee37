package dev.spillway.simulator;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/** Tables and plots of simulation results. */
public final class Report {
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0x7f7f7f), new Color(0xd62728), new Color(0x8c564b), new Color(0xe377c2)
    };

    private Report() {}

    /**
     * A text table: one row per capacity, the request hit ratio (%) of every policy, then for
     * Spillway: its ratio to the best online baseline, to LRU, its gap to Belady (points), and
     * the bytes it migrated against LRU's.
     */
    public static String table(Trace t, List<SimResult> results) {
        Map<Long, List<SimResult>> bySize = new TreeMap<>();
        List<String> policies = new ArrayList<>();
        for (SimResult r : results) {
            bySize.computeIfAbsent(r.capacityBytes(), k -> new ArrayList<>()).add(r);
            if (!policies.contains(r.policy())) {
                policies.add(r.policy());
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(t).append('\n');
        sb.append(String.format("%-6s %10s", "size", "capacity"));
        for (String p : policies) {
            sb.append(String.format(" %9s", p.length() > 9 ? p.substring(0, 9) : p));
        }
        boolean spill = policies.contains("Spillway") && policies.contains("LRU");
        if (spill) {
            sb.append(String.format(" %-9s %7s %7s %8s %9s", "best", "ratio", "vsLRU", "toBelady", "moved/LRU"));
        }
        sb.append('\n');
        for (List<SimResult> at : bySize.values()) {
            long cap = at.get(0).capacityBytes();
            double pct = 100.0 * cap / t.footprintBytes();
            sb.append(String.format("%-6s %10s", fmtPct(pct), fmtBytes(cap)));
            for (String p : policies) {
                SimResult r = at.stream()
                        .filter(x -> x.policy().equals(p))
                        .findFirst()
                        .orElse(null);
                sb.append(r == null ? String.format(" %9s", "-") : String.format(" %9.2f", 100 * r.hitRatio()));
            }
            if (spill) {
                SimResult s = find(at, "Spillway");
                SimResult best = bestOnline(at);
                SimResult lru = find(at, "LRU");
                SimResult bel = at.stream()
                        .filter(x -> x.policy().equals("Belady"))
                        .findFirst()
                        .orElse(null);
                sb.append(String.format(
                        " %-9s %7.3f %7.3f %8s %9.3f",
                        best.policy(),
                        ratioToBest(at),
                        lru.hits() == 0 ? 1.0 : (double) s.hits() / lru.hits(),
                        bel == null ? "-" : String.format("%.2f", 100 * (bel.hitRatio() - s.hitRatio())),
                        lru.migratedBytes() == 0 ? 0.0 : (double) s.migratedBytes() / lru.migratedBytes()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The result of {@code policy} among {@code rs}. */
    public static SimResult find(List<SimResult> rs, String policy) {
        return rs.stream()
                .filter(r -> r.policy().equals(policy))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no result for " + policy));
    }

    /** The online baseline with the most hits among {@code rs} (one capacity). */
    public static SimResult bestOnline(List<SimResult> rs) {
        SimResult best = null;
        for (SimResult r : rs) {
            if (Simulator.ONLINE_BASELINES.contains(r.policy()) && (best == null || r.hits() > best.hits())) {
                best = r;
            }
        }
        if (best == null) {
            throw new IllegalStateException("no online baseline among the results");
        }
        return best;
    }

    /** Spillway's hits over the best online baseline's, at one capacity (1.0 if neither hits). */
    public static double ratioToBest(List<SimResult> rs) {
        long best = bestOnline(rs).hits();
        long s = find(rs, "Spillway").hits();
        return best == 0 ? (s == 0 ? 1.0 : Double.POSITIVE_INFINITY) : (double) s / best;
    }

    private static String fmtPct(double pct) {
        return pct >= 1 ? String.format("%.0f%%", pct) : String.format("%.1f%%", pct);
    }

    private static String fmtBytes(long b) {
        if (b >= 1L << 30) {
            return String.format("%.1fGi", b / 1073741824.0);
        }
        if (b >= 1L << 20) {
            return String.format("%.1fMi", b / 1048576.0);
        }
        return String.format("%.0fKi", b / 1024.0);
    }

    /**
     * A PNG with two panels against fast-tier size (as % of the footprint): request hit ratio and
     * bytes migrated, one line per policy.
     */
    public static void plot(Trace t, List<SimResult> results, Path png) throws IOException {
        Map<String, List<SimResult>> byPolicy = new LinkedHashMap<>();
        TreeSet<Long> caps = new TreeSet<>();
        for (SimResult r : results) {
            byPolicy.computeIfAbsent(r.policy(), k -> new ArrayList<>()).add(r);
            caps.add(r.capacityBytes());
        }
        int w = 1200;
        int h = 520;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Spillway placement vs baselines — " + t.name() + " (" + t.length() + " requests)", 20, 24);
        double maxHit = 0;
        double maxMig = 0;
        for (SimResult r : results) {
            maxHit = Math.max(maxHit, r.hitRatio());
            maxMig = Math.max(maxMig, r.migratedBytes() / 1073741824.0);
        }
        panel(
                g,
                60,
                60,
                500,
                380,
                "request hit ratio (%)",
                byPolicy,
                caps,
                t,
                r -> 100 * r.hitRatio(),
                100 * maxHit * 1.1);
        panel(
                g,
                660,
                60,
                500,
                380,
                "bytes migrated (GiB)",
                byPolicy,
                caps,
                t,
                r -> r.migratedBytes() / 1073741824.0,
                maxMig * 1.1);
        int x = 60;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int i = 0;
        for (String p : byPolicy.keySet()) {
            g.setColor(COLORS[i++ % COLORS.length]);
            g.fillRect(x, 492, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(p, x + 20, 504);
            x += 30 + g.getFontMetrics().stringWidth(p) + 20;
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private interface Metric {
        double of(SimResult r);
    }

    private static void panel(
            Graphics2D g,
            int x0,
            int y0,
            int pw,
            int ph,
            String title,
            Map<String, List<SimResult>> byPolicy,
            TreeSet<Long> caps,
            Trace t,
            Metric m,
            double max) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(title, x0, y0 - 8);
        g.drawRect(x0, y0, pw, ph);
        List<Long> cs = new ArrayList<>(caps);
        double top = max <= 0 ? 1 : max;
        for (int k = 0; k <= 5; k++) {
            int y = y0 + ph - k * ph / 5;
            g.setColor(new Color(0xdddddd));
            g.drawLine(x0 + 1, y, x0 + pw - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.1f", top * k / 5), x0 - 45, y + 5);
        }
        for (int k = 0; k < cs.size(); k++) {
            int x = xAt(x0, pw, k, cs.size());
            g.drawString(String.format("%.0f%%", 100.0 * cs.get(k) / t.footprintBytes()), x - 10, y0 + ph + 18);
        }
        int i = 0;
        for (List<SimResult> rs : byPolicy.values()) {
            g.setColor(COLORS[i++ % COLORS.length]);
            g.setStroke(new BasicStroke(2.2f));
            int px = -1;
            int py = -1;
            for (SimResult r : rs) {
                int x = xAt(x0, pw, cs.indexOf(r.capacityBytes()), cs.size());
                int y = y0 + ph - (int) Math.round(m.of(r) / top * ph);
                g.fillOval(x - 4, y - 4, 8, 8);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static int xAt(int x0, int pw, int k, int n) {
        return n == 1 ? x0 + pw / 2 : x0 + 40 + k * (pw - 80) / (n - 1);
    }
}
