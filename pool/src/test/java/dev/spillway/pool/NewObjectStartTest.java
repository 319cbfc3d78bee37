package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A transaction that creates an object and writes it (every S3 PUT) loads no pool record at
 * start: the object has none, so looking for it only cost a lookup and an ENOENT exception.
 */
class NewObjectStartTest {
    private static final String YAML = """
            name: newobj
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {strict-declares: true}}
              - {name: slow, backend: mem, roles: [background], settings: {strict-declares: true}}
            """;

    private PoolOsd pool;
    private final AtomicInteger recordLoads = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        PoolConfig cfg = PoolConfigParser.parse(YAML, "newobj");
        List<MemOsd> raw = PoolFixtures.memDevices(cfg);
        pool = PoolOsd.mount(
                cfg,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, c) -> d.index() == 0
                        ? new FilterOsd(raw.get(0)) {
                            @Override
                            public byte[] getXattr(Fid fid, String name) throws OsdException {
                                if (name.equals(PoolObjectCodec.XATTR)) {
                                    recordLoads.incrementAndGet();
                                }
                                return in.getXattr(fid, name);
                            }
                        }
                        : raw.get(d.index()));
    }

    @AfterEach
    void fsckClean() throws Exception {
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
    }

    private void createAndWrite(Fid f, byte[] body) throws OsdException {
        PoolFixtures.create(pool, f, body);
    }

    @Test
    void creatingAndWritingAnObjectLoadsNoRecord() throws Exception {
        Fid f = new Fid(0x200000400L, 1, 0);
        createAndWrite(f, new byte[4096]);
        assertThat(recordLoads.get()).as("record loads of a create + write").isZero();
        assertThat(pool.getAttr(f).size()).isEqualTo(4096);
    }

    @Test
    void creatingAnObjectThatExistsStillFailsWithEexistAndChangesNothing() throws Exception {
        Fid f = new Fid(0x200000400L, 2, 0);
        createAndWrite(f, new byte[] {1, 2, 3});
        // Spilled: a write to it would need a recall its declares do not cover if the create
        // were skipped; the create fails first.
        assertThat(pool.migrator().spill(f, pool.device(1))).isInstanceOf(MoveResult.Done.class);
        Executable again = () -> createAndWrite(f, new byte[] {9, 9, 9, 9});
        OsdException e = org.junit.jupiter.api.Assertions.assertThrows(OsdException.class, again);
        assertThat(e.is(Errno.EEXIST)).as("%s", e).isTrue();
        ByteBuffer b = ByteBuffer.allocate(10);
        assertThat(pool.read(f, 0, b)).isEqualTo(3);
        assertThat(b.flip().get(0)).isEqualTo((byte) 1);
    }
}
