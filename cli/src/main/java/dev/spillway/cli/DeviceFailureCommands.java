package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway device lost NAME} and {@code spillway device replace OLD NEW}: what a failed device took with it. */
final class DeviceFailureCommands {
    private DeviceFailureCommands() {}

    /** The lines {@code set-state} prints after failing a device or bringing one back. */
    static void describe(JsonNode change, PrintWriter out) {
        String d = change.path("device").asText();
        JsonNode lost = change.path("lost");
        if (!lost.isMissingNode()) {
            out.printf(
                    "%d copies on %s are lost; objects with no copy left: %d%s%n",
                    lost.path("copies").asLong(),
                    d,
                    lost.path("noCopyLeft").asLong(),
                    lost.path("noCopyLeft").asLong() > 0 ? " (`spillway device lost " + d + "` lists them)" : "");
            out.println("reads go to the other copies; the daemon restores replicas (`spillway df` shows progress)");
            for (JsonNode e : lost.path("errors")) {
                out.println("not marked (damaged record): " + e.asText());
            }
        }
        JsonNode back = change.path("returned");
        if (!back.isMissingNode()) {
            out.printf(
                    "verified %s's lost copies against their checksums: %d in sync again, %d out of date dropped,"
                            + " %d failed verification%n",
                    d,
                    back.path("restored").asLong(),
                    back.path("dropped").asLong(),
                    back.path("mismatched").size());
            for (JsonNode m : back.path("mismatched")) {
                out.println("still lost: " + m.asText());
            }
        }
    }

    @Command(
            name = "lost",
            mixinStandardHelpOptions = true,
            description = {
                "The objects whose copies on a failed device are lost: first those with no copy left anywhere"
                        + " (reads fail with EIO), then those the daemon is rebuilding from their other copies.",
                "Exit code 1 if any object has no copy left."
            })
    static final class Lost implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "DEVICE")
        String device;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode r = target.client().call("GET", "devices/" + device + "/lost", Map.of());
            PrintWriter out = spec.commandLine().getOut();
            JsonNode none = r.path("noCopyLeft");
            JsonNode repairing = r.path("beingRepaired");
            if (target.json) {
                out.println(AdminClient.pretty(r));
                return none.isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
            }
            if (none.isEmpty() && repairing.isEmpty()) {
                out.printf(
                        "%s (%s) holds no lost copy%n", device, r.path("state").asText());
                return ExitCodes.OK;
            }
            if (!none.isEmpty()) {
                out.printf(
                        "objects whose only copy was on %s (%s), reads fail with EIO: %d%n",
                        device, r.path("state").asText(), none.size());
                Table t = new Table("FID", "NAME", ">SIZE");
                for (JsonNode o : none) {
                    t.row(
                            o.path("fid").asText(),
                            o.path("name").asText("-"),
                            Human.size(o.path("size").asLong()));
                }
                t.print(out);
                out.printf(
                        "bring %s back if it can be (`spillway device set-state %s rw`: its copies are verified"
                                + " before they count), or restore these objects from a backup%n",
                        device, device);
            }
            if (!repairing.isEmpty()) {
                out.printf(
                        "objects that lost a copy on %s and are being rebuilt from their other copies: %d%n",
                        device, repairing.size());
            }
            return none.isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
        }
    }

    @Command(
            name = "replace",
            mixinStandardHelpOptions = true,
            description = {
                "Refill NEW with the copies lost with the failed device OLD, rebuilt from the surviving copies;"
                        + " then OLD is retired (spare). NEW must be a background device of the pool (append it to"
                        + " the configuration and restart first). Shows progress.",
                "Objects whose only copy was on OLD cannot be rebuilt: OLD then stays failed and"
                        + " `spillway device lost OLD` lists them."
            })
    static final class Replace implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "OLD")
        String old;

        @Parameters(index = "1", paramLabel = "NEW")
        String replacement;

        @Option(names = "--batch", defaultValue = "32", description = "Objects per step (default: ${DEFAULT-VALUE}).")
        int batch;

        @Spec
        CommandSpec spec;

        @Mixin
        Progress progress;

        @Override
        public Integer call() throws Exception {
            AdminClient c = target.client();
            PrintWriter out = spec.commandLine().getOut();
            ProgressBar bar = new ProgressBar(
                    spec.commandLine().getErr(),
                    "rebuilding " + old + " on " + replacement,
                    "objects",
                    ProgressBar.wanted(progress.off, target.json),
                    System::nanoTime);
            DeviceSteps.Ended e = DeviceSteps.run(
                    c,
                    "devices/" + old + "/replace",
                    AdminClient.params("with", replacement, "max", Integer.toString(batch)),
                    bar,
                    1);
            long moved = e.moved();
            JsonNode p = e.last();
            long stuck = p.path("unrecoverable").asLong();
            if (target.json) {
                out.println(AdminClient.pretty(p));
            } else if (p.path("done").asBoolean()) {
                out.printf(
                        "%s replaced by %s (objects rebuilt there: %d); %s is now spare%n",
                        old, replacement, moved, old);
            } else {
                out.printf(
                        "objects rebuilt on %s: %d; objects whose only copy was on %s, which cannot be rebuilt: %d"
                                + " (`spillway device lost %s`); %s stays failed%n",
                        replacement, moved, old, stuck, old, old);
            }
            if (p.path("failed").asLong() > 0 || (!p.path("done").asBoolean() && stuck == 0)) {
                String why = p.path("errors").isEmpty()
                        ? "nothing could be rebuilt"
                        : p.path("errors").get(0).asText();
                throw new OsdException(
                        Errno.EAGAIN,
                        null,
                        null,
                        "replacement of " + old + " stopped with "
                                + p.path("remaining").asLong()
                                + " objects left: " + why + ". Run `spillway device replace " + old + " "
                                + replacement + "` again once that is fixed (the daemon also keeps rebuilding)",
                        null);
            }
            return stuck == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
        }
    }
}
