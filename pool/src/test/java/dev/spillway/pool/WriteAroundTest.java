package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Write-around (docs/design.md, "Write-around"): which bodies go around the fast tier, what their
 * layout is, and that the fast tier keeps only their metadata.
 */
class WriteAroundTest {
    private static final int MIB = 1 << 20;

    private static PoolConfig config(String around) throws OsdException {
        return PoolConfigParser.parse("""
                name: around
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 4MiB, strict-declares: true}}
                  - {name: slow, backend: mem, roles: [background], settings: {strict-declares: true}}
                space: {writer-wait: 0s, write-around: %s}
                """.formatted(around), "test");
    }

    private static Fid fid(int i) {
        return new Fid(0x200000400L, i, 0);
    }

    private static void create(PoolOsd pool, Fid f, byte[] body) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareWrite(f, 0, body.length);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    private static boolean resident(PoolOsd pool, Fid f) throws OsdException {
        return pool.object(f).orElseThrow().resident(pool.devices().get(0).index());
    }

    @Test
    void aFullFastTierTakesNewBodiesAroundItInsteadOfRefusingThem() throws Exception {
        try (PoolOsd pool = PoolFixtures.mount(config("full"))) {
            int i = 1;
            // While the fast tier has room, bodies land on it.
            while (pool.metadataStatfs().availableBytes() > MIB) {
                create(pool, fid(i), PoolFixtures.random(MIB, i));
                assertThat(resident(pool, fid(i))).as("object %d, with room", i).isTrue();
                i++;
            }
            long used = pool.metadataStatfs().usedBytes();
            for (int k = 0; k < 8; k++, i++) {
                create(pool, fid(i), PoolFixtures.random(MIB, i));
                PoolObject p = pool.object(fid(i)).orElseThrow();
                assertThat(p.resident(pool.devices().get(0).index()))
                        .as("object %d, tier full", i)
                        .isFalse();
                assertThat(p.copies())
                        .extracting(Copy::device)
                        .containsExactly(pool.devices().get(1).index());
                assertThat(pool.getAttr(fid(i)).size()).isEqualTo(MIB);
                assertThat(PoolFixtures.read(pool, fid(i))).isEqualTo(PoolFixtures.random(MIB, i));
            }
            // Eight MiB written, only their metadata on the fast tier.
            assertThat(pool.metadataStatfs().usedBytes() - used).isLessThan(64 * 1024);
            assertThat(pool.jobs()).isEmpty();
            PoolFixtures.assertFsckClean(pool);
        }
    }

    @Test
    void pastTheDaemonsHighWatermarkNewBodiesGoAround() throws Exception {
        PoolConfig c = PoolConfigParser.parse("""
                name: around
                devices:
                  - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {capacity: 8MiB, strict-declares: true}}
                  - {name: slow, backend: mem, roles: [background], settings: {strict-declares: true}}
                policy: {high-watermark: 0.5}
                space: {write-around: full}
                """, "test");
        try (PoolOsd pool = PoolFixtures.mount(c)) {
            for (int i = 1; i <= 6; i++) {
                create(pool, fid(i), PoolFixtures.random(MIB, i));
            }
            // 8 MiB: three bodies stay under 4 MiB (the watermark) with the metadata; the rest go around.
            assertThat(resident(pool, fid(1))).isTrue();
            assertThat(resident(pool, fid(3))).isTrue();
            assertThat(resident(pool, fid(4))).isFalse();
            assertThat(resident(pool, fid(6))).isFalse();
            assertThat(pool.metadataStatfs().availableBytes()).isGreaterThan(3 * MIB);
            PoolFixtures.assertFsckClean(pool);
        }
    }

    @Test
    void withoutWriteAroundTheSameWriteIsRefused() throws Exception {
        try (PoolOsd pool = PoolFixtures.mount(config("off"))) {
            int i = 1;
            while (pool.metadataStatfs().availableBytes() > MIB) {
                create(pool, fid(i), PoolFixtures.random(MIB, i));
                i++;
            }
            int next = i;
            assertThatThrownBy(() -> create(pool, fid(next), PoolFixtures.random(MIB, next)))
                    .isInstanceOfSatisfying(
                            OsdException.class,
                            e -> assertThat(e.is(Errno.ENOSPC)).isTrue());
        }
    }

    @Test
    void aStagedBodyCreatedEmptyIsWrittenAroundInItsOwnTransaction() throws Exception {
        try (PoolOsd pool = PoolFixtures.mount(config("always"))) {
            Fid f = fid(1);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
            }
            assertThat(resident(pool, f)).as("created empty").isTrue();
            byte[] body = PoolFixtures.random(3 * MIB + 17, 3);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareWrite(f, 0, body.length);
                tx.start();
                tx.write(f, 0, ByteBuffer.wrap(body));
            }
            assertThat(resident(pool, f)).as("written around").isFalse();
            assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
            assertThat(pool.getAttr(f).mtime()).isPositive();
            // A later write recalls it, as any spilled body.
            try (Transaction tx = pool.newTransaction()) {
                tx.declareWrite(f, 0, 4);
                tx.start();
                tx.write(f, 0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            }
            body[0] = 1;
            body[1] = 2;
            body[2] = 3;
            body[3] = 4;
            assertThat(resident(pool, f)).isTrue();
            assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
            PoolFixtures.assertFsckClean(pool);
        }
    }

    @Test
    void aRewriteOfABodyWithContentLandsOnTheFastTier() throws Exception {
        try (PoolOsd pool = PoolFixtures.mount(config("always"))) {
            Fid f = fid(1);
            create(pool, f, PoolFixtures.random(1000, 1));
            assertThat(resident(pool, f)).isFalse();
            PoolFixtures.replace(pool, f, PoolFixtures.random(2000, 2), tx -> {});
            assertThat(resident(pool, f)).isTrue();
            assertThat(PoolFixtures.read(pool, f)).isEqualTo(PoolFixtures.random(2000, 2));
            pool.migrator().collectGarbage();
            PoolFixtures.assertFsckClean(pool);
        }
    }

    @Test
    void anAbortedTransactionLeavesNoCopyBehind() throws Exception {
        try (PoolOsd pool = PoolFixtures.mount(config("always"))) {
            Fid f = fid(1);
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, 100);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(new byte[100]));
                tx.abort();
            }
            assertThat(pool.exists(f)).isFalse();
            PoolFixtures.assertFsckClean(pool);
        }
    }
}
