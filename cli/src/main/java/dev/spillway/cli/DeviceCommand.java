package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway device list|set-state|set-capacity|evacuate|lost|replace}. */
@Command(
        name = "device",
        mixinStandardHelpOptions = true,
        description =
                "List devices, change their state or capacity, evacuate one, list or replace what a failed one lost.",
        subcommands = {
            DeviceCommand.ListDevices.class,
            DeviceCommand.SetState.class,
            DeviceCommand.SetCapacity.class,
            DeviceCommand.Evacuate.class,
            DeviceFailureCommands.Lost.class,
            DeviceFailureCommands.Replace.class
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
            // READ/WRITE: I/O errors since the mount, as zpool status counts them per device.
            Table t =
                    new Table(">INDEX", "NAME", "TIER", "BACKEND", "ROLES", "STATE", ">DURABILITY", ">READ", ">WRITE");
            for (JsonNode x : d) {
                t.row(
                        x.path("index").asInt(),
                        x.path("name").asText(),
                        x.path("tier").asText(),
                        x.path("backend").asText(),
                        String.join(",", roles(x.path("roles"))),
                        x.path("state").asText(),
                        x.path("durability").asInt(),
                        x.path("readErrors").asLong(),
                        x.path("writeErrors").asLong());
            }
            t.print(out);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "set-state",
            mixinStandardHelpOptions = true,
            description = {
                "Set a device's state: rw, ro, evacuating, spare, failed.",
                "failed: its copies are marked lost at once (reads go to the other copies, the daemon restores"
                        + " replicas). rw or ro after failed: its lost copies are verified against their checksums"
                        + " before they count again."
            })
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
            JsonNode r =
                    target.client().call("POST", "devices/" + device + "/state", AdminClient.params("state", state));
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                out.println(AdminClient.pretty(r));
            } else {
                out.printf("%s is now %s%n", device, r.path("to").asText(state));
                DeviceFailureCommands.describe(r, out);
            }
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

        @Mixin
        Progress progress;

        @Override
        public Integer call() throws Exception {
            AdminClient c = target.client();
            PrintWriter out = spec.commandLine().getOut();
            ProgressBar bar = new ProgressBar(
                    spec.commandLine().getErr(),
                    "evacuating " + device,
                    "copies",
                    ProgressBar.wanted(progress.off, target.json),
                    System::nanoTime);
            // The first step refuses (ENOSPC, nothing moved) if no other device can take the data.
            DeviceSteps.Ended e = DeviceSteps.run(
                    c, "devices/" + device + "/evacuate", AdminClient.params("max", Integer.toString(batch)), bar, 3);
            long moved = e.moved();
            JsonNode p = e.last();
            if (!e.done()) {
                long left = p.path("remaining").asLong();
                String why = p.path("errors").isEmpty()
                        ? "nothing could be moved"
                        : p.path("errors").get(0).asText();
                if (target.json) {
                    out.println(AdminClient.pretty(p));
                }
                throw new OsdException(
                        Errno.EAGAIN,
                        null,
                        null,
                        "evacuation of " + device + " is stuck with " + left + " copies left (" + moved
                                + " moved): " + why
                                + ". The device stays 'evacuating' (read, never written; the daemon"
                                + " keeps trying). To get out: make room on another device (or add one) and run"
                                + " `spillway device evacuate " + device + "` again, or stop the evacuation with"
                                + " `spillway device set-state " + device + " rw`",
                        null);
            }
            if (target.json) {
                out.println("{\"device\": \"" + device + "\", \"moved\": " + moved + ", \"state\": \"spare\"}");
            } else {
                out.println(device + " evacuated (" + moved + " copies moved); it is now spare");
            }
            return ExitCodes.OK;
        }
    }

    static List<String> roles(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(r -> out.add(r.asText()));
        return out;
    }
}
