package dev.spillway.pool.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optional {@code storage-classes} mapping: S3 storage class → a background device of the pool. */
class StorageClassesConfigTest {
    private static final String DEVICES = """
            name: sc
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
              - {name: hdd, backend: mem, roles: [background]}
              - {name: cold, backend: mem, roles: [background]}
            """;

    @Test
    void classesMapToBackgroundDevicesInOrder() throws OsdException {
        PoolConfig c =
                PoolConfigParser.parse(DEVICES + "storage-classes: {STANDARD_IA: hdd, GLACIER_IR: cold}\n", "sc");
        assertThat(c.storageClasses())
                .containsExactly(Map.entry("STANDARD_IA", "hdd"), Map.entry("GLACIER_IR", "cold"));
        assertThat(PoolConfigParser.parse(DEVICES, "sc").storageClasses()).isEmpty();
    }

    @Test
    void aClassOnAForegroundOrUnknownDeviceIsAnErrorNamingTheKey() {
        assertThatThrownBy(() -> PoolConfigParser.parse(DEVICES + "storage-classes: {STANDARD_IA: fast}\n", "sc"))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.is(Errno.EINVAL)).isTrue())
                .hasMessageContaining("storage-classes.STANDARD_IA")
                .hasMessageContaining("'fast' is not a background device");
        assertThatThrownBy(() -> PoolConfigParser.parse(DEVICES + "storage-classes: {GLACIER: tape}\n", "sc"))
                .hasMessageContaining("'tape' is not a background device");
        assertThatThrownBy(() -> PoolConfigParser.parse(DEVICES + "storage-classes: {standard-ia: hdd}\n", "sc"))
                .hasMessageContaining("upper case");
        assertThatThrownBy(() -> PoolConfigParser.parse(DEVICES + "storage-classes: [hdd]\n", "sc"))
                .hasMessageContaining("must be a mapping");
    }
}
