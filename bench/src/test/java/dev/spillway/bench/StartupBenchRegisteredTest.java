package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code ./spillway bench startup} is found through the service registry (it is never timed here). */
class StartupBenchRegisteredTest {
    @Test
    void startupIsRegistered() {
        assertThat(BenchCommand.all()).containsKey("startup");
        assertThat(BenchCommand.all().get("startup").description()).contains("AOT cache");
    }
}
