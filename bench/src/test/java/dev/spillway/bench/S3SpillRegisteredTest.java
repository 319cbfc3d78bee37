package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code ./spillway bench s3-spill} is found through the service registry (it is never timed here). */
class S3SpillRegisteredTest {
    @Test
    void s3SpillIsRegistered() {
        assertThat(BenchCommand.all()).containsKeys("s3", "s3-spill");
        assertThat(BenchCommand.all().get("s3-spill").description()).contains(">= 0.80");
    }
}
