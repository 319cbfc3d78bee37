package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.server.DataDir;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Pool-wide commands: jobs, fsck, scrub, gc ({@link CredentialsCommand} has the credentials). */
final class AdminCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminCommands() {}

    /** One line on the multipart uploads in progress (their parts hold space until completed, aborted or expired). */
    static String uploads(JsonNode u) {
        String s = "multipart uploads in progress: " + u.path("uploads").asLong() + " ("
                + u.path("parts").asLong() + " parts, "
                + Human.bytes(u.path("bytes").asLong(), true) + ")";
        if (u.has("oldestInitiated")) {
            s += ", oldest initiated " + u.path("oldestInitiated").asText();
        }
        if (u.has("nextExpiry")) {
            s += ", next expiry " + u.path("nextExpiry").asText();
        }
        return s;
    }

    @Command(
            name = "jobs",
            mixinStandardHelpOptions = true,
            description = {
                "The work in flight (the work index) and what the migration daemon is doing.",
                "Kinds: copy (a copy being written), gc (a copy to delete), resync (a stale copy to rewrite), "
                        + "parked (a spill waiting for room on its target). ATTEMPTS > 0: it failed and is retried.",
                "A stuck copy is a copy job that no copy in flight owns, older than policy.stuck-copy-age: its copy "
                        + "failed half-way and was not rolled back; the daemon rolls it back (else the next mount does)."
            })
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
            StringBuilder q = new StringBuilder();
            for (Iterator<Map.Entry<String, JsonNode>> it = j.path("queued").fields(); it.hasNext(); ) {
                var e = it.next();
                q.append(q.isEmpty() ? "" : ", ")
                        .append(e.getKey())
                        .append(' ')
                        .append(e.getValue().asLong());
            }
            out.printf(
                    "jobs: %d (%s); %d retried after a failure%n",
                    j.path("total").asLong(), q, j.path("retried").asLong());
            JsonNode stuck = j.path("stuckCopies");
            if (stuck.size() > 0) {
                out.printf(
                        "stuck copies: %d (copy jobs older than %s that no copy in flight owns)%n",
                        stuck.size(), Human.age(j.path("stuckCopyAgeSeconds").asDouble()));
                for (JsonNode x : stuck) {
                    out.printf(
                            "  %s on %s, %s old (copy %s)%n",
                            x.path("name").isTextual()
                                    ? x.path("name").asText() + " "
                                            + x.path("fid").asText()
                                    : x.path("fid").asText(),
                            x.path("device").asText(),
                            Human.age(x.path("ageSeconds").asDouble()),
                            x.path("copyKey").asText());
                }
            }
            JsonNode d = j.path("daemon");
            if (!d.isMissingNode()) {
                long cap = d.path("bandwidthLimitBytesPerSecond").asLong();
                out.printf(
                        "daemon: %s, %s; moving %s/s (cap %s); moved so far:%s; %d promotions queued%n",
                        d.path("running").asBoolean() ? "running" : "NOT running",
                        d.path("activity").asText(),
                        Human.size((long) d.path("moveRateBytesPerSecond").asDouble()),
                        cap > 0 ? Human.size(cap) + "/s" : "none",
                        moved(d.path("bytesMoved")),
                        d.path("promotionsQueued").asLong());
                if (d.path("backoffs").size() > 0) {
                    out.println("backing off: " + d.path("backoffs"));
                }
                if (d.path("stuckCopiesRolledBack").asLong() > 0) {
                    out.println("stuck copies rolled back since start: "
                            + d.path("stuckCopiesRolledBack").asLong());
                }
                if (d.path("lastError").isTextual()) {
                    out.println("last error: " + d.path("lastError").asText());
                }
            }
            if (j.has("chores")) {
                StringBuilder c = new StringBuilder();
                for (Iterator<Map.Entry<String, JsonNode>> it = j.path("chores").fields(); it.hasNext(); ) {
                    var e = it.next();
                    c.append(c.isEmpty() ? "" : ", ")
                            .append(e.getKey())
                            .append(' ')
                            .append(e.getValue().asLong());
                }
                out.println("daemon chores done since start: " + c);
            }
            if (j.has("multipartUploads")) {
                out.println(uploads(j.path("multipartUploads")));
            }
            if (j.path("jobs").isEmpty()) {
                out.println("nothing in flight");
                return ExitCodes.OK;
            }
            out.println();
            Table t = new Table("KIND", "OBJECT", "DEVICE", ">SIZE", ">AGE", ">ATTEMPTS", "FID");
            for (JsonNode x : j.path("jobs")) {
                t.row(
                        x.path("stuck").asBoolean()
                                ? x.path("kind").asText() + " (stuck)"
                                : x.path("kind").asText(),
                        x.path("name").isTextual() ? x.path("name").asText() : "-",
                        x.path("device").asText(),
                        Human.size(x.path("bytes").asLong()),
                        Human.age(x.path("ageSeconds").asDouble()),
                        x.path("attempts").asInt(),
                        x.path("fid").asText());
            }
            t.print(out);
            if (j.path("truncated").asBoolean()) {
                out.println("(the first " + j.path("jobs").size() + " shown; --json for them all is capped the same)");
            }
            return ExitCodes.OK;
        }

        private static String moved(JsonNode m) {
            StringBuilder b = new StringBuilder();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                var e = it.next();
                b.append(' ')
                        .append(e.getKey())
                        .append(' ')
                        .append(Human.size(e.getValue().asLong()));
            }
            return b.isEmpty() ? " nothing" : b.toString();
        }
    }

    @Command(
            name = "fsck",
            mixinStandardHelpOptions = true,
            description = {
                "Check the pool: layouts, copies, device indexes, counters, orphans. Exit 1 if it is not clean.",
                "On a running server, writes and migrations wait while the structural walk runs (reads go on); "
                        + "--deep reads the copies afterwards without holding anything. Without a server it checks "
                        + "the unmounted pool in --data."
            })
    static class Fsck implements Callable<Integer> {
        @Mixin
        Target target;

        @Mixin
        Progress progress;

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
            ProgressBar bar = new ProgressBar(
                    spec.commandLine().getErr(),
                    op(),
                    "objects",
                    ProgressBar.wanted(progress.off, target.json),
                    System::nanoTime);
            JsonNode r;
            if (target.endpoint == null && !running(target)) {
                // No server: check the unmounted pool directly (the lock keeps a server out meanwhile).
                // A check without repair mounts without recovery and writes nothing: it needs no
                // space, and it sees what the crash left (work in flight included).
                boolean readOnly = !repair && op().equals("fsck");
                try (Offline o = Offline.open(
                        new DataDir(target.data),
                        null,
                        op(),
                        false,
                        readOnly ? PoolOsd.MountMode.CHECK : PoolOsd.MountMode.RECOVER)) {
                    var rep = o.pool.fsck(repair, deep || op().equals("scrub"), bar::update);
                    bar.finish();
                    ObjectNode n = JSON.createObjectNode();
                    n.put("clean", rep.clean());
                    n.put("objects", rep.objects());
                    n.put("copies", rep.copies());
                    var arr = n.putArray("problems");
                    rep.problems().forEach(pr -> arr.add(pr.toString()));
                    r = n;
                }
            } else {
                r = target.client()
                        .task(
                                op(),
                                AdminClient.params("repair", Boolean.toString(repair), "deep", Boolean.toString(deep)),
                                bar);
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
                                : r.path("problems").size() + " problem(s)"
                                        + (repair ? "" : " (`spillway " + op() + " --repair` fixes what it can)"));
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
            t.client().call("GET", "status", Map.of());
            return true;
        } catch (OsdException e) {
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
            description = "Delete now the garbage copies the work index lists (copies no layout references; the daemon "
                    + "deletes them anyway at its next pass).")
    static final class Gc implements Callable<Integer> {
        @Mixin
        Target target;

        @Mixin
        Progress progress;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ProgressBar bar = new ProgressBar(
                    spec.commandLine().getErr(),
                    "gc",
                    "copies",
                    ProgressBar.wanted(progress.off, target.json),
                    System::nanoTime);
            JsonNode r = target.client().task("gc", Map.of(), bar);
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                out.println(AdminClient.pretty(r));
                return ExitCodes.OK;
            }
            out.println(r.path("collected").asLong() + " garbage copies deleted ("
                    + Human.size(r.path("bytes").asLong()) + ")");
            if (r.has("multipartUploads")) {
                out.println(uploads(r.path("multipartUploads")));
            }
            return ExitCodes.OK;
        }
    }
}
