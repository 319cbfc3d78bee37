package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.PoolOsd;
import dev.spillway.server.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A device failure from the CLI: {@code device set-state NAME failed} marks its copies lost,
 * {@code df} shows the pool degraded, {@code device lost} lists the objects whose only copy was
 * there, {@code getstripe -v} shows the lost copy as Lustre does, {@code device replace OLD NEW}
 * rebuilds the others on the new device and retires the old one once nothing needs it.
 * (The outputs printed here are the README's example.)
 */
class DeviceFailureCliTest {
    @TempDir
    Path tmp;

    private static Fid put(Server s, int n, int size) throws Exception {
        return CliFixtures.put(s, n, size, true);
    }

    private String[] cli(Path data, String... args) {
        String[] r = CliFixtures.cli(data, args);
        System.out.println("$ spillway " + String.join(" ", args) + "\n" + r[1] + r[2] + "(exit " + r[0] + ")\n");
        return r;
    }

    @Test
    void aFailedDeviceIsListedReplacedAndRetiredFromTheCli() throws Exception {
        Path cfg = tmp.resolve("pool.yaml");
        Files.writeString(cfg, """
                name: lab
                replicas: 2
                devices:
                  - {name: nvme, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: hdd0, backend: mem, roles: [background]}
                  - {name: hdd1, backend: mem, roles: [background]}
                  - {name: hdd2, backend: mem, roles: [background]}
                policy: {enabled: false}
                """);
        Path data = tmp.resolve("data");
        try (Server s = CliFixtures.quietServer(data, cfg)) {
            PoolOsd pool = s.pool();
            // Three objects mirrored on hdd0 and hdd1; one whose only copy is on hdd0.
            for (int i = 1; i <= 3; i++) {
                Fid f = put(s, i, 300_000);
                pool.migrator().copy(f, pool.device(1), false);
                pool.migrator().spill(f, pool.device(2));
            }
            Fid alone = put(s, 9, 200_000);
            pool.migrator().copy(alone, pool.device(1), false);
            pool.migrator().spill(alone, pool.device(2));
            int onHdd1 = pool.requireObject(alone).on(2).orElseThrow().mirrorId();
            pool.migrator().dropMirror(alone, onHdd1);

            String[] failed = cli(data, "device", "set-state", "hdd0", "failed");
            assertThat(failed[0]).isEqualTo("0");
            assertThat(failed[1])
                    .contains("hdd0 is now failed")
                    .contains("4 copies on hdd0 are lost; objects with no copy left: 1")
                    .contains("`spillway device lost hdd0`");

            // The status page's events and health say so too.
            var status = AdminClient.of(data, null).call("GET", "status", Map.of());
            assertThat(status.path("events").toString())
                    .contains("hdd0 failed: 4 copies lost; objects with no copy left: 1");
            assertThat(status.path("df")
                            .path("health")
                            .path("objectsWithNoCopyLeft")
                            .asLong())
                    .isEqualTo(1);

            String[] df = cli(data, "df", "-h");
            assertThat(df[0]).isEqualTo("0");
            assertThat(df[1])
                    .containsPattern("hdd0 +spill +mem +failed")
                    .contains("pool DEGRADED: device hdd0 failed; 4 lost copies; objects with fewer than 2 copies: 3")
                    .contains("with no copy left: 1 (`spillway device lost hdd0`)");

            String[] lost = cli(data, "device", "lost", "hdd0");
            assertThat(lost[0]).isEqualTo("1");
            assertThat(lost[1])
                    .contains("objects whose only copy was on hdd0 (failed), reads fail with EIO: 1")
                    .contains(alone.toString())
                    .contains("objects that lost a copy on hdd0 and are being rebuilt from their other copies: 3");

            String[] stripe = cli(data, "getstripe", "-v", alone.toString());
            assertThat(stripe[1])
                    .containsPattern("hdd0 +spill +lost")
                    .contains("lhm_flags:")
                    .contains("lost");
            assertThat(stripe[1]).containsPattern("lcme_flags: +init,stale");

            String[] replace = cli(data, "device", "replace", "hdd0", "hdd2");
            assertThat(replace[0]).isEqualTo("1");
            assertThat(replace[1])
                    .contains(
                            "objects rebuilt on hdd2: 3; objects whose only copy was on hdd0, which cannot be rebuilt: 1")
                    .contains("hdd0 stays failed");
            assertThat(cli(data, "df", "-h")[1]).contains("objects with fewer than 2 copies: 0");

            // The lost object is deleted (restored elsewhere): nothing needs hdd0 any more.
            try (Transaction tx = pool.newTransaction()) {
                tx.declareDestroy(alone);
                tx.start();
                tx.destroy(alone);
            }
            String[] retire = cli(data, "device", "replace", "hdd0", "hdd2");
            assertThat(retire[0]).isEqualTo("0");
            assertThat(retire[1]).contains("hdd0 replaced by hdd2").contains("hdd0 is now spare");
            String[] after = cli(data, "df", "-h");
            assertThat(after[1]).containsPattern("hdd0 +spill +mem +spare").doesNotContain("DEGRADED");
            assertThat(cli(data, "fsck", "--deep")[0]).isEqualTo("0");
        }
    }
}
