package dev.spillway.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code getstripe}'s summary of a striped copy names every stripe's device and counts every stripe's checksums. */
class StripedObjectViewTest {
    @Test
    void aStripedCopyShowsAllItsDevicesAndItsStripesChecksums() throws Exception {
        PoolConfig c = PoolConfigParser.parse("""
                name: view
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow0, backend: mem, roles: [background]}
                  - {name: slow1, backend: mem, roles: [background]}
                  - {name: slow2, backend: mem, roles: [background]}
                striping:
                  - devices: [slow0, slow1, slow2]
                    stripe-count: 3
                    stripe-size: 64KiB
                """, "view test");
        List<MemOsd> raw = new ArrayList<>();
        for (var d : c.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        try (PoolOsd pool =
                PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clk) -> raw.get(d.index()))) {
            Fid f = new Fid(0x200000400L, 1, 0);
            byte[] body = new byte[(1 << 20) + 123];
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, body.length);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
            pool.migrator().spill(f, pool.device(1));

            Map<String, Object> view = new ObjectView(pool, null).layout(f, "obj");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> copies = (List<Map<String, Object>>) view.get("copies");
            Map<String, Object> striped = copies.stream()
                    .filter(x -> x.containsKey("devices"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no striped copy in " + copies));
            assertThat(striped.get("devices")).isEqualTo(List.of("slow0", "slow1", "slow2"));
            assertThat(striped.get("stripeSize")).isEqualTo(64 << 10);
            // 1 MiB + 123 bytes over three stripes: each stripe has at least one checksum chunk.
            assertThat((String) striped.get("checksum")).startsWith("crc32c, ").doesNotStartWith("crc32c, 0");
            assertThat((String) view.get("placement")).contains("slow0+slow1+slow2 (raid0)");
        }
    }
}
