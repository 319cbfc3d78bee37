package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.Span;
import dev.spillway.pool.meta.WorkIndex;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Recalls that a write (or {@code Migrator.recallRanges}) makes of a body not resident whole, under
 * read errors of the copies they read (issue 20): a copy whose read fails is passed over for the
 * next copy holding those bytes — a whole copy, another copy of the range — and marked bad (STALE
 * with a RESYNC job, never the last in-sync copy holding its bytes) once the object's lock is
 * released; with no copy able to serve, the write fails with EIO naming the object, the devices and
 * what to do; an error of the metadata device's write blames no copy. Mem devices under {@link
 * Flaky}; a deep fsck after each test.
 */
class RecallRepairTest {
    private static final int K64 = 64 * 1024;
    private static final Span RANGE = new Span(2 * K64, 5 * K64);

    private List<MemOsd> raw;
    private final List<Flaky> devices = new ArrayList<>();
    private PoolOsd pool;

    private void mount(int replicas) throws OsdException {
        PoolConfig cfg = PoolFixtures.memMem("rc", 0, replicas, 3);
        raw = PoolFixtures.memDevices(cfg);
        for (MemOsd m : raw) {
            devices.add(new Flaky(m));
        }
        pool = PoolFixtures.mountOn(cfg, devices, PoolOsd.MountMode.RECOVER);
    }

    @AfterEach
    void fsckClean() throws OsdException {
        devices.forEach(d -> {
            d.failReads.set(false);
            d.failWrites.set(false);
        });
        pool.migrator().collectGarbage();
        PoolFixtures.assertFsckClean(pool);
    }

    private PoolObject state(Fid f) throws OsdException {
        return pool.object(f).orElseThrow();
    }

    private List<Job> resyncs() throws OsdException {
        return WorkIndex.all(raw.get(0)).stream()
                .filter(j -> j.kind() == Job.Kind.RESYNC)
                .toList();
    }

    /** Writes {@code bytes} at {@code off} of {@code f} in one pool transaction. */
    private void write(Fid f, long off, byte[] bytes) throws OsdException {
        try (Transaction tx = pool.newTransaction()) {
            tx.declareWrite(f, off, bytes.length);
            tx.start();
            tx.write(f, off, ByteBuffer.wrap(bytes));
        }
    }

    private static byte[] patched(byte[] body, long off, byte[] bytes) {
        byte[] out = body.clone();
        System.arraycopy(bytes, 0, out, (int) off, bytes.length);
        return out;
    }

