package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spillway.server.admin.ObjectRef;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway getstripe OBJ}: where an object's body is, then (-v) its layout as {@code lfs getstripe -v}. */
@Command(
        name = "getstripe",
        mixinStandardHelpOptions = true,
        description = {
            "Where an object's body is: a summary (placement; each copy with its device, state, size and checksums),",
            "then with -v its layout decoded from the trusted.lov xattr in the YAML shape of lfs getstripe -v.",
            "Copy states: in-sync (current, readable), stale (an older version, waiting for resync), pending "
                    + "(being written), garbage (to be deleted), lost (on a failed device: -v shows its HSM component with "
                    + "lhm_flags lost and lcme_flags stale, as Lustre marks a lost archive copy)."
        })
final class GetstripeCommand implements Callable<Integer> {
    @Mixin
    Target target;

    @Parameters(index = "0", paramLabel = "OBJ", description = "A FID [0x…:0x…:0x…] or bucket/key.")
    String object;

    @Option(
            names = {"-v", "--verbose"},
            description = "After the summary, the layout as lfs getstripe -v prints it.")
    boolean verbose;

    @Option(names = "--lfs", description = "Only the layout, as lfs getstripe -v prints it (for lfs-minded tools).")
    boolean lfs;

    @Option(
            names = "--raw",
            description = "Write the layout xattr's bytes exactly as stored, for other tools to decode.")
    boolean raw;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // A malformed name is a usage error here, before (and without) asking a server.
        ObjectRef.parse(object);
        AdminClient c = target.client();
        if (raw) {
            byte[] b = c.raw("GET", "object/layout", AdminClient.params("id", object, "raw", "1"));
            System.out.write(b);
            System.out.flush();
            return ExitCodes.OK;
        }
        JsonNode l = c.call("GET", "object/layout", AdminClient.params("id", object));
        PrintWriter out = spec.commandLine().getOut();
        if (target.json) {
            out.println(AdminClient.pretty(l));
        } else if (lfs) {
            out.print(l.path("getstripe").asText());
        } else {
            summary(out, l);
            if (verbose) {
                out.println();
                out.print(l.path("getstripe").asText());
            }
        }
        return ExitCodes.OK;
    }

    private static void summary(PrintWriter out, JsonNode l) {
        String name = l.path("name").isTextual() ? l.path("name").asText() : null;
        out.println((name != null ? name + "  " : "") + l.path("fid").asText());
        long size = l.path("size").asLong();
        if (l.path("multipart").asBoolean()) {
            out.printf(
                    "  multipart object: %d parts, %s (%d bytes)%n",
                    l.path("parts").size(), Human.size(size), size);
            out.println("  placement: " + l.path("placement").asText());
            Table t = new Table("PART", "FID", "BYTES", ">SIZE", "PLACEMENT");
            for (JsonNode p : l.path("parts")) {
                t.row(
                        p.path("part").asInt(),
                        p.path("fid").asText(),
                        "[" + p.path("start").asLong() + ", " + p.path("end").asLong() + ")",
                        Human.size(p.path("size").asLong()),
                        p.path("placement").asText());
            }
            t.print(indented(out));
            return;
        }
        out.printf(
                "  size %s (%d bytes), data version %d, layout generation %d%n",
                Human.size(size),
                size,
                l.path("dataVersion").asLong(),
                l.path("layoutGeneration").asLong());
        out.println("  placement: " + l.path("placement").asText());
        boolean ranged = false;
        for (JsonNode c : l.path("copies")) {
            ranged |= c.path("extents").isArray();
        }
        Table t = ranged
                ? new Table("MIRROR", "DEVICE", "TIER", "STATE", "EXTENTS", ">SIZE", "CHECKSUM")
                : new Table("MIRROR", "DEVICE", "TIER", "STATE", ">SIZE", "CHECKSUM");
        for (JsonNode c : l.path("copies")) {
            String state = c.path("state").asText();
            if (c.path("preferred").asBoolean()) {
                state += " (read)";
            }
            if (ranged) {
                t.row(
                        c.path("mirror").asInt(),
                        device(c),
                        c.path("tier").asText(),
                        state,
                        extents(c),
                        Human.size(c.path("size").asLong()),
                        c.path("checksum").asText());
            } else {
                t.row(
                        c.path("mirror").asInt(),
                        device(c),
                        c.path("tier").asText(),
                        state,
                        Human.size(c.path("size").asLong()),
                        c.path("checksum").asText());
            }
        }
        t.print(indented(out));
    }

    /** The byte ranges a copy holds, as lfs prints a PFL component's extent: {@code [0, 64M) [128M, EOF)}. */
    private static String extents(JsonNode c) {
        if (!c.path("extents").isArray()) {
            return "[0, EOF)";
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : c.path("extents")) {
            long end = e.get(1).asLong();
            out.add("[" + e.get(0).asLong() + ", " + (end < 0 ? "EOF" : Long.toString(end)) + ")");
        }
        return String.join(" ", out);
    }

    /** A copy's device, or a striped copy's devices joined: {@code slow0+slow1+slow2 (raid0)}. */
    private static String device(JsonNode c) {
        if (!c.path("devices").isArray()) {
            return c.path("device").asText();
        }
        List<String> ds = new ArrayList<>();
        c.path("devices").forEach(d -> ds.add(d.asText()));
        return String.join("+", ds) + " (raid0)";
    }

    private static PrintWriter indented(PrintWriter out) {
        return new PrintWriter(
                new Writer() {
                    private boolean start = true;

                    @Override
                    public void write(char[] b, int off, int len) {
                        for (int i = off; i < off + len; i++) {
                            if (start) {
                                out.print("  ");
                                start = false;
                            }
                            out.print(b[i]);
                            if (b[i] == '\n') {
                                start = true;
                            }
                        }
                    }

                    @Override
                    public void flush() {
                        out.flush();
                    }

                    @Override
                    public void close() {}
                },
                true);
    }
}
