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
import java.util.TreeSet;
import javax.imageio.ImageIO;

/** Tables and plots of simulation results. */
public final class Report {
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0x7f7f7f), new Color(0xd62728), new Color(0x8c564b), new Color(0xe377c2)
    };

    private Report() {}

    /** A text table: one row per (capacity, policy). */
    public static String table(Trace t, List<SimResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(t).append('\n');
        sb.append(String.format(
                "%-8s %10s %-10s %9s %9s %12s %s%n",
                "size", "capacity", "policy", "hit%", "bytehit%", "migrated", "notes"));
        for (SimResult r : results) {
            double pct = 100.0 * r.capacityBytes() / t.footprintBytes();
            sb.append(String.format(
                    "%-8s %8.1fMi %-10s %9.2f %9.2f %10.1fMi %s%n",
                    String.format("%.0f%%", pct),
                    r.capacityBytes() / 1048576.0,
                    r.policy(),
                    100 * r.hitRatio(),
                    100 * r.byteHitRatio(),
                    r.migratedBytes() / 1048576.0,
                    r.extra().isEmpty() ? "" : r.extra()));
        }
        return sb.toString();
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
