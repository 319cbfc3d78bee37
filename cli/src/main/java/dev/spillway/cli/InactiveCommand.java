package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spillway inactive}: objects not accessed for an age, coldest first, for an external manager. */
@Command(
        name = "inactive",
        mixinStandardHelpOptions = true,
        description = {
            "List objects not read or written for --older-than, coldest first, resident and spilled alike.",
            "From the daemon's heat index (checkpointed on the fast device, so it covers objects untouched since "
                    + "the last start), never a scan of the pool."
        })
final class InactiveCommand implements Callable<Integer> {
    @Mixin
    Target target;

    @Option(
            names = "--older-than",
            defaultValue = "7d",
            description = "Age, e.g. 30m, 12h, 7d (default: ${DEFAULT-VALUE}).")
    String age;

    @Option(names = "--limit", defaultValue = "1000", description = "At most this many (default: ${DEFAULT-VALUE}).")
    int limit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        JsonNode r = target.client()
                .call("GET", "inactive", AdminClient.params("older-than", age, "limit", Integer.toString(limit)));
        PrintWriter out = spec.commandLine().getOut();
        if (target.json) {
            out.println(AdminClient.pretty(r));
            return ExitCodes.OK;
        }
        if (r.path("objects").isEmpty()) {
            out.printf(
                    "no object idle for %s or longer (%d objects tracked)%n",
                    age, r.path("tracked").asLong());
            return ExitCodes.OK;
        }
        Table t = new Table("OBJECT", "FID", ">SIZE", "LAST ACCESS", "WHERE");
        for (JsonNode o : r.path("objects")) {
            t.row(
                    o.path("name").isTextual() ? o.path("name").asText() : "-",
                    o.path("fid").asText(),
                    Human.size(o.path("size").asLong()),
                    o.path("lastAccess").asText(),
                    o.path("resident").asBoolean() ? "resident" : "spilled");
        }
        t.print(out);
        return ExitCodes.OK;
    }
}
