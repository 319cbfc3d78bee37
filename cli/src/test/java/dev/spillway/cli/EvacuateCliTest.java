package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.server.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code device evacuate} on a pool with one spill device, as the default pool has: refused before
 * anything moves when the fast device cannot take the data home, the device left as it was.
 */
class EvacuateCliTest {
    @TempDir
    Path tmp;

    private static Fid put(Server s, int n, int size) throws Exception {
        return put(s, n, size, true);
    }

    private static Fid put(Server s, int n, int size, boolean random) throws Exception {
        return CliFixtures.put(s, n, size, random);
    }

    private String[] cli(Path data, String... args) {
        return CliFixtures.cli(data, args);
    }

    @Test
    void anEvacuationNoDeviceCanTakeIsRefusedUpFrontAndMovesNothing() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: evac
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 8MiB}}
                  - {name: slow, backend: mem, roles: [background]}
                daemon: {enabled: false}
                """.replace("daemon: {enabled: false}\n", "policy: {enabled: false}\n"));
        Path data = tmp.resolve("data");
        try (Server s = CliFixtures.quietServer(data, cfg)) {
            for (int i = 1; i <= 3; i++) {
                Fid f = put(s, i, 2 << 20);
                assertThat(cli(data, "spill", f.toString(), "--to", "slow")[0]).isEqualTo("0");
            }
            put(s, 10, 2 << 20);
            put(s, 11, 2 << 20);
            put(s, 12, 1 << 20);
            String[] r = cli(data, "device", "evacuate", "slow");
            assertThat(r[0]).isEqualTo("1");
            assertThat(r[2])
                    .startsWith("spillway: ENOSPC: cannot evacuate 'slow': it holds 6.0 MiB")
                    .contains("fast ")
                    .contains("nothing was moved")
                    .contains("Add a spill device");
            assertThat(cli(data, "device", "list")[1]).containsPattern("slow +spill +mem +background +rw");
            String[] df = cli(data, "df", "--json");
            assertThat(df[1]).contains("\"copies\" : 3");
        }
    }

    @Test
    void aStuckEvacuationSaysHowToGetOutAndSetStateGetsOut() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: evac
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 8MiB}}
                  - {name: slow, backend: mem, roles: [background]}
                policy: {enabled: false}
                """);
        Path data = tmp.resolve("data");
        try (Server s = CliFixtures.quietServer(data, cfg)) {
            // Bodies of zeros: their spilled copies are sparse and occupy (and count) nothing, so
            // the up-front check lets the evacuation start, but at home they need their full size.
            for (int i = 1; i <= 3; i++) {
                Fid f = put(s, i, 2 << 20, false);
                assertThat(cli(data, "spill", f.toString(), "--to", "slow")[0]).isEqualTo("0");
            }
            put(s, 10, 2 << 20);
            put(s, 11, 2 << 20);
            put(s, 12, 1 << 20);
            String[] r = cli(data, "device", "evacuate", "slow", "--batch", "1");
            assertThat(r[0]).isEqualTo("1");
            assertThat(r[2])
                    .startsWith("spillway: EAGAIN: evacuation of slow is stuck with ")
                    .contains("ENOSPC")
                    .contains("The device stays 'evacuating'")
                    .contains("`spillway device evacuate slow` again")
                    .contains("`spillway device set-state slow rw`");
            assertThat(cli(data, "device", "list")[1]).containsPattern("slow +spill +mem +background +evacuating");
            assertThat(cli(data, "device", "set-state", "slow", "rw")[0]).isEqualTo("0");
            assertThat(cli(data, "device", "list")[1]).containsPattern("slow +spill +mem +background +rw");
        }
    }
}
