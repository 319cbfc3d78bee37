package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.DeviceOps;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Copies of ranges of a split body (issue 20) under device loss and read errors: a copy of a range
 * lost with its device is rebuilt as a copy of that range (its bytes only) from another copy holding
 * it; a read that fails on a copy of a range is served by another copy holding the range and marks
 * the failed one stale, and its resync rebuilds the range, never a whole copy; the last copy holding
 * a range is never demoted. Mem devices under {@link Flaky}; a deep fsck after each test.
 */
class RangeRepairTest {
    private static final int K64 = 64 * 1024;
    private static final Span RANGE = new Span(2 * K64, 5 * K64);

    private PoolConfig cfg;
    private List<MemOsd> raw;
    private final List<Flaky> devices = new ArrayList<>();
    private PoolOsd pool;

    private PoolOsd mount(int replicas) throws OsdException {
        cfg = PoolFixtures.memMem("rr", 0, replicas, 3);
        raw = PoolFixtures.memDevices(cfg);
        for (MemOsd m : raw) {
            devices.add(new Flaky(m));
        }
        pool = PoolFixtures.mountOn(cfg, devices, PoolOsd.MountMode.RECOVER);
        return pool;
    }

    @AfterEach
    void fsckClean() throws OsdException {
        devices.forEach(d -> d.failReads.set(false));
        pool.migrator().collectGarbage();
        PoolFixtures.assertFsckClean(pool);
    }

    private PoolObject state(Fid f) throws OsdException {
        return pool.object(f).orElseThrow();
    }

    /** The copies of ranges of {@code f}, in mirror order. */
    private List<Copy> ranges(Fid f) throws OsdException {
        return state(f).ranges(0);
    }

    /**
     * An object of 512 KiB with a whole copy on slow0 (device 1) and {@link #RANGE} spilled to
     * slow1 (device 2): the range is held by the copy of it and by the whole copy. Under {@code
     * replicas: 2} the whole copy is made first (it counts, and the range spill adds the one copy
     * missing); under {@code replicas: 1} the range is spilled first (a whole copy holding it would
     * be enough: the range would only be released).
     */
    private Fid splitWithWholeCopy(byte[] body) throws OsdException {
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        boolean wholeFirst = pool.replicas() > 1;
        if (wholeFirst) {
            MoveResult c = pool.migrator().copy(f, pool.device(1), false);
            assertThat(c).as(c.detail()).isInstanceOf(MoveResult.Done.class);
        }
        MoveResult r = pool.migrator().spillRange(f, pool.device(2), RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        if (!wholeFirst) {
            MoveResult c = pool.migrator().copy(f, pool.device(1), false);
            assertThat(c).as(c.detail()).isInstanceOf(MoveResult.Done.class);
        }
        assertThat(ranges(f)).singleElement().extracting(Copy::device).isEqualTo(2);
        assertThat(state(f).split(0)).isTrue();
        return f;
    }

    @Test
    void aCopyOfARangeLostWithItsDeviceIsRebuiltAsACopyOfThatRangeFromTheWholeCopy() throws Exception {
        mount(2);
        byte[] body = PoolFixtures.random(512 * 1024, 1);
        Fid f = splitWithWholeCopy(body);

        pool.deviceOps().setState(pool.device(2), DeviceState.FAILED);
        assertThat(ranges(f)).singleElement().extracting(Copy::state).isEqualTo(CopyState.LOST);
        // Reads of the range go to the whole copy meanwhile.
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);

        long slow2Before = raw.get(3).statfs().usedBytes();
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(2), 100);
        assertThat(p.errors()).isEmpty();
        assertThat(p.moved()).isEqualTo(1);
        assertThat(p.unrecoverable()).isZero();

        PoolObject now = state(f);
        Copy rebuilt = now.on(3).orElseThrow(() -> new AssertionError("no copy on slow2: " + now));
        assertThat(rebuilt.whole()).as("a copy of the range, not of the body").isFalse();
        assertThat(rebuilt.spans()).containsExactly(RANGE);
        assertThat(rebuilt.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(raw.get(3).getAttr(rebuilt.key()).size()).isEqualTo(RANGE.end() - RANGE.start());
        assertThat(raw.get(3).statfs().usedBytes() - slow2Before)
                .as("only the range's bytes moved")
                .isLessThan(body.length / 2);
        assertThat(now.copies()).noneMatch(c -> c.state() == CopyState.LOST);
        assertThat(now.split(0)).isTrue();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);