    /** Two whole copies of {@code f}'s body (slow0, slow1), its body released on the fast device. */
    private void twoWholeCopies(Fid f) throws OsdException {
        MoveResult s = pool.migrator().spill(f, pool.device(1));
        assertThat(s).as(s.detail()).isInstanceOf(MoveResult.Done.class);
        MoveResult c = pool.migrator().copy(f, pool.device(2), false);
        assertThat(c).as(c.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).inSync()).hasSize(2);
    }

    /**
     * A body spilled whole to two whole copies, then {@link #RANGE} promoted by range: split, the
     * range resident, the rest held only by the whole copies (a write recalls the body whole).
     */
    private Fid promotedByRange(int id, byte[] body) throws OsdException {
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, id, 0), body);
        twoWholeCopies(f);
        MoveResult r = pool.migrator().promoteRange(f, RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).split(0)).isTrue();
        assertThat(state(f).ranges(0)).isEmpty();
        return f;
    }

    /**
     * An object of 512 KiB with a whole copy on slow0 (device 1) and {@link #RANGE} spilled to a
     * copy of it on slow1 (device 2), under {@code replicas: 1}: split, the range held by its copy
     * and the whole copy.
     */
    private Fid splitWithWholeCopy(byte[] body) throws OsdException {
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        MoveResult r = pool.migrator().spillRange(f, pool.device(2), RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        MoveResult c = pool.migrator().copy(f, pool.device(1), false);
        assertThat(c).as(c.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).ranges(0)).singleElement().extracting(Copy::device).isEqualTo(2);
        return f;
    }

    /** The copies in the order a recall tries them: copies of ranges, then the preferred, then by device. */
    private static Copy firstTried(List<Copy> copies) {
        return copies.stream()
                .sorted(Comparator.comparing(Copy::whole)
                        .thenComparing(c -> !c.preferred())
                        .thenComparingInt(Copy::device))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void aWriteToABodyPromotedByRangeIsServedByTheNextWholeCopyWhenEitherFailsItsRead() throws Exception {
        mount(1);
        // Each whole copy in turn fails its reads (one object each): the other serves the recall.
        for (int dev = 1; dev <= 2; dev++) {
            byte[] body = PoolFixtures.random(512 * 1024, 20 + dev);
            Fid f = promotedByRange(dev, body);
            byte[] bytes = PoolFixtures.random(4096, 30 + dev);

            devices.get(dev).failReads.set(true);
            write(f, 0, bytes);
            devices.get(dev).failReads.set(false);

            assertThat(state(f).resident(0)).isTrue();
            assertThat(PoolFixtures.read(pool, f)).isEqualTo(patched(body, 0, bytes));
        }
    }

    @Test
    void aWriteWhoseWholeCopiesAllFailTheirReadsFailsWithEioNamingThemAndMarksAllButTheLastBad() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 2);
        Fid f = promotedByRange(1, body);
        Copy first = firstTried(state(f).inSync());
        Copy second = state(f).inSync().stream()
                .filter(c -> c.mirrorId() != first.mirrorId())
                .findFirst()
                .orElseThrow();

        devices.get(1).failReads.set(true);
        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> write(f, 0, new byte[4096])).isInstanceOfSatisfying(OsdException.class, e -> {
            assertThat(e.is(Errno.EIO)).isTrue();
            assertThat(e.getMessage())
                    .contains(f.toString())
                    .contains("slow0 (EIO)")
                    .contains("slow1 (EIO)")
                    .contains("spillway device set-state")
                    .contains("spillway fsck --deep");
        });
        devices.get(1).failReads.set(false);
        devices.get(2).failReads.set(false);

        PoolObject p = state(f);
        assertThat(p.byKey(first.key()))
                .as("the whole copy read first: %s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(p.byKey(second.key()))
                .as("the last in-sync whole copy is never demoted: %s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.IN_SYNC));
        assertThat(resyncs()).singleElement().satisfies(j -> assertThat(j.key()).isEqualTo(first.key()));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);

        MoveResult r = pool.migrator().resync(f, first.device());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        byte[] bytes = PoolFixtures.random(4096, 3);
        write(f, 0, bytes);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(patched(body, 0, bytes));
    }

    @Test
    void aWriteToABodySpilledWholeWhoseCopiesAllFailMarksTheFirstBadNeverTheLast() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 4);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        twoWholeCopies(f);
        Copy first = firstTried(state(f).inSync());

        devices.get(1).failReads.set(true);
        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> write(f, 0, new byte[4096])).isInstanceOfSatisfying(OsdException.class, e -> {
            assertThat(e.is(Errno.EIO)).isTrue();
            assertThat(e.getMessage()).contains("slow0 (EIO)").contains("slow1 (EIO)");
        });
        devices.get(1).failReads.set(false);
        devices.get(2).failReads.set(false);

        PoolObject p = state(f);
        assertThat(p.byKey(first.key()))
                .as("%s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(p.inSync()).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
        assertThat(resyncs()).singleElement().satisfies(j -> assertThat(j.key()).isEqualTo(first.key()));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aWriteWhoseCopyOfTheRangeFailsItsReadIsServedByTheWholeCopyAndAMetadataWriteErrorBlamesNoCopy()
            throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 5);
        Fid f = splitWithWholeCopy(body);
        long off = RANGE.start() + 4096;
        byte[] bytes = PoolFixtures.random(4096, 6);

        // The metadata device fails the recall's write: no copy is blamed.
        devices.get(0).failWrites.set(true);
        assertThatThrownBy(() -> write(f, off, bytes)).isInstanceOfSatisfying(OsdException.class, e -> {
            assertThat(e.is(Errno.EIO)).isTrue();
            assertThat(e.getMessage()).contains("injected write error");
        });
        devices.get(0).failWrites.set(false);
        assertThat(state(f).copies())
                .filteredOn(c -> c.device() != 0)
                .hasSize(2)
                .allMatch(c -> c.state() == CopyState.IN_SYNC);
        assertThat(resyncs()).isEmpty();

        // The copy of the range fails its read: the whole copy serves the range's bytes.
        devices.get(2).failReads.set(true);
        write(f, off, bytes);
        devices.get(2).failReads.set(false);
        assertThat(devices.get(2).failedReads.get()).isPositive();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(patched(body, off, bytes));
        // The range is home (its copy collected with the change); the whole copy went with it.
        assertThat(state(f).resident(0)).isTrue();
    }

    @Test
    void aWriteToARangeNoOtherCopyHoldsFailsWithEioNamingItsDeviceAndWhatToDoAndKeepsTheCopy() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 7);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        MoveResult r = pool.migrator().spillRange(f, pool.device(2), RANGE.start(), RANGE.end());
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);

        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> write(f, RANGE.start() + 4096, new byte[4096]))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.is(Errno.EIO)).isTrue();
                    assertThat(e.getMessage())
                            .contains(f.toString())
                            .contains("slow1 (EIO)")
                            .contains("[" + RANGE.start() + ", " + RANGE.end() + ")")
                            .contains("spillway fsck --deep");
                });
        devices.get(2).failReads.set(false);
        // The last copy holding the range is never demoted.
        assertThat(state(f).ranges(0)).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
        assertThat(resyncs()).isEmpty();
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }

    @Test
    void aWriteWhoseCopyOfTheRangeAndWholeCopyBothFailMarksTheCopyOfTheRangeBadNotTheWholeCopy() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 8);
        Fid f = splitWithWholeCopy(body);
        Copy range = state(f).ranges(0).get(0);

        devices.get(1).failReads.set(true);
        devices.get(2).failReads.set(true);
        assertThatThrownBy(() -> write(f, RANGE.start() + 4096, new byte[4096]))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.is(Errno.EIO)).isTrue();
                    assertThat(e.getMessage()).contains("slow1 (EIO)").contains("slow0 (EIO)");
                });
        devices.get(1).failReads.set(false);
        devices.get(2).failReads.set(false);

        PoolObject p = state(f);
        assertThat(p.byKey(range.key()))
                .as("the copy of the range (the whole copy holds its bytes): %s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(p.inSync())
                .as("the only whole copy is never demoted")
                .singleElement()
                .extracting(Copy::device)
                .isEqualTo(1);
        assertThat(resyncs()).singleElement().satisfies(j -> assertThat(j.key()).isEqualTo(range.key()));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        MoveResult r = pool.migrator().resync(f, 2);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(state(f).ranges(0)).singleElement().extracting(Copy::state).isEqualTo(CopyState.IN_SYNC);
    }

    @Test
    void recallRangesOfABodyPromotedByRangeIsServedByTheNextWholeCopyAndMarksTheFailedOneBad() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 9);
        Fid f = promotedByRange(1, body);
        Copy first = firstTried(state(f).inSync());

        devices.get(first.device()).failReads.set(true);
        MoveResult r = pool.migrator().recallRanges(f);
        devices.get(first.device()).failReads.set(false);
        assertThat(r).as(r.detail()).isInstanceOf(MoveResult.Done.class);
        assertThat(r.bytes()).isEqualTo(body.length - (RANGE.end() - RANGE.start()));

        PoolObject p = state(f);
        assertThat(p.resident(0)).isTrue();
        assertThat(p.byKey(first.key()))
                .as("%s", p)
                .hasValueSatisfying(c -> assertThat(c.state()).isEqualTo(CopyState.STALE));
        assertThat(resyncs()).singleElement().satisfies(j -> assertThat(j.key()).isEqualTo(first.key()));
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
        MoveResult s = pool.migrator().resync(f, first.device());
        assertThat(s).as(s.detail()).isInstanceOf(MoveResult.Done.class);
    }

    @Test
    void aRangePromotionWhoseSecondCopyOfARangeFailsCommitsNothingOfTheFirst() throws Exception {
        mount(1);
        byte[] body = PoolFixtures.random(512 * 1024, 10);
        Fid f = PoolFixtures.create(pool, new Fid(0x200000400L, 1, 0), body);
        MoveResult a = pool.migrator().spillRange(f, pool.device(1), 2 * K64, 3 * K64);
        assertThat(a).as(a.detail()).isInstanceOf(MoveResult.Done.class);
        MoveResult b = pool.migrator().spillRange(f, pool.device(2), 3 * K64, 4 * K64);
        assertThat(b).as(b.detail()).isInstanceOf(MoveResult.Done.class);
        List<Copy> ranges = state(f).ranges(0);
        assertThat(ranges).hasSize(2);

        // The promotion reads the first copy of a range into its transaction, then the second fails.
        devices.get(ranges.get(1).device()).failReads.set(true);
        assertThatThrownBy(() -> pool.migrator().promoteRange(f, 2 * K64, 4 * K64))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.is(Errno.EIO)).isTrue());
        devices.get(ranges.get(1).device()).failReads.set(false);

        // Nothing of it was committed: no GC job names the first copy, which still holds its range.
        assertThat(WorkIndex.all(raw.get(0)))
                .noneMatch(j ->
                        j.kind() == Job.Kind.GC && j.key().equals(ranges.get(0).key()));
        pool.migrator().collectGarbage();
        assertThat(state(f).ranges(0)).hasSize(2).allMatch(c -> c.state() == CopyState.IN_SYNC);
        assertThat(PoolFixtures.read(pool, f)).isEqualTo(body);
    }
}
