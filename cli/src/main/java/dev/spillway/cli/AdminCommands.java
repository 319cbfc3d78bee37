package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Pool-wide commands: jobs, fsck, scrub, gc, credentials. */
final class AdminCommands {
    private AdminCommands() {}

    @Command(
            name = "jobs",
            mixinStandardHelpOptions = true,
            description = "The work index: queued copies, garbage, resyncs, parked moves.")
    static final class Jobs implements Callable<Integer> {
        @Mixin
        Target target;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode j = target.client().call("GET", "jobs", Map.of());
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                out.println(AdminClient.pretty(j));
                return ExitCodes.OK;
            }
            out.println("queued: "
                    + (j.path("queued").isEmpty() ? "none" : j.path("queued").toString()));
            for (JsonNode x : j.path("jobs")) {
                out.println("  " + x.asText());
            }
            if (j.has("daemon")) {
                out.println("daemon: " + j.path("daemon"));
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "fsck",
            mixinStandardHelpOptions = true,
            description = {
                "Check the pool: layouts, copies, device indexes, counters, orphans. Exit 1 if it is not clean.",
                "On a running server, writes and migrations wait while the structural walk runs (reads go on); "
                        + "--deep reads the copies afterwards without holding anything."
            })
    static class Fsck implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--repair", description = "Fix what can be fixed without losing data.")
        boolean repair;

        @Option(names = "--deep", description = "Also read every copy and check its checksums.")
        boolean deep;

        @Spec
        CommandSpec spec;

        String op() {
            return "fsck";
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (!target.json) {
                out.println(op() + ": checking (this walks every object)...");
                out.flush();
            }
            JsonNode r;
            if (target.endpoint == null && !running(target)) {
                // No server: check the unmounted pool directly (the lock keeps a server out meanwhile).
                try (Offline o = Offline.open(new dev.spillway.server.DataDir(target.data), null, op(), false)) {
                    var rep =
                            dev.spillway.pool.recovery.Fsck.run(o.pool, repair, deep || op().equals("scrub"), s -> {});
                    com.fasterxml.jackson.databind.node.ObjectNode n =
                            new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
                    n.put("clean", rep.clean());
                    n.put("objects", rep.objects());
                    n.put("copies", rep.copies());
                    var arr = n.putArray("problems");
                    rep.problems().forEach(pr -> arr.add(pr.toString()));
                    r = n;
                }
            } else {
                r = target.client()
                        .call(
                                "POST",
                                op(),
                                AdminClient.params("repair", Boolean.toString(repair), "deep", Boolean.toString(deep)));
            }
            if (target.json) {
                out.println(AdminClient.pretty(r));
            } else {
                out.printf(
                        "%s: %d objects, %d copies: %s%n",
                        op(),
                        r.path("objects").asLong(),
                        r.path("copies").asLong(),
                        r.path("clean").asBoolean()
                                ? "clean"
                                : r.path("problems").size() + " problem(s)");
                for (JsonNode p : r.path("problems")) {
                    out.println("  " + p.asText());
                }
            }
            return r.path("clean").asBoolean() ? ExitCodes.OK : ExitCodes.FAILURE;
        }
    }

    /** True if a server answers for the data folder. */
    static boolean running(Target t) {
        try {
            t.client().call("GET", "status", java.util.Map.of());
            return true;
        } catch (dev.spillway.osd.OsdException e) {
            return false;
        }
    }

    @Command(
            name = "scrub",
            mixinStandardHelpOptions = true,
            description =
                    "Read every copy on every device and check its checksums; bad copies are marked stale and healed.")
    static final class Scrub extends Fsck {
        @Override
        String op() {
            return "scrub";
        }
    }

    @Command(
            name = "gc",
            mixinStandardHelpOptions = true,
            description = "Delete the garbage copies the work index lists, now.")
    static final class Gc implements Callable<Integer> {
        @Mixin
        Target target;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode r = target.client().call("POST", "gc", Map.of());
            spec.commandLine()
                    .getOut()
                    .println(target.json ? r.toString() : r.path("collected").asLong() + " garbage copies deleted");
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "credentials",
            mixinStandardHelpOptions = true,
            description = "Print the pool's access key, secret and endpoints; --env prints shell export lines.")
    static final class Creds implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(
                names = "--env",
                description = "As export lines: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SPILLWAY_S3_ENDPOINT.")
        boolean env;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            DataDir dir = new DataDir(target.data);
            Credentials c = Credentials.load(dir);
            String s3 = null;
            String admin = null;
            var found = dir.readEndpoint();
            if (found.isPresent()) {
                JsonNode e = found.get();
                s3 = e.path("s3").isNull() ? null : e.path("s3").asText(null);
                admin = e.path("admin").asText(null);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (env) {
                out.println("export AWS_ACCESS_KEY_ID=" + c.accessKey());
                out.println("export AWS_SECRET_ACCESS_KEY=" + c.secretKey());
                out.println("export AWS_DEFAULT_REGION=us-east-1");
                if (s3 != null) {
                    out.println("export SPILLWAY_S3_ENDPOINT=" + s3);
                    out.println("export AWS_ENDPOINT_URL=" + s3);
                }
            } else if (target.json) {
                out.printf(
                        "{\"accessKey\": \"%s\", \"secretKey\": \"%s\", \"s3\": %s, \"admin\": %s}%n",
                        c.accessKey(),
                        c.secretKey(),
                        s3 == null ? "null" : "\"" + s3 + "\"",
                        admin == null ? "null" : "\"" + admin + "\"");
            } else {
                out.println("access key: " + c.accessKey());
                out.println("secret key: " + c.secretKey());
                out.println("S3 endpoint: " + (s3 == null ? "(server not running)" : s3));
                out.println("admin endpoint: " + (admin == null ? "(server not running)" : admin));
            }
            return ExitCodes.OK;
        }
    }
}
