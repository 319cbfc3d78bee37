package dev.spillway.migrate.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The daemon's back-off per device, on explicit times (no clock, no sleep). */
class BackoffTest {
    private static final long S = 1_000_000_000L;

    @Test
    void eachFailureDoublesTheWaitUpToTheCapAndASuccessClearsIt() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(b.active(2, 0)).isFalse();
        assertThat(b.failed(2, 0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.active(2, S - 1)).isTrue();
        assertThat(b.active(2, S)).as("over once its time is up").isFalse();
        assertThat(b.failed(2, S)).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.failed(2, 3 * S)).isEqualTo(Duration.ofSeconds(4));
        assertThat(b.failed(2, 7 * S)).as("capped").isEqualTo(Duration.ofSeconds(5));
        assertThat(b.active(3, 7 * S)).as("per device").isFalse();
        assertThat(b.active(7 * S)).isEqualTo(Map.of(2, Duration.ofSeconds(5)));
        b.succeeded(2);
        assertThat(b.active(2, 7 * S)).isFalse();
        assertThat(b.failed(2, 8 * S)).as("counting starts again").isEqualTo(Duration.ofSeconds(1));
    }
}
