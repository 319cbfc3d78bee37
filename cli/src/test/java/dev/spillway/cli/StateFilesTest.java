package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.cli.CliFixtures.Run;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import dev.spillway.server.PoolLock;
import dev.spillway.server.Server;
import dev.spillway.server.ServerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data folder's files as an earlier power cut may have left them on a real filesystem (the
 * crash campaign in {@link DataFolderCrashTest} covers every cut; these are the states the
 * issue-13 report found on disk): empty files, a missing or garbled lock file.
 */
class StateFilesTest {
    @TempDir
    Path tmp;

    private static Run cli(String... args) {
        return CliFixtures.exec(args);
    }

    /** Before the fix: "spillway: java.lang.IllegalArgumentException: URI with undefined scheme". */
    @Test
    void offlineFsckWithAnEmptyEndpointFileChecksThePool() throws Exception {
        Path data = tmp.resolve("data");
        assertThat(cli("format", "--data", data.toString()).code()).isZero();
        Files.write(data.resolve("endpoint.json"), new byte[0]);
        Run r = cli("fsck", "--data", data.toString());
        assertThat(r.err()).doesNotContain("Exception");
        assertThat(r.out()).contains("clean");
        assertThat(r.code()).isZero();
    }

    /** Before the fix: "cannot read credentials …: No content to map due to end-of-input", then "a pool configuration is a mapping". */
    @Test
    void emptyCredentialsAndConfigurationLeftByACrashAreWrittenAgain() throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Files.write(data.resolve("credentials.json"), new byte[0]);
        Files.write(data.resolve("pool.yaml"), new byte[0]);
        Files.write(data.resolve("spillway.lock"), new byte[0]);
        DataDir dir = new DataDir(data);
        boolean[] created = {false};
        Credentials c = Credentials.loadOrCreate(dir, created);
        assertThat(created[0]).isTrue();
        assertThat(Credentials.load(dir)).isEqualTo(c);
        assertThat(Files.getPosixFilePermissions(data.resolve("credentials.json")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Server.config(ServerOptions.defaults(data), dir).name()).isEqualTo("spillway");
        assertThat(Files.readString(data.resolve("pool.yaml"))).contains("backend: kv");
    }

    @Test
    void theLockFileMayBeMissingEmptyOrGarbled() throws Exception {
        Path lock = tmp.resolve("spillway.lock");
        for (byte[] content : new byte[][] {null, new byte[0], new byte[100], "{\"pid\": 12".getBytes()}) {
            Files.deleteIfExists(lock);
            if (content != null) {
                Files.write(lock, content);
            }
            try (PoolLock l = PoolLock.acquire(lock, "test", Duration.ofMillis(10))) {
                assertThat(l.file()).isEqualTo(lock);
            }
        }
    }
}
