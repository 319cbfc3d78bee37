package dev.spillway.cli;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/** What the CLI tests against an in-process server share: objects put straight into its pool, and the CLI run in-process. */
final class CliFixtures {
    private CliFixtures() {}

    /**
     * Creates the DATA object {@code [0x200000400:n:0]} in the server's pool with {@code size}
     * bytes, pseudo-random from {@code n} if {@code random} (a spill copy of zeros would be sparse
     * and take no room to count), zeros otherwise.
     */
    static Fid put(Server s, int n, int size, boolean random) throws Exception {
        Fid f = new Fid(0x200000400L, n, 0);
        try (Transaction tx = s.pool().newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            byte[] b = new byte[size];
            if (random) {
                new Random(n).nextBytes(b);
            }
            tx.write(f, 0, ByteBuffer.wrap(b));
        }
        return f;
    }

    /** Starts a server on {@code data} with the pool of {@code config}, on free ports, its banner discarded. */
    static Server quietServer(Path data, Path config) throws OsdException {
        return Server.start(ServerOptions.defaults(data)
                .withConfig(config)
                .withPorts(0, 0)
                .withOut(new PrintStream(new ByteArrayOutputStream())));
    }

    /** What an in-process run of the CLI returned: its exit code and what it printed. */
    record Run(int code, String out, String err) {}

    /**
     * Starts a quiet server on {@code tmp/data} with a pool named {@code name} of two mem devices,
     * {@code fast} (metadata, foreground, promote) and {@code slow} (background), configured in
     * {@code tmp/pool.yaml}.
     */
    static Server memMemServer(Path tmp, String name) throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: %s
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow, backend: mem, roles: [background]}
                """.formatted(name));
        return quietServer(tmp.resolve("data"), cfg);
    }

    /** Runs {@code spillway ARGS} in-process, the arguments as given. */
    static Run exec(String... args) {
        var cl = SpillwayCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Runs {@code spillway ARGS --data DATA} in-process. */
    static Run run(Path data, String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--data";
        all[args.length + 1] = data.toString();
        return exec(all);
    }

    /** As {@link #run}: {exit code, stdout, stderr}. */
    static String[] cli(Path data, String... args) {
        Run r = run(data, args);
        return new String[] {Integer.toString(r.code()), r.out(), r.err()};
    }
}
