package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway device list|set-state|set-capacity|evacuate}. */
@Command(
        name = "device",
        mixinStandardHelpOptions = true,
        description = "List devices, change their state or capacity, evacuate one.",
        subcommands = {
            DeviceCommand.ListDevices.class,
            DeviceCommand.SetState.class,
            DeviceCommand.SetCapacity.class,
            DeviceCommand.Evacuate.class
        })
final class DeviceCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The pool's devices.")
    static final class ListDevices implements Callable<Integer> {
        @Mixin
        Target target;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode d = target.client().call("GET", "devices", Map.of());
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                out.println(AdminClient.pretty(d));
                return ExitCodes.OK;
            }
            out.printf("%-5s %-14s %-6s %-32s %-10s %s%n", "INDEX", "NAME", "BACKEND", "ROLES", "STATE", "DURABILITY");
            for (JsonNode x : d) {
                out.printf(
                        "%-5d %-14s %-6s %-32s %-10s %d%n",
                        x.path("index").asInt(),
                        x.path("name").asText(),
                        x.path("backend").asText(),
                        x.path("roles").toString().replace("\"", ""),
                        x.path("state").asText(),
                        x.path("durability").asInt());
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "set-state",
            mixinStandardHelpOptions = true,
            description = "Set a device's state: rw, ro, evacuating, spare, failed.")
    static final class SetState implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "DEVICE")
        String device;

        @Parameters(index = "1", paramLabel = "STATE")
        String state;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            target.client().call("POST", "devices/" + device + "/state", AdminClient.params("state", state));
            spec.commandLine().getOut().printf("%s is now %s%n", device, state);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "set-capacity",
            mixinStandardHelpOptions = true,
            description = {
                "Change a device's capacity while the pool runs (e.g. 128MiB, 2GiB).",
                "Growing applies at once. Shrinking the fast tier below what it holds makes the daemon spill first;"
                        + " the new size applies once it fits (`spillway df` shows it). The embedded default pool"
                        + " keeps the new size in its pool.yaml; a pool started with --config is changed until it"
                        + " stops (set settings.capacity in its file to keep it)."
            })
    static final class SetCapacity implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "DEVICE")
        String device;

        @Parameters(index = "1", paramLabel = "SIZE")
        String size;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode r =
                    target.client().call("POST", "devices/" + device + "/capacity", AdminClient.params("size", size));
            PrintWriter out = spec.commandLine().getOut();
            out.println(target.json ? AdminClient.pretty(r) : r.path("result").asText());
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "evacuate",
            mixinStandardHelpOptions = true,
            description = "Move every copy off a device (honouring replicas), then mark it spare. Shows progress.")
    static final class Evacuate implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "DEVICE")
        String device;

        @Option(names = "--batch", defaultValue = "32", description = "Objects per step (default: ${DEFAULT-VALUE}).")
        int batch;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            AdminClient c = target.client();
            PrintWriter out = spec.commandLine().getOut();
            long moved = 0;
            long total = -1;
            int failedSteps = 0;
            while (true) {
                JsonNode p = c.call(
                        "POST", "devices/" + device + "/evacuate", AdminClient.params("max", Integer.toString(batch)));
                moved += p.path("moved").asLong();
                if (total < 0) {
                    total = moved + p.path("remaining").asLong();
                }
                if (!target.json) {
                    Human.progress(out, "evacuating " + device, moved, Math.max(total, moved));
                }
                if (p.path("done").asBoolean()) {
                    break;
                }
                if (p.path("moved").asLong() == 0) {
                    if (++failedSteps >= 3) {
                        Human.progressDone(out);
                        out.println("evacuation of " + device + " is stuck: " + p.path("errors"));
                        return ExitCodes.FAILURE;
                    }
                } else {
                    failedSteps = 0;
                }
            }
            Human.progressDone(out);
            out.println(
                    target.json
                            ? "{\"device\": \"" + device + "\", \"moved\": " + moved + ", \"state\": \"spare\"}"
                            : device + " evacuated (" + moved + " copies moved); it is now spare");
            return ExitCodes.OK;
        }
    }
}
