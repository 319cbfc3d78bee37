package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Changing the fast tier's size (issue 12): {@code serve --fast-capacity} on an existing default
 * pool applies and keeps it (it was silently ignored), with {@code --config} it is refused saying
 * what to do, and {@code spillway device set-capacity} changes it online — shrinking below what
 * the tier holds by spilling first.
 */
class CapacityCliTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path tmp;

    private Server start(Path data, String fastCapacity) throws OsdException {
        return Server.start(ServerOptions.defaults(data)
                .withFastCapacity(fastCapacity)
                .withPorts(0, 0)
                .withOut(new PrintStream(new ByteArrayOutputStream())));
    }

    private static String run(Path data, String... args) {
        CommandLine cl = SpillwayCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--data";
        all[args.length + 1] = data.toString();
        int code = cl.execute(all);
        assertThat(code).as(out + "" + err).isZero();
        return out.toString();
    }

    private static void write(Server s, int n, int size) throws Exception {
        Fid f = new Fid(0x200000400L, n, 0);
        byte[] b = new byte[size];
        new Random(n).nextBytes(b);
        try (Transaction tx = s.pool().newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, size);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(b));
        }
    }

    private static long fastSize(Server s) throws OsdException {
        return s.pool().metadataStatfs().totalBytes();
    }

    @Test
    void fastCapacityOnAnExistingPoolIsAppliedAndKept() throws Exception {
        Path data = tmp.resolve("data");
        try (Server s = start(data, "64MiB")) {
            assertThat(fastSize(s)).isEqualTo(64 * MIB);
        }
        try (Server s = start(data, "128MiB")) {
            assertThat(fastSize(s)).isEqualTo(128 * MIB);
        }
        assertThat(Files.readString(data.resolve("pool.yaml"), StandardCharsets.UTF_8))
                .contains("capacity: 128MiB")
                .doesNotContain("capacity: 64MiB");
        // Without the option, an existing pool keeps what it has.
        try (Server s = start(data, null)) {
            assertThat(fastSize(s)).isEqualTo(128 * MIB);
        }
    }

    @Test
    void fastCapacityWithAConfigFileIsRefusedSayingHowToChangeIt() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: cfg
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                """);
        assertThatThrownBy(() -> Server.start(ServerOptions.defaults(tmp.resolve("data"))
                        .withConfig(cfg)
                        .withFastCapacity("64MiB")
                        .withPorts(0, 0)
                        .withOut(new PrintStream(new ByteArrayOutputStream()))))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("--fast-capacity")
                .hasMessageContaining(cfg.toString())
                .hasMessageContaining("settings.capacity")
                .hasMessageContaining("spillway device set-capacity");
    }

    @Test
    @Timeout(600)
    void setCapacityGrowsAtOnceAndShrinksBySpillingFirst() throws Exception {
        Path data = tmp.resolve("data");
        try (Server s = start(data, "64MiB")) {
            String grown = run(data, "device", "set-capacity", "fast", "96MiB");
            assertThat(grown).contains("applied");
            assertThat(fastSize(s)).isEqualTo(96 * MIB);
            assertThat(Files.readString(data.resolve("pool.yaml"))).contains("capacity: 96MiB");
            for (int i = 1; i <= 24; i++) {
                write(s, i, (int) MIB);
            }
            String shrunk = run(data, "device", "set-capacity", "fast", "16MiB");
            assertThat(shrunk).contains("spilling");
            assertThat(run(data, "df")).contains("being shrunk");
            // The daemon's passes spill until it fits, then the new size applies.
            while (s.pool().capacity().target().isPresent()) {
                s.daemon().runOnce();
            }
            assertThat(fastSize(s)).isEqualTo(16 * MIB);
            assertThat(run(data, "fsck")).contains("clean");
        }
        assertThat(Files.readString(data.resolve("pool.yaml"))).contains("capacity: 16MiB");
        // The next start reads the new size, and every object is still there.
        try (Server s = start(data, null)) {
            assertThat(fastSize(s)).isEqualTo(16 * MIB);
            for (int i = 1; i <= 24; i++) {
                assertThat(s.pool().getAttr(new Fid(0x200000400L, i, 0)).size()).isEqualTo(MIB);
            }
        }
    }
}