        // The rebuilt copy serves the range: with the whole copy's device unreadable, reads still work.
        devices.get(1).failReads.set(true);
        byte[] part = new byte[(int) (RANGE.end() - RANGE.start())];
        int n = pool.read(f, RANGE.start(), ByteBuffer.wrap(part));
        assertThat(n).isEqualTo(part.length);
        assertThat(part).isEqualTo(Arrays.copyOfRange(body, (int) RANGE.start(), (int) RANGE.end()));
    }

    @Test
    void aCopyOfARangeLostWithNoOtherCopyHoldingItStaysLostAndIsCountedUnrecoverable() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 2);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        pool.migrator().spillRange(f, pool.device(2), RANGE.start(), RANGE.end());

        pool.deviceOps().setState(pool.device(2), DeviceState.FAILED);
        assertThatThrownBy(() -> pool.read(f, RANGE.start(), ByteBuffer.allocate(4096)))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.is(Errno.EIO)).isTrue());
        // The resident ranges still read.
        byte[] head = new byte[(int) RANGE.start()];
        assertThat(pool.read(f, 0, ByteBuffer.wrap(head))).isEqualTo(head.length);

        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(2), 100);
        assertThat(p.unrecoverable()).isEqualTo(1);
        assertThat(p.moved()).isZero();
        assertThat(ranges(f)).singleElement().extracting(Copy::state).isEqualTo(CopyState.LOST);
        // Rewriting the range makes the object whole again (fsck clean after).
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, RANGE.start(), RANGE.end() - RANGE.start());
            tx.start();
            tx.write(f, RANGE.start(), ByteBuffer.wrap(new byte[(int) (RANGE.end() - RANGE.start())]));
        }
        // The device comes back empty-handed for this object (its copy is dropped as it is older).
        pool.deviceOps().setState(pool.device(2), DeviceState.RW);
    }

    @Test
    void aSplitBodyWhoseWholeCopyIsLostGetsANewWholeCopyMadeFromItsRangesNotCountedUnrecoverable() throws Exception {
        mount(2);
        byte[] body = PoolFixtures.random(512 * 1024, 3);
        Fid f = splitWithWholeCopy(body);

        pool.deviceOps().setState(pool.device(1), DeviceState.FAILED);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        DeviceOps.Progress p = pool.deviceOps().replaceLost(pool.device(1), 100);
        assertThat(p.errors()).isEmpty();
        assertThat(p.unrecoverable()).as("the split body holds every byte").isZero();
        assertThat(p.moved()).isEqualTo(1);
        PoolObject now = state(f);
        assertThat(now.on(3)).hasValueSatisfying(c -> {
            assertThat(c.whole()).isTrue();
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        });
        assertThat(now.copies()).noneMatch(c -> c.state() == CopyState.LOST);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aReadErrorOnACopyOfARangeIsServedByAnotherCopyHoldingItAndMarksTheCopyStaleForARangeResync() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 4);
        Fid f = splitWithWholeCopy(body);
        Fid badKey = ranges(f).get(0).key();

        devices.get(2).failReads.set(true);
        byte[] part = new byte[(int) (RANGE.end() - RANGE.start())];
        assertThat(pool.read(f, RANGE.start(), ByteBuffer.wrap(part))).isEqualTo(part.length);
        assertThat(part).isEqualTo(Arrays.copyOfRange(body, (int) RANGE.start(), (int) RANGE.end()));
        assertThat(devices.get(2).failedReads.get()).isPositive();

        Copy bad = ranges(f).get(0);
        assertThat(bad.key()).isEqualTo(badKey);
        assertThat(bad.state()).as("marked bad by the read").isEqualTo(CopyState.STALE);
        assertThat(WorkIndex.all(raw.get(0)))
                .filteredOn(j -> j.kind() == Job.Kind.RESYNC)
                .singleElement()
                .satisfies(j -> assertThat(j.key()).isEqualTo(badKey));
        // Reads now go straight to the whole copy.
        long failed = devices.get(2).failedReads.get();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        assertThat(devices.get(2).failedReads.get()).isEqualTo(failed);

        // The resync (the daemon's RESYNC job) rebuilds the range on its device, from the whole copy.
        devices.get(2).failReads.set(false);
        PoolObject before = state(f);
        MoveResult r = pool.migrator().resync(f, 2);
        assertThat(r).as(r.detail() + " " + before + " -> " + state(f)).isInstanceOf(MoveResult.Done.class);
        assertThat(r.bytes()).isEqualTo(RANGE.end() - RANGE.start());
        Copy fresh = ranges(f).get(0);
        assertThat(ranges(f)).hasSize(1);
        assertThat(fresh.key()).isNotEqualTo(badKey);
        assertThat(fresh.device()).isEqualTo(2);
        assertThat(fresh.spans()).containsExactly(RANGE);
        assertThat(fresh.state()).isEqualTo(CopyState.IN_SYNC);
        assertThat(state(f).on(2).orElseThrow().whole()).isFalse();
        assertThat(WorkIndex.all(raw.get(0))).noneMatch(j -> j.kind() == Job.Kind.RESYNC);
        // Served by the rebuilt copy alone.
        devices.get(1).failReads.set(true);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aCorruptCopyOfARangeFailsItsChecksumsAndIsMarkedStale() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 5);
        Fid f = splitWithWholeCopy(body);
        Copy c = ranges(f).get(0);
        try (Transaction tx = raw.get(2).newTransaction()) {
            tx.declareWrite(c.key(), 100, 8);
            tx.start();
            tx.write(c.key(), 100, ByteBuffer.wrap(new byte[] {9, 9, 9, 9, 9, 9, 9, 9}));
        }
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        assertThat(ranges(f))
                .as("%s", state(f))
                .singleElement()
                .extracting(Copy::state)
                .isEqualTo(CopyState.STALE);
        assertThat(pool.migrator().resync(f, 2)).isInstanceOf(MoveResult.Done.class);
        assertThat(ranges(f)).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
    }

    @Test
    void theLastCopyHoldingARangeIsNeverDemotedByAReadError() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 6);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        pool.migrator().spillRange(f, pool.device(2), RANGE.start(), RANGE.end());

        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> pool.read(f, RANGE.start(), ByteBuffer.allocate(4096)))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.is(Errno.EIO)).isTrue());
        assertThat(ranges(f)).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
        assertThat(WorkIndex.all(raw.get(0))).noneMatch(j -> j.kind() == Job.Kind.RESYNC);
        devices.get(2).failReads.set(false);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    /**
     * A body spilled whole with two whole copies (slow0, slow1): the copy a range promotion reads
     * first, in its order (the preferred, then by device).
     */
    private Copy twoWholeCopies(Fid f) throws OsdException {
        MoveResult s = pool.migrator().spill(f, pool.device(1));
        assertThat(s).as(s.detail()).isInstanceOf(MoveResult.Done.class);
        MoveResult c = pool.migrator().copy(f, pool.device(2), false);
        assertThat(c).as(c.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).inSync()).hasSize(2);
        return state(f).inSync().stream()
                .sorted(java.util.Comparator.comparing((Copy x) -> !x.preferred())
                        .thenComparingInt(Copy::device))
                .findFirst()
                .orElseThrow();
    }

    private void assertMarkedBadAndResynced(Fid f, Copy first, byte[] body) throws OsdException {
        PoolObject p = state(f);
        assertThat(p.byKey(first.key()))
                .as("the whole copy that failed the promotion's read: %s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(WorkIndex.all(raw.get(0)))
                .filteredOn(j -> j.kind() == Job.Kind.RESYNC)
                .singleElement()
                .satisfies(j -> assertThat(j.key()).isEqualTo(first.key()));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        MoveResult r = pool.migrator().resync(f, first.device());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).inSync()).hasSize(2);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aRangePromotionWhoseWholeCopyFailsItsReadMarksThatCopyBadAndIsServedByTheNext() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 7);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        Copy first = twoWholeCopies(f);

        devices.get(first.device()).failReads.set(true);
        MoveResult r = pool.migrator().promoteRange(f, RANGE.start(), RANGE.end());
        devices.get(first.device()).failReads.set(false);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail())
                .contains("(from " + pool.device(3 - first.device()).name() + ")");
        assertThat(state(f).on(0).orElseThrow().spans()).containsExactly(RANGE);
        assertMarkedBadAndResynced(f, first, body);
    }

    @Test
    void aRangePromotionWhoseWholeCopyFailsItsChecksumsMarksThatCopyBad() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 8);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        Copy first = twoWholeCopies(f);
        try (Transaction tx = raw.get(first.device()).newTransaction()) {
            tx.declareWrite(first.key(), RANGE.start() + 100, 8);
            tx.start();
            tx.write(first.key(), RANGE.start() + 100, ByteBuffer.wrap(new byte[] {9, 9, 9, 9, 9, 9, 9, 9}));
        }
        MoveResult r = pool.migrator().promoteRange(f, RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        byte[] part = new byte[(int) (RANGE.end() - RANGE.start())];
        assertThat(pool.read(f, RANGE.start(), ByteBuffer.wrap(part))).isEqualTo(part.length);
        assertThat(part).isEqualTo(Arrays.copyOfRange(body, (int) RANGE.start(), (int) RANGE.end()));
        assertMarkedBadAndResynced(f, first, body);
    }

    @Test
    void aRangePromotionWhoseOnlyWholeCopyFailsNeverDemotesIt() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 9);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        pool.migrator().spill(f, pool.device(1));
        devices.get(1).failReads.set(true);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, RANGE.start(), RANGE.end()))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.is(Errno.EIO)).isTrue());
        devices.get(1).failReads.set(false);
        assertThat(state(f).inSync()).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
        assertThat(WorkIndex.all(raw.get(0))).noneMatch(j -> j.kind() == Job.Kind.RESYNC);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aRangePromotionWhoseMetadataDeviceFailsItsWriteDemotesNoCopy() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 10);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        twoWholeCopies(f);

        devices.get(0).failWrites.set(true);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, RANGE.start(), RANGE.end()))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.is(Errno.EIO)).isTrue();
                    assertThat(e.getMessage()).contains("injected write error");
                });
        devices.get(0).failWrites.set(false);
        // The metadata device's write failed, not a read of a whole copy: neither is blamed.
        assertThat(state(f).inSync()).hasSize(2).allMatch(c -> c.state() == CopyState.IN_SYNC);
        assertThat(WorkIndex.all(raw.get(0))).noneMatch(j -> j.kind() == Job.Kind.RESYNC);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aRangePromotionWhoseCopyOfTheRangeFailsItsReadMarksThatCopyBadAndTheNextIsServedByTheWholeCopy()
            throws Exception {
        mount(2);
        byte[] body = PoolFixtures.random(512 * 1024, 11);
        Fid f = splitWithWholeCopy(body);
        Copy range = ranges(f).get(0);
        assertThat(range.device()).isEqualTo(2);

        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, RANGE.start(), RANGE.end()))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.is(Errno.EIO)).isTrue();
                    assertThat(e.getMessage()).contains(pool.device(2).name());
                });
        devices.get(2).failReads.set(false);
        PoolObject p = state(f);
        assertThat(p.byKey(range.key()))
                .as("the copy of the range that failed its read: %s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(p.copies()).filteredOn(c -> c.device() == 1).singleElement().satisfies(c -> {
            assertThat(c.whole()).isTrue();
            assertThat(c.state()).isEqualTo(CopyState.IN_SYNC);
        });
        assertThat(WorkIndex.all(raw.get(0)))
                .filteredOn(j -> j.kind() == Job.Kind.RESYNC)
                .singleElement()
                .satisfies(j -> assertThat(j.key()).isEqualTo(range.key()));

        MoveResult r = pool.migrator().promoteRange(f, RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.detail()).contains("(from " + pool.device(1).name() + ")");
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }
}
