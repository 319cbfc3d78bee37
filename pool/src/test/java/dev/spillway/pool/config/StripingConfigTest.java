package dev.spillway.pool.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code striping:} section: tiers of background devices, each mistake named by its path. */
class StripingConfigTest {
    private static final String POOL = """
            devices:
              - name: fast
                backend: mem
                roles: [metadata, foreground, promote]
              - name: a
                backend: mem
                roles: [background]
              - name: b
                backend: mem
                roles: [background]
              - name: c
                backend: mem
                roles: [background]
            """;

    private static OsdException bad(String striping) {
        try {
            PoolConfigParser.parse(POOL + striping, "t.yaml");
        } catch (OsdException e) {
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
            assertThat(e.getMessage()).contains("t.yaml");
            return e;
        }
        throw new AssertionError("accepted: " + striping);
    }

    @Test
    void aTierParsesWithItsSizes() throws Exception {
        PoolConfig c = PoolConfigParser.parse(POOL + """
                        striping:
                          - devices: [a, b, c]
                            stripe-count: 3
                            stripe-size: 4MiB
                            min-object-size: 64MiB
                        """, "t.yaml");
        assertThat(c.striping()).containsExactly(new StripeTier(List.of("a", "b", "c"), 3, 4 << 20, 64L << 20));
        assertThat(c.stripeTier("b")).isPresent();
        assertThat(c.stripeTier("fast")).isEmpty();
        assertThat(c.striping().get(0).stripes(64L << 20)).isTrue();
        assertThat(c.striping().get(0).stripes((64L << 20) - 1)).isFalse();
    }

    @Test
    void withoutASectionNothingIsStriped() throws Exception {
        assertThat(PoolConfigParser.parse(POOL, "t.yaml").striping()).isEmpty();
    }

    @Test
    void everyMistakeNamesItsField() {
        assertThat(bad("striping: {devices: [a, b]}\n").getMessage())
                .contains("striping")
                .contains("list");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: 1MiB, width: 3}\n")
                        .getMessage())
                .contains("striping[0].width")
                .contains("unknown key");
        assertThat(bad("striping:\n  - {devices: [a], stripe-count: 2, stripe-size: 1MiB}\n")
                        .getMessage())
                .contains("striping[0].devices")
                .contains("at least two");
        assertThat(bad("striping:\n  - {devices: [a, zz], stripe-count: 2, stripe-size: 1MiB}\n")
                        .getMessage())
                .contains("striping[0].devices[1]")
                .contains("'zz' is not a device");
        assertThat(bad("striping:\n  - {devices: [fast, a], stripe-count: 2, stripe-size: 1MiB}\n")
                        .getMessage())
                .contains("striping[0].devices[0]")
                .contains("not a background device");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: 1MiB}\n"
                                + "  - {devices: [b, c], stripe-count: 2, stripe-size: 1MiB}\n")
                        .getMessage())
                .contains("striping[1].devices[0]")
                .contains("listed twice");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-size: 1MiB}\n").getMessage())
                .contains("striping[0].stripe-count")
                .contains("required");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 3, stripe-size: 1MiB}\n")
                        .getMessage())
                .contains("striping[0].stripe-count")
                .contains("2..2");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2}\n").getMessage())
                .contains("striping[0].stripe-size")
                .contains("required");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: 3MiB}\n")
                        .getMessage())
                .contains("striping[0].stripe-size")
                .contains("power of two");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: 32KiB}\n")
                        .getMessage())
                .contains("striping[0].stripe-size")
                .contains("64KiB");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: lots}\n")
                        .getMessage())
                .contains("striping[0].stripe-size")
                .contains("not a size");
        assertThat(bad("striping:\n  - {devices: [a, b], stripe-count: 2, stripe-size: 1MiB, min-object-size: x}\n")
                        .getMessage())
                .contains("striping[0].min-object-size");
    }
}
