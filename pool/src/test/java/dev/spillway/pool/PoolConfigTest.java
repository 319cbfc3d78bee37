package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.config.Role;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Pool YAML: every mistake is an error naming the key; nothing is guessed. */
class PoolConfigTest {
    private static final String GOOD = """
            name: p
            replicas: 1
            devices:
              - name: fast
                backend: mem
                roles: [metadata, foreground, promote]
              - name: slow
                backend: mem
                roles: [background]
                durability: 1
            policy:
              high-watermark: 0.8
            """;

    private static OsdException bad(String yaml) {
        try {
            PoolConfigParser.parse(yaml, "t.yaml");
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
            assertThat(e.getMessage()).contains("t.yaml");
            return e;
        }
        throw new AssertionError("accepted: " + yaml);
    }

    @Test
    void aGoodConfigParses() throws Exception {
        PoolConfig c = PoolConfigParser.parse(GOOD, "t.yaml");
        assertThat(c.devices()).hasSize(2);
        assertThat(c.metadata().name()).isEqualTo("fast");
        assertThat(c.background()).extracting(d -> d.name()).containsExactly("slow");
        assertThat(c.devices().get(0).roles()).contains(Role.PROMOTE);
        assertThat(c.policy()).containsKey("high-watermark");
    }

    @Test
    void unknownKeysAreNamedWithTheirPath() {
        assertThat(bad(GOOD.replace("replicas: 1", "replica: 1")).getMessage())
                .contains("replica")
                .contains("unknown key");
        assertThat(bad(GOOD.replace("durability: 1", "durabilty: 1")).getMessage())
                .contains("devices[1].durabilty");
    }

    @Test
    void impossibleCombinationsAreErrors() {
        assertThat(bad(GOOD.replace("[metadata, foreground, promote]", "[foreground, promote]"))
                        .getMessage())
                .contains("metadata");
        assertThat(bad(GOOD.replace("replicas: 1", "replicas: 3")).getMessage()).contains("replicas");
        assertThat(bad(GOOD.replace("[background]", "[background, metadata]")).getMessage())
                .contains("devices[1].roles");
        assertThat(bad(GOOD.replace("name: slow", "name: fast")).getMessage()).contains("duplicate");
        assertThat(bad(GOOD.replace("[background]", "[backgroud]")).getMessage())
                .contains("devices[1].roles[0]");
        assertThat(bad(GOOD.replace("durability: 1", "durability: lots")).getMessage())
                .contains("devices[1].durability");
        assertThat(bad("devices: []").getMessage()).contains("devices");
        assertThat(bad("just text").getMessage()).contains("mapping");
        assertThat(bad("name: [unclosed").getMessage()).contains("YAML");
    }

    @Test
    void aMissingFileNamesTheFile() {
        assertThatThrownBy(() -> PoolConfigParser.parse(Path.of("/nonexistent/pool.yaml")))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("/nonexistent/pool.yaml");
    }
}
