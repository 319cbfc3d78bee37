package dev.spillway.pool.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.testkit.fuzz.AllocationBound;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of the pool YAML parser. For any
 * text {@link PoolConfigParser#parse} returns a configuration or throws its EINVAL {@link
 * OsdException} naming the key path; nothing else (no exception of the YAML library or of
 * Jackson past it, no alias bomb), within a bounded allocation. What it returns must be usable:
 * each device's settings make an {@link OsdConfig} (what the mount does next), and every typed
 * getter a backend reads its settings with (string, boolean, integer, byte size, duration)
 * returns a value or throws that device's EINVAL. The seeds are the configurations of the
 * README and the module's documentation.
 */
class PoolConfigFuzzTest {
    private static final AllocationBound BOUND = new AllocationBound(4 << 20, 256);

    @FuzzTest
    void parse(byte[] input) {
        String yaml = new String(input, StandardCharsets.UTF_8);
        PoolConfig[] out = new PoolConfig[1];
        try {
            BOUND.check(input.length, () -> out[0] = PoolConfigParser.parse(yaml, "fuzz.yaml"));
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
            assertThat(e.getMessage()).contains("pool config fuzz.yaml");
            return;
        }
        PoolConfig c = out[0];
        assertThat(c.devices()).isNotEmpty();
        assertThat(c.replicas()).isPositive();
        for (DeviceConfig d : c.devices()) {
            OsdConfig oc = new OsdConfig(d.name(), d.backend(), d.settings(), null);
            for (String key : oc.settings().keySet()) {
                oc.string(key, null);
                typed(() -> oc.bool(key, false));
                typed(() -> oc.integer(key, 0));
                typed(() -> oc.bytes(key, 0));
                typed(() -> oc.duration(key, Duration.ZERO));
                typed(() -> oc.requireString(key));
            }
        }
    }

    private interface Getter {
        Object get() throws OsdException;
    }

    private static void typed(Getter g) {
        try {
            g.get();
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        }
    }

    static Map<String, byte[]> seeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("readme-lab", """
                name: lab
                replicas: 2
                devices:
                  - {name: nvme, backend: kv,  roles: [metadata, foreground, promote], settings: {path: /srv/spw/nvme, capacity: 200GiB}}
                  - {name: hdd0, backend: vfs, roles: [background], settings: {path: /mnt/hdd0/spw, journal: "off"}}
                  - {name: hdd1, backend: vfs, roles: [background], settings: {path: /mnt/hdd1/spw, journal: "off"}}
                policy: {high-watermark: 0.85, low-watermark: 0.70, promote-hits: 2, bandwidth: 200MiB}
                """.getBytes(StandardCharsets.UTF_8));
        s.put("readme-s3", """
                name: main
                replicas: 1
                devices:
                  - name: fast
                    backend: kv                      # RocksDB; `mem` to try it without one
                    roles: [metadata, foreground, promote]
                    settings: {path: ./spillway-data/fast, capacity: 64GiB}
                  - name: cold
                    backend: s3
                    roles: [background]
                    settings:
                      endpoint: http://127.0.0.1:9000  # omit for AWS S3 (region decides)
                      region: us-east-1
                      bucket: spillway
                      prefix: main/cold                # pools and devices share a bucket by prefix
                      access-key: AKIAEXAMPLE          # or omit both keys: the SDK's default credential chain
                      secret-key: example-secret
                      path-style: true
                      quota: 10TiB                     # what statfs reports as the device's size
                      part-size: 8MiB
                """.getBytes(StandardCharsets.UTF_8));
        s.put("javadoc-default", """
                name: default
                replicas: 1
                devices:
                  - name: fast
                    backend: kv
                    roles: [metadata, foreground, promote]
                    settings: {path: ./data/fast, capacity: 1GiB, commit-delay: 2ms, strict-declares: yes}
                  - name: slow
                    backend: vfs
                    roles: [background]
                    state: ro
                    durability: 1
                    settings: {path: ./data/slow, journal: "on", group-commit: PT0.002S}
                policy:
                  high-watermark: 0.80
                """.getBytes(StandardCharsets.UTF_8));
        return s;
    }

    @Test
    void seedCorpusHoldsValidConfigurations() throws Exception {
        for (var e : seeds().entrySet()) {
            assertThat(PoolConfigParser.parse(new String(e.getValue(), StandardCharsets.UTF_8), e.getKey())
                            .devices())
                    .as(e.getKey())
                    .isNotEmpty();
            parse(e.getValue());
        }
        SeedCorpus.of(getClass(), "parse").check(seeds());
    }
}
