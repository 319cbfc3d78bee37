package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spillway df}: one row per device and the pool's sum, as {@code lfs df}. */
@Command(name = "df", mixinStandardHelpOptions = true, description = "Space per device and summed (like lfs df).")
final class DfCommand implements Callable<Integer> {
    @Mixin
    Target target;

    @Option(
            names = {"-h", "--human-readable"},
            description = "Sizes in K, M, G.")
    boolean human;

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
        out.printf(
                "%-14s %-5s %-32s %-10s %10s %10s %10s %5s %9s%n",
                "DEVICE", "BACKEND", "ROLES", "STATE", "SIZE", "USED", "AVAIL", "USE%", "OBJECTS");
        for (JsonNode d : df.path("devices")) {
            line(
                    out,
                    d.path("name").asText(),
                    d.path("backend").asText(),
                    d.path("roles").toString().replace("\"", ""),
                    d.path("state").asText(),
                    d);
        }
        JsonNode s = df.path("summary");
        out.println();
        line(out, "pool " + df.path("pool").asText(), "", "", "", s);
        JsonNode sp = df.path("space");
        if (sp.has("reserve")) {
            out.printf(
                    "%nreserved for the pool's own work: %s on %s (not in AVAIL)%n",
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

    private void line(PrintWriter out, String name, String backend, String roles, String state, JsonNode r) {
        long size = r.path("size").asLong();
        long used = r.path("used").asLong();
        long pct = size == 0 ? 0 : Math.round(100.0 * used / size);
        out.printf(
                "%-14s %-5s %-32s %-10s %10s %10s %10s %4d%% %9d%n",
                name,
                backend,
                roles,
                state,
                Human.bytes(size, human),
                Human.bytes(used, human),
                Human.bytes(r.path("available").asLong(), human),
                pct,
                r.path("objects").asLong());
    }
}
