package dev.spillway.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin API's object view says, per byte range of a split body, whether it is resident and
 * where each range spilled to (issue 20): the body cut at its copies' span boundaries.
 */
class ObjectViewExtentsTest {
    private static final long K64 = 64 * 1024;

    @Test
    void aSplitBodyShowsWhichRangesAreResidentAndWhereEachSpilledRangeIs() throws Exception {
        PoolConfig c = PoolConfigParser.parse("""
                name: view
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
                  - {name: slow0, backend: mem, roles: [background]}
                  - {name: slow1, backend: mem, roles: [background]}
                  - {name: far, backend: mem, roles: [background]}
                striping:
                  - devices: [slow0, slow1]
                    stripe-count: 2
                    stripe-size: 64KiB
                """, "view test");
        List<MemOsd> raw = new ArrayList<>();
        for (var d : c.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        try (PoolOsd pool =
                PoolOsd.mount(c, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clk) -> raw.get(d.index()))) {
            Fid f = new Fid(0x200000400L, 1, 0);
            long size = 10 * K64 + 5;
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, size);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(new byte[(int) size]));
            }
            ObjectView view = new ObjectView(pool, null);
            assertThat(view.extents(pool.requireObject(f)))
                    .as("resident whole: one piece")
                    .containsExactly(piece(0, size, true, List.of("fast")));

            pool.migrator().spillRange(f, pool.device(1), 2 * K64, 5 * K64);
            pool.migrator().spillRange(f, pool.device(3), 7 * K64, Long.MAX_VALUE);
            Map<String, Object> v = view.layout(f, "obj");
            assertThat(v.get("extents"))
                    .isEqualTo(List.of(
                            piece(0, 2 * K64, true, List.of("fast")),
                            piece(2 * K64, 5 * K64, false, List.of("slow0+slow1 (raid0)")),
                            piece(5 * K64, 7 * K64, true, List.of("fast")),
                            piece(7 * K64, size, false, List.of("far"))));

            // A range whose only copy's device failed is lost; the rest reads as before.
            pool.deviceOps().setState(pool.device(3), DeviceState.FAILED);
            List<Map<String, Object>> xs = view.extents(pool.requireObject(f));
            assertThat(xs.get(3)).containsEntry("state", "lost").containsEntry("on", List.of());
            assertThat(xs.get(1)).containsEntry("state", "spilled");
        }
    }

    private static Map<String, Object> piece(long start, long end, boolean resident, List<String> on) {
        return Map.of(
                "start",
                start,
                "end",
                end,
                "resident",
                resident,
                "on",
                on,
                "state",
                on.isEmpty() ? "lost" : resident ? "resident" : "spilled");
    }
}
