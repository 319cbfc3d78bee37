package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.server.admin.ObjectRef;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The per-object operations: spill, promote, release, migrate and mirror resync|verify|split. */
final class ObjectCommands {
    private ObjectCommands() {}

    /** Runs one object operation and prints its outcome; REFUSED is a failure (exit 1). */
    abstract static class Op implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "OBJ", description = "A FID [0x…:0x…:0x…] or bucket/key.")
        String object;

        @Spec
        CommandSpec spec;

        abstract String op();

        String[] extra() {
            return new String[0];
        }

        @Override
        public Integer call() throws Exception {
            // A malformed name is a usage error here, before (and without) asking a server.
            ObjectRef.parse(object);
            String[] kv = new String[2 + extra().length];
            kv[0] = "id";
            kv[1] = object;
            System.arraycopy(extra(), 0, kv, 2, extra().length);
            JsonNode r = target.client().call("POST", "object/" + op(), AdminClient.params(kv));
            if (target.json) {
                spec.commandLine().getOut().println(AdminClient.pretty(r));
            } else {
                String name = r.path("name").isTextual() ? r.path("name").asText() + " " : "";
                spec.commandLine()
                        .getOut()
                        .printf(
                                "%s %s%s: %s%s%n",
                                op(),
                                name,
                                r.path("fid").asText(),
                                r.path("outcome")
                                        .asText()
                                        .toLowerCase(Locale.ROOT)
                                        .replace('_', ' '),
                                r.path("detail").asText().isEmpty()
                                        ? ""
                                        : " (" + r.path("detail").asText() + ")");
            }
            String outcome = r.path("outcome").asText();
            return outcome.equals("REFUSED") || outcome.equals("PARKED") ? ExitCodes.FAILURE : ExitCodes.OK;
        }
    }

    @Command(
            name = "spill",
            mixinStandardHelpOptions = true,
            description = "Copy an object's body to a spill device and release it locally.")
    static final class Spill extends Op {
        @Option(names = "--to", description = "The spill device (default: the first with room).")
        String to;

        @Option(
                names = "--range",
                paramLabel = "START:END",
                description = "Spill only this range of the body and release it locally (64 KiB boundaries;"
                        + " sizes such as 64MiB; END may be EOF); the rest stays on the fast device.")
        String range;

        @Override
        String op() {
            return "spill";
        }

        @Override
        String[] extra() {
            java.util.List<String> kv = new java.util.ArrayList<>();
            if (to != null) {
                kv.add("to");
                kv.add(to);
            }
            if (range != null) {
                kv.add("range");
                kv.add(range);
            }
            return kv.toArray(new String[0]);
        }
    }

    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            description = "Bring a spilled object's body back to the fast device.")
    static final class Promote extends Op {
        @Override
        String op() {
            return "promote";
        }
    }

    @Command(
            name = "release",
            mixinStandardHelpOptions = true,
            description = "Drop the local body of an object that has enough in-sync copies elsewhere (HSM release).")
    static final class Release extends Op {
        @Override
        String op() {
            return "release";
        }
    }

    @Command(
            name = "migrate",
            mixinStandardHelpOptions = true,
            description = "Move an object's copy from one device to another.")
    static final class Migrate extends Op {
        @Option(names = "--from", required = true, description = "The device holding the copy.")
        String from;

        @Option(names = "--to", required = true, description = "The device to move it to.")
        String to;

        @Override
        String op() {
            return "migrate";
        }

        @Override
        String[] extra() {
            return new String[] {"from", from, "to", to};
        }
    }

    @Command(
            name = "mirror",
            mixinStandardHelpOptions = true,
            description = "FLR mirror operations, as lfs mirror.",
            subcommands = {Resync.class, Verify.class, Split.class})
    static final class Mirror {}

    @Command(
            name = "resync",
            mixinStandardHelpOptions = true,
            description = "Rewrite the object's stale mirrors from a good one.")
    static final class Resync extends Op {
        @Override
        String op() {
            return "resync";
        }
    }

    @Command(
            name = "verify",
            mixinStandardHelpOptions = true,
            description = "Check every in-sync mirror against its checksums.")
    static final class Verify extends Op {
        @Override
        String op() {
            return "verify";
        }
    }

    @Command(
            name = "split",
            mixinStandardHelpOptions = true,
            description = "Remove one mirror (never the last in-sync one).")
    static final class Split extends Op {
        @Option(
                names = {"-d", "--mirror-id"},
                required = true,
                description = "The mirror id to remove (see getstripe).")
        int mirror;

        @Override
        String op() {
            return "split";
        }

        @Override
        String[] extra() {
            return new String[] {"mirror", Integer.toString(mirror)};
        }
    }
}
