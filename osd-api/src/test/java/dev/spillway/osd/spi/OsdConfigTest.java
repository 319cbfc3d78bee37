package dev.spillway.osd.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.OsdException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OsdConfigTest {
    @Test
    void sizesUseBinaryUnits() {
        assertThat(OsdConfig.parseBytes("4096")).isEqualTo(4096);
        assertThat(OsdConfig.parseBytes("64MiB")).isEqualTo(64L << 20);
        assertThat(OsdConfig.parseBytes("1G")).isEqualTo(1L << 30);
        assertThat(OsdConfig.parseBytes("1.5k")).isEqualTo(1536);
        assertThatThrownBy(() -> OsdConfig.parseBytes("lots")).hasMessageContaining("lots");
    }

    @Test
    void durations() {
        assertThat(OsdConfig.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(OsdConfig.parseDuration("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(OsdConfig.parseDuration("PT5S")).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void unknownKeysAreErrorsNamingTheKeyAndDevice() {
        OsdConfig c = OsdConfig.of("fast", "kv", Map.of("path", "/x", "capacty", "1G"));
        assertThatThrownBy(() -> c.checkKnown(Set.of("path", "capacity")))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("fast")
                .hasMessageContaining("capacty");
    }

    @Test
    void badValuesNameTheKey() {
        OsdConfig c = OsdConfig.of("fast", "kv", Map.of("capacity", "huge", "sync", "perhaps"));
        assertThatThrownBy(() -> c.bytes("capacity", 0))
                .hasMessageContaining("capacity")
                .hasMessageContaining("huge");
        assertThatThrownBy(() -> c.bool("sync", true)).hasMessageContaining("sync");
    }

    /** Both escaped {@code duration()}'s catch before (ArithmeticException, DateTimeParseException). */
    @Test
    void aDurationThatDoesNotFitOrParseIsASettingError() {
        OsdConfig c = OsdConfig.of("dev0", "kv", Map.of("a", "999999999999999d", "b", "Pfoo"));
        assertThatThrownBy(() -> c.duration("a", Duration.ZERO))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("setting 'a'")
                .hasMessageContaining("999999999999999d");
        assertThatThrownBy(() -> c.duration("b", Duration.ZERO))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("setting 'b'");
    }
}
