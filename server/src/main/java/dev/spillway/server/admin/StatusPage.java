package dev.spillway.server.admin;

import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.device.PoolDevice;

/** A one-page HTML status: devices with their use, and the last recovery. */
final class StatusPage {
    private StatusPage() {}

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static String render(PoolOsd pool) throws OsdException {
        StatFs s = pool.statfs();
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=utf-8><title>Spillway: ")
                .append(esc(pool.name()))
                .append(
                        "</title><meta http-equiv=refresh content=5><style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}"
                                + "td:first-child,th:first-child{text-align:left}</style></head><body>");
        h.append("<h1>Spillway pool ")
                .append(esc(pool.name()))
                .append("</h1><table><tr><th>device</th><th>backend</th><th>state</th>"
                        + "<th>size</th><th>used</th><th>use%</th><th>objects</th></tr>");
        for (PoolDevice d : pool.devices()) {
            StatFs r = s.devices().get(d.index());
            long pct = r.totalBytes() == 0 ? 0 : Math.round(100.0 * r.usedBytes() / r.totalBytes());
            h.append("<tr><td>")
                    .append(esc(d.name()))
                    .append("</td><td>")
                    .append(d.backend())
                    .append("</td><td>")
                    .append(d.state().yamlName())
                    .append("</td><td>")
                    .append(r.totalBytes())
                    .append("</td><td>")
                    .append(r.usedBytes())
                    .append("</td><td>")
                    .append(pct)
                    .append("</td><td>")
                    .append(r.objects())
                    .append("</td></tr>");
        }
        h.append("</table><p>Last mount: ")
                .append(esc(String.valueOf(pool.recoveryReport())))
                .append("</p>");
        h.append("<p><a href=/metrics>metrics</a></p></body></html>");
        return h.toString();
    }
}
