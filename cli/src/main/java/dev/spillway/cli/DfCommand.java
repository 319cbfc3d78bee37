package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spillway df}: one row per device and the pool's sum, as {@code lfs df}. */
@Command(
        name = "df",
        description = {
            "Space per device and summed (like lfs df), then the fast tier against its watermarks.",
            "A spill device's SIZE is what the pool can reach there: its copies plus what is available to it "
                    + "(other data on a shared filesystem counts in neither). OBJECTS: on the fast device the pool's "
                    + "objects (its own records not counted), on a spill device the copies there."
        })
final class DfCommand implements Callable<Integer> {
    @Mixin
    Target target;

    @Option(
            names = {"-h", "--human-readable"},
            description = "Sizes in K, M, G (powers of 1024), as df -h.")
    boolean human;

    // -h is df's human-readable flag, as in df(1): help is --help only.
    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JsonNode df = target.client().call("GET", "df", Map.of());
        PrintWriter out = spec.commandLine().getOut();
        if (target.json) {
            out.println(AdminClient.pretty(df));
            return ExitCodes.OK;
        }
        Table t = new Table("DEVICE", "TIER", "BACKEND", "STATE", ">SIZE", ">USED", ">AVAIL", ">USE%", ">OBJECTS");
        for (JsonNode d : df.path("devices")) {
            long objects = d.path("objects").asLong();
            t.row(
                    d.path("name").asText(),
                    d.path("tier").asText(),
                    d.path("backend").asText(),
                    d.path("state").asText(),
                    Human.bytes(d.path("size").asLong(), human),
                    Human.bytes(d.path("used").asLong(), human),
                    Human.bytes(d.path("available").asLong(), human),
                    percent(d),
                    objects);
        }
        JsonNode s = df.path("summary");
        t.row(
                "pool",
                "",
                "",
                "",
                Human.bytes(s.path("size").asLong(), human),
                Human.bytes(s.path("used").asLong(), human),
                Human.bytes(s.path("available").asLong(), human),
                percent(s),
                s.path("objects").asLong());
        t.print(out);
        out.println();
        out.printf(
                "pool %s: %d objects; %s in copies on spill devices%n",
                df.path("pool").asText(),
                s.path("objects").asLong(),
                Human.size(s.path("spilledBytes").asLong()));
        JsonNode h = df.path("health");
        if (h.path("degraded").asBoolean()) {
            out.println(health(h));
        }
        List<String> caches = new ArrayList<>();
        h.path("failedCaches").forEach(x -> caches.add(x.asText()));
        if (!caches.isEmpty()) {
            out.println(
                    (caches.size() == 1 ? "read cache " : "read caches ") + String.join(", ", caches)
                            + " failed: nothing lost (a cache holds extra copies only; reads go to the durable copies)."
                            + " `spillway device set-state NAME rw` when it is repaired, or remove it from the pool configuration");
        }
        JsonNode f = df.path("fastTier");
        if (f.has("useRatio")) {
            out.printf(
                    Locale.ROOT,
                    "fast tier (%s): %.0f%% used; the daemon spills the coldest objects above %.0f%%, down to %.0f%%%s%n",
                    f.path("device").asText(),
                    100 * f.path("useRatio").asDouble(),
                    100 * f.path("highWatermark").asDouble(),
                    100 * f.path("lowWatermark").asDouble(),
                    f.path("spilling").asBoolean() ? " (spilling now)" : "");
        }
        JsonNode sp = df.path("space");
        if (sp.has("reserve")) {
            out.printf(
                    "reserved for the pool's own work: %s on %s (not in AVAIL)%n",
                    Human.bytes(sp.path("reserve").asLong(), human),
                    sp.path("reserveDevice").asText());
        }
        if (sp.has("shrinkingTo")) {
            out.printf(
                    "%s is being shrunk to %s: the daemon spills until it fits%n",
                    sp.path("reserveDevice").asText(),
                    Human.bytes(sp.path("shrinkingTo").asLong(), human));
        }
        if (sp.path("writersWaiting").asLong() > 0 || sp.path("writersTimedOut").asLong() > 0) {
            out.printf(
                    "writers waiting for room: %d now; %d gave up after %d ms (longest wait %d ms)%n",
                    sp.path("writersWaiting").asLong(),
                    sp.path("writersTimedOut").asLong(),
                    sp.path("writerWaitLimitMs").asLong(),
                    sp.path("writerMaxWaitMs").asLong());
        }
        if (df.has("multipartUploads")) {
            out.println(AdminCommands.uploads(df.path("multipartUploads")));
        }
        return ExitCodes.OK;
    }

    /** The degraded pool in one line: what failed, what is at risk, what is gone, what to run. */
    static String health(JsonNode h) {
        StringBuilder b = new StringBuilder("pool DEGRADED: ");
        List<String> failed = new ArrayList<>();
        h.path("failedDevices").forEach(x -> failed.add(x.asText()));
        if (!failed.isEmpty()) {
            b.append(failed.size() == 1 ? "device " : "devices ")
                    .append(String.join(", ", failed))
                    .append(" failed; ");
        }
        long risk = h.path("objectsAtRisk").asLong();
        long none = h.path("objectsWithNoCopyLeft").asLong();
        b.append(h.path("lostCopies").asLong()).append(" lost copies; objects with fewer than ");
        b.append(h.path("replicas").asInt()).append(" copies: ").append(risk);
        b.append(" (the daemon is restoring them); with no copy left: ").append(none);
        if (none > 0 && !failed.isEmpty()) {
            b.append(" (`spillway device lost ").append(failed.get(0)).append("`)");
        }
        return b.toString();
    }

    private static String percent(JsonNode r) {
        long size = r.path("size").asLong();
        long used = r.path("used").asLong();
        return (size == 0 ? 0 : Math.round(100.0 * used / size)) + "%";
    }
}
