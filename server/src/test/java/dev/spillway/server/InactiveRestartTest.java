package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code inactive} after a restart: it lists from the daemon's heat index, checkpointed on the
 * fast device, so objects nobody touched since the start are there too — resident and spilled,
 * each with its bucket/key and where its body is now.
 */
class InactiveRestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void objectsUntouchedSinceTheStartAreListedWithTheirNamesAndPlacement() throws Exception {
        Files.writeString(tmp.resolve("pool.yaml"), """
                name: persist
                devices:
                  - {name: fast, backend: kv, roles: [metadata, foreground, promote], settings: {path: %s, capacity: 64MiB}}
                  - {name: slow, backend: vfs, roles: [background], settings: {path: %s, journal: "off"}}
                policy: {min-resident-age: 0s}
                """.formatted(tmp.resolve("fast"), tmp.resolve("slow")));
        try (TestServer s = new TestServer(tmp, Duration.ofSeconds(5))) {
            s.put("arch", "doc-", 4, 200_000);
            assertThat(s.post("/api/object/spill?id=arch/doc-2").statusCode()).isEqualTo(200);
        }
        // Closed cleanly: the heat is checkpointed on the fast device. Nothing is touched after the restart.
        try (TestServer s = new TestServer(tmp, Duration.ofSeconds(5))) {
            JsonNode r = JSON.readTree(s.get("/api/inactive?older-than=0s").body());
            Set<String> names = new HashSet<>();
            for (JsonNode o : r.path("objects")) {
                names.add(o.path("name").asText());
                if (o.path("name").asText().equals("arch/doc-2")) {
                    assertThat(o.path("resident").asBoolean()).isFalse();
                    assertThat(o.path("placement").asText()).startsWith("spilled to slow");
                }
            }
            assertThat(names).contains("arch/doc-1", "arch/doc-2", "arch/doc-3", "arch/doc-4");
        }
    }
}
