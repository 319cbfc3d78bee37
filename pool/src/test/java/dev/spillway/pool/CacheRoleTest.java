package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.config.Role;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Read-cache devices (role {@code cache}, durability 0): promotion goes there, reads are served
 * from there, and nothing the pool promises depends on them — they never count as a replica nor
 * toward a write-commit count, take no write, spill or evacuation, and losing their copies (an
 * osd-mem cache at a restart, a failed or evacuated cache, a read error) costs nothing but the
 * cache.
 */
class CacheRoleTest {
    private static final String YAML = """
            name: cached
            replicas: %d
            write-commit: %s
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote], settings: {durability: simulated, strict-declares: true}}
              - {name: slow0, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: slow1, backend: mem, roles: [background], settings: {durability: simulated, strict-declares: true}}
              - {name: ram, backend: mem, roles: [cache], settings: {strict-declares: true}}
            """;

    /** The cache device: counts its reads; its reads can be made to fail. */
    static final class Cache extends FilterOsd {
        final AtomicInteger reads = new AtomicInteger();
        final AtomicBoolean failReads = new AtomicBoolean();

        Cache(Osd in) {
            super(in);
        }

        @Override
        public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
            if (failReads.get()) {
                throw new OsdException(Errno.EIO, name(), fid, "injected read error at " + offset);
            }
            reads.incrementAndGet();
            return super.read(fid, offset, dst);
        }
    }

    private final Map<String, Osd> durable = new HashMap<>();
    private PoolConfig cfg;
    private Cache cache;
    private PoolOsd pool;

    private PoolOsd mount(int replicas, String writeCommit) throws OsdException {
        cfg = PoolConfigParser.parse(String.format(YAML, replicas, writeCommit), "cached");
        return remount();
    }

    /** Mounts again over the same durable devices and a fresh (empty) osd-mem cache: a restart. */
    private PoolOsd remount() throws OsdException {
        pool = PoolOsd.mount(cfg, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, clock) -> {
            OsdConfig oc = new OsdConfig(d.name(), d.backend(), d.settings(), clock);
            if (d.has(Role.CACHE)) {
                cache = new Cache(new MemOsd(oc));
                return cache;
            }
            return durable.computeIfAbsent(d.name(), n -> {
                try {
                    return new MemOsd(oc);
                } catch (OsdException e) {
                    throw new IllegalStateException(e);
                }
            });
        });
        return pool;
    }

    @AfterEach
    void fsckClean() throws Exception {
        if (pool != null) {
            assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        }
    }

    private PoolDevice dev(String name) {
        return pool.device(name).orElseThrow();
    }

    private static byte[] body(int seed, int n) {
        return PoolFixtures.random(n, seed);
    }

    private Fid write(int n, byte[] body) throws OsdException {
        Fid f = new Fid(0x200000400L, n, 0);
        PoolFixtures.replace(pool, f, body, tx -> {});
        return f;
    }

    private byte[] read(Fid f) throws OsdException {
        return PoolFixtures.read(pool, f);
    }

    private Optional<Copy> onCache(Fid f) throws OsdException {
        return pool.requireObject(f).on(dev("ram").index());
    }

    /** An object spilled to slow0 (its only copy), then promoted: to the cache. */
    private Fid spilledAndCached(int n, byte[] b) throws OsdException {
        Fid f = write(n, b);
        assertThat(pool.migrator().spill(f, dev("slow0"))).isInstanceOf(MoveResult.Done.class);
        MoveResult r = pool.migrator().promote(f);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("cached").contains("ram");
        return f;
    }

    @Test
    void aPromotionGoesToTheCacheAndReadsAreServedFromIt() throws Exception {
        mount(1, "async");
        byte[] b = body(1, 3 << 20);
        Fid f = spilledAndCached(1, b);

        PoolObject p = pool.requireObject(f);
        assertThat(p.resident(pool.metadata().index()))
                .as("the fast tier is left as it was")
                .isFalse();
        Copy c = onCache(f).orElseThrow();
        assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(c.preferred()).as("reads prefer the cache copy").isTrue();
        assertThat(pool.migrator().promote(f)).isInstanceOf(MoveResult.NothingToDo.class);

        int before = cache.reads.get();
        assertThat(read(f)).isEqualTo(b);
        assertThat(cache.reads.get()).as("reads served by the cache").isGreaterThan(before);
        // The layout names the cache copy as a mirror like any other (an HSM component, PREF_RD).
        assertThat(pool.layout(f).components()).hasSize(2);
    }

    @Test
    void theCacheAddsNoRoomToThePool() throws Exception {
        mount(1, "async");
        StatFs s = pool.statfs();
        long durableRows = s.devices().stream()
                .filter(r -> !r.device().equals("ram"))
                .mapToLong(StatFs::totalBytes)
                .sum();
        assertThat(s.devices()).extracting(StatFs::device).contains("ram");
        assertThat(s.totalBytes()).isEqualTo(durableRows);
    }

    @Test
    void aCacheIsNeverAWriteOrSpillTarget() throws Exception {
        mount(1, "async");
        Fid f = write(1, body(2, 1000));
        MoveResult r = pool.migrator().copy(f, dev("ram"), true);
        assertThat(r).isInstanceOf(MoveResult.Refused.class);
        assertThat(r.detail()).contains("ram").contains("not a background device");
        assertThatThrownBy(() -> pool.migrator().begin(f, dev("ram")))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("ram");
        assertThat(onCache(f)).isEmpty();
    }

    @Test
    void aCacheCopyNeverCountsTowardReplicas() throws Exception {
        mount(2, "async");
        byte[] b = body(3, 100_000);
        Fid f = write(1, b);
        assertThat(pool.migrator().copy(f, dev("slow0"), false)).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().spill(f, dev("slow1"))).isInstanceOf(MoveResult.Done.class);
        assertThat(pool.migrator().promote(f).detail()).contains("cached");
        assertThat(pool.migrator().promoteHome(f)).isInstanceOf(MoveResult.Done.class);
        int slow1 = pool.requireObject(f).on(dev("slow1").index()).orElseThrow().mirrorId();
        assertThat(pool.migrator().dropMirror(f, slow1)).isInstanceOf(MoveResult.Done.class);

        // fast + slow0 + ram: with the cache counted there would be two copies besides the
        // fast device's, enough to release it at replicas 2.
        MoveResult r = pool.migrator().release(f);
        assertThat(r).isInstanceOf(MoveResult.Refused.class);
        assertThat(r.detail()).contains("only 1 durable in-sync copy elsewhere");
        assertThat(read(f)).isEqualTo(b);
    }

    @Test
    void aSyncWriteNeverCountsOrUsesTheCache() throws Exception {
        mount(2, "sync 2");
        Fid f = write(1, body(4, 50_000));
        PoolObject p = pool.requireObject(f);
        assertThat(p.inSync())
                .extracting(Copy::device)
                .doesNotContain(dev("ram").index());
        assertThat(p.inSync()).hasSize(2);

        // With the background devices read-only, only the cache could take a copy: the write fails.
        pool.deviceOps().setState(dev("slow0"), DeviceState.RO);
        pool.deviceOps().setState(dev("slow1"), DeviceState.RO);
        assertThatThrownBy(() -> write(2, body(5, 1000)))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("sync 2");
        pool.deviceOps().setState(dev("slow0"), DeviceState.RW);
        pool.deviceOps().setState(dev("slow1"), DeviceState.RW);
    }

    @Test
    void aRestartWithAnOsdMemCacheDropsItsCopiesAndReadsGoToTheDurableCopy() throws Exception {
        mount(1, "async");
        byte[] b1 = body(6, 2 << 20);
        byte[] b2 = body(7, 5000);
        Fid f1 = spilledAndCached(1, b1);
        Fid f2 = spilledAndCached(2, b2);
        Fid f3 = write(3, body(8, 4000));

        remount();
        assertThat(pool.recoveryReport().cacheCopiesDropped()).isEqualTo(2);
        assertThat(pool.recoveryReport().objectsScanned())
                .as("no namespace scan")
                .isZero();
        assertThat(onCache(f1)).isEmpty();
        assertThat(onCache(f2)).isEmpty();
        assertThat(read(f1)).isEqualTo(b1);
        assertThat(read(f2)).isEqualTo(b2);
        assertThat(read(f3)).isEqualTo(body(8, 4000));
        assertThat(pool.copyTotals()
                        .getOrDefault(dev("ram").index(), Map.of())
                        .getOrDefault(CopyState.IN_SYNC, new long[2])[1])
                .isZero();
        // The cache takes promotions again.
        assertThat(pool.migrator().promote(f1).detail()).contains("cached");
        assertThat(read(f1)).isEqualTo(b1);
    }

    @Test
    void aCacheThatKeepsItsCopiesKeepsThemAcrossARestart() throws Exception {
        mount(1, "async");
        byte[] b = body(9, 10_000);
        Fid f = spilledAndCached(1, b);
        Cache kept = cache;
        pool = PoolOsd.mount(
                cfg,
                InstantSource.system(),
                PoolOsd.MountMode.RECOVER,
                (d, clock) -> d.has(Role.CACHE) ? kept : durable.get(d.name()));
        cache = kept;
        assertThat(pool.recoveryReport().cacheCopiesDropped()).isZero();
        assertThat(onCache(f)).isPresent();
        assertThat(read(f)).isEqualTo(b);
    }

    @Test
    void aReadErrorOnTheCacheDropsItsCopyAndTheReadGoesToTheDurableCopy() throws Exception {
        mount(1, "async");
        byte[] b = body(10, 300_000);
        Fid f = spilledAndCached(1, b);
        cache.failReads.set(true);
        assertThat(read(f)).isEqualTo(b);
        assertThat(onCache(f)).as("dropped, not resynced").isEmpty();
        assertThat(pool.jobs()).extracting(Job::kind).doesNotContain(Job.Kind.RESYNC);
        cache.failReads.set(false);
    }

    @Test
    void aWriteCollectsTheCacheCopyEvenWithReplicas() throws Exception {
        mount(2, "async");
        Fid f = write(1, body(11, 20_000));
        pool.migrator().copy(f, dev("slow0"), false);
        pool.migrator().spill(f, dev("slow1"));
        assertThat(pool.migrator().promote(f).detail()).contains("cached");
        byte[] b = body(12, 7000);
        write(1, b);
        assertThat(onCache(f)).isEmpty();
        assertThat(pool.jobs())
                .filteredOn(j -> j.kind() == Job.Kind.RESYNC)
                .extracting(Job::device)
                .doesNotContain(dev("ram").index());
        assertThat(read(f)).isEqualTo(b);
    }

    @Test
    void evacuatingTheCacheDropsItsCopiesAndMovesNothing() throws Exception {
        mount(1, "async");
        byte[] b = body(13, 100_000);
        Fid f = spilledAndCached(1, b);
        DeviceOps.Progress p = pool.deviceOps().evacuateStep(dev("ram"), 100);
        assertThat(p.done()).as(p.errors().toString()).isTrue();
        assertThat(dev("ram").state()).isEqualTo(DeviceState.SPARE);
        PoolObject o = pool.requireObject(f);
        assertThat(o.copies())
                .extracting(Copy::device)
                .containsExactly(dev("slow0").index());
        assertThat(read(f)).isEqualTo(b);
        pool.deviceOps().setState(dev("ram"), DeviceState.RW);
    }

    @Test
    void aFailedCacheIsHarmless() throws Exception {
        mount(1, "async");
        byte[] b = body(14, 100_000);
        Fid f = spilledAndCached(1, b);
        pool.deviceOps().setState(dev("ram"), DeviceState.FAILED);
        // Nothing the pool counts on was there: the pool is not degraded, the cache is listed apart.
        assertThat(pool.statfs().flags()).doesNotContain(StatFs.Flag.DEGRADED);
        var health = pool.deviceOps().lostCopies().health();
        assertThat(health.degraded()).isFalse();
        assertThat(health.failedDevices()).isEmpty();
        assertThat(health.failedCaches()).containsExactly("ram");
        assertThat(health.lostCopies())
                .as("its copies left their layouts, not LOST")
                .isZero();
        assertThat(onCache(f)).isEmpty();
        int before = cache.reads.get();
        assertThat(read(f)).isEqualTo(b);
        assertThat(cache.reads.get()).as("a failed cache is not read").isEqualTo(before);
        // A promotion while it is failed goes home.
        assertThat(pool.migrator().promote(f).detail()).doesNotContain("cached");
        assertThat(read(f)).isEqualTo(b);

        remount();
        assertThat(onCache(f)).isEmpty();
        assertThat(read(f)).isEqualTo(b);
        pool.deviceOps().setState(dev("ram"), DeviceState.RW);
    }

    @Test
    void theConfigurationRefusesACacheWithAnotherRoleOrADurability() {
        String base = String.format(YAML, 1, "async");
        assertThatThrownBy(() -> PoolConfigParser.parse(
                        base.replace(
                                "roles: [metadata, foreground, promote]",
                                "roles: [metadata, foreground, promote, cache]"),
                        "c.yaml"))
                .isInstanceOf(OsdException.class)
                .hasMessageContaining("c.yaml")
                .hasMessageContaining("devices[0].roles")
                .hasMessageContaining("cache device")
                .hasMessageContaining("metadata");
        assertThatThrownBy(() ->
                        PoolConfigParser.parse(base.replace("roles: [cache]", "roles: [cache, background]"), "c.yaml"))
                .hasMessageContaining("devices[3].roles")
                .hasMessageContaining("background");
        assertThatThrownBy(() -> PoolConfigParser.parse(
                        base.replace("roles: [cache]", "roles: [cache], durability: 1"), "c.yaml"))
                .hasMessageContaining("devices[3].durability")
                .hasMessageContaining("durability 0");
        // The cache is not a durable device: it cannot make up replicas or a sync count.
        assertThatThrownBy(() -> PoolConfigParser.parse(String.format(YAML, 4, "async"), "c.yaml"))
                .hasMessageContaining("replicas")
                .hasMessageContaining("only 3 durable");
        assertThatThrownBy(() -> PoolConfigParser.parse(String.format(YAML, 3, "sync 4"), "c.yaml"))
                .hasMessageContaining("write-commit");
    }
}
