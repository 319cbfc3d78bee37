package dev.spillway.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MigrateBenchmarksTest {
    @Test
    void policyAndCandidatesAreRegistered() {
        assertThat(BenchCommand.all()).containsKeys("policy", "candidates");
        assertThat(BenchCommand.all().get("policy").description()).contains("LRU");
    }
}
