package dev.spillway.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.mem.MemOsd;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.config.PoolConfigParser;
import dev.spillway.pool.meta.Checksums;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.CopyState;
import dev.spillway.pool.meta.Job;
import dev.spillway.pool.meta.PoolFids;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.meta.PoolObjectCodec;
import dev.spillway.pool.ops.MoveResult;
import java.nio.ByteBuffer;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pool's index records carry a version byte since issue 14 (work-index values, counter
 * values) and name kinds and states by explicit codes instead of enum ordinals. A pool written
 * before — records of format 0, without the byte — must still mount, count and check clean, and
 * its records are upgraded as they are rewritten. The format-0 bytes here are built by hand,
 * exactly as the code before issue 14 wrote them.
 */
class PoolFormatCompatTest {
    private static final String YAML = """
            name: compat
            devices:
              - {name: fast, backend: mem, roles: [metadata, foreground, promote]}
              - {name: slow, backend: mem, roles: [background]}
            """;

    @Test
    void codesAreThoseOfTheOrdinalsTheyReplace() {
        // On disk since the first pool: changing one of these orphans every existing record.
        assertThat(Arrays.stream(CopyState.values()).map(s -> s.name() + "=" + s.code()))
                .containsExactly("PENDING=0", "IN_SYNC=1", "STALE=2", "GARBAGE=3", "LOST=4");
        assertThat(Arrays.stream(Job.Kind.values()).map(k -> k.name() + "=" + k.code()))
                .containsExactly(
                        "COPY=0",
                        "GC=1",
                        "RESYNC=2",
                        "PARKED=3",
                        "SYNC_COPY=4",
                        "WRITE_AROUND=5"); // SYNC_COPY: issue 19; WRITE_AROUND: issue 12
        assertThat(Job.Kind.ofCode(6)).isNull();
        assertThat(CopyState.ofCode(5)).isNull();
        assertThat(Job.Kind.ofCode(-1)).isNull();
    }

    @Test
    void aPoolRecordWithALostCopyRoundTripsAndAnUnknownStateIsRefused() throws OsdException {
        Fid f = new Fid(0x200000400L, 8, 0);
        Fid key = new Fid(PoolFids.COPY_SEQ_BASE, 3, 0);
        // Written before LOST existed (codes 0-3 only): decodes as it was.
        PoolObject old = new PoolObject(
                10,
                2,
                3,
                0,
                List.of(
                        new Copy(1, 0, f, CopyState.IN_SYNC, 2, 10, true, Checksums.NONE),
                        new Copy(2, 1, key, CopyState.STALE, 1, 4096, false, new Checksums(20, new int[] {7}))));
        assertThat(PoolObjectCodec.decode("fast", f, PoolObjectCodec.encode(old)))
                .isEqualTo(old);
        PoolObject lost = old.replace(2, c -> c.withState(CopyState.LOST));
        byte[] b = PoolObjectCodec.encode(lost);
        assertThat(PoolObjectCodec.decode("fast", f, b)).isEqualTo(lost);
        // The second copy's state byte: version 1, size 8, data version 8, gen 4, blocks 8, count 2,
        // first copy 2+2+16+1+8+8+1+1+4 = 43, then mirror 2, device 2, key 16.
        int state = 1 + 8 + 8 + 4 + 8 + 2 + 43 + 2 + 2 + 16;
        assertThat(b[state]).isEqualTo((byte) 4);
        b[state] = 5;
        assertThatThrownBy(() -> PoolObjectCodec.decode("fast", f, b))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPROTO))
                .hasMessageContaining("copy state 5 unknown");
    }

    @Test
    void aJobOfFormatZeroDecodesAndOneOfAnUnknownKindOrSizeIsAnError() throws OsdException {
        Fid f = new Fid(0x200000400L, 7, 0);
        Job j = new Job(Job.Kind.RESYNC, f, 1, new Fid(PoolFids.COPY_SEQ_BASE, 9, 0), 5, 4096, 123, 0);
        assertThat(Job.decode("fast", j.keyBytes(), j.valueBytes())).isEqualTo(j);
        assertThat(j.valueBytes()).hasSize(Job.VALUE_BYTES).startsWith(Job.VERSION);
        assertThat(Job.decode("fast", j.keyBytes(), formatZero(j))).isEqualTo(j);

        byte[] badKind = j.keyBytes();
        badKind[0] = 9;
        assertThatThrownBy(() -> Job.decode("fast", badKind, j.valueBytes()))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPROTO))
                .hasMessageContaining("fast")
                .hasMessageContaining("kind code 9");
        byte[] badVersion = j.valueBytes();
        badVersion[0] = 2;
        assertThatThrownBy(() -> Job.decode("fast", j.keyBytes(), badVersion)).hasMessageContaining("of format 2");
        assertThatThrownBy(() -> Job.decode("fast", j.keyBytes(), new byte[5])).hasMessageContaining("5-byte value");
    }

    @Test
    void aPoolWrittenInFormatZeroMountsCountsChecksCleanAndIsUpgradedAsItChanges() throws Exception {
        PoolConfig cfg = PoolConfigParser.parse(YAML, "compat");
        List<Osd> raw = new ArrayList<>();
        for (var d : cfg.devices()) {
            raw.add(new MemOsd(new OsdConfig(d.name(), d.backend(), d.settings(), InstantSource.system())));
        }
        PoolOsd pool =
                PoolOsd.mount(cfg, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, c) -> raw.get(d.index()));
        Fid a = new Fid(0x200000400L, 1, 0);
        Fid b = new Fid(0x200000400L, 2, 0);
        for (Fid f : List.of(a, b)) {
            try (Transaction tx = pool.newTransaction()) {
                tx.declareCreate(f, ObjectKind.DATA);
                tx.declareWrite(f, 0, 10_000);
                tx.start();
                tx.create(f, ObjectKind.DATA, AttrChange.none());
                tx.write(f, 0, ByteBuffer.wrap(new byte[10_000]));
            }
        }
        assertThat(pool.migrator().spill(a, pool.device("slow").orElseThrow())).isInstanceOf(MoveResult.Done.class);
        var totals = pool.copyTotals().get(1).get(CopyState.IN_SYNC).clone();
        assertThat(totals[1]).isEqualTo(1);

        // Rewrite every counter in format 0 and add a parked job in format 0, as the code before
        // issue 14 left them.
        Osd md = raw.get(0);
        Job parked = new Job(Job.Kind.PARKED, b, 1, Job.NO_KEY, 1, 10_000, 42, 0);
        int rewritten = 0;
        try (Transaction tx = md.newTransaction()) {
            tx.declareInsert(PoolFids.workFor(b), Job.KEY_BYTES, Job.VALUE_BYTES);
            for (int s = 0; s < PoolFids.STRIPES; s++) {
                tx.declareInsert(PoolFids.counters(s), 3, 17);
            }
            tx.start();
            tx.upsert(PoolFids.workFor(b), parked.keyBytes(), formatZero(parked));
            for (int s = 0; s < PoolFids.STRIPES; s++) {
                for (byte[][] kv : entries(md, PoolFids.counters(s))) {
                    assertThat(kv[1]).hasSize(17).startsWith(1);
                    tx.upsert(PoolFids.counters(s), kv[0], Arrays.copyOfRange(kv[1], 1, 17));
                    rewritten++;
                }
            }
        }
        assertThat(rewritten).isPositive();

        // The next mount reads them as they are.
        pool = PoolOsd.mount(cfg, InstantSource.system(), PoolOsd.MountMode.RECOVER, (d, c) -> raw.get(d.index()));
        assertThat(pool.copyTotals().get(1).get(CopyState.IN_SYNC)).containsExactly(totals);
        assertThat(pool.jobs()).contains(parked);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();

        // A change rewrites what it touches in format 1; fsck (counters against layouts) stays clean.
        pool.migrator().dropParked(parked);
        try (Transaction tx = pool.newTransaction()) {
            tx.declareDestroy(a);
            tx.start();
            tx.destroy(a);
        }
        // The counter of a's stripe for (slow, IN_SYNC) was format 0; the destroy rewrote it.
        byte[] inSyncOnSlow = {0, 1, (byte) CopyState.IN_SYNC.code()};
        byte[] upgraded = md.lookup(PoolFids.countersFor(a), inSyncOnSlow).orElseThrow();
        assertThat(upgraded).hasSize(17).startsWith(1);
        assertThat(pool.fsck(false, true, null).problems()).isEmpty();
        pool.close();
    }

    /** A job's value as the code before issue 14 wrote it: the fields without the version byte. */
    private static byte[] formatZero(Job j) {
        byte[] v = j.valueBytes();
        return Arrays.copyOfRange(v, 1, v.length);
    }

    private static List<byte[][]> entries(Osd md, Fid index) throws OsdException {
        List<byte[][]> out = new ArrayList<>();
        try (IndexCursor c = md.cursor(index, null)) {
            while (c.next()) {
                out.add(new byte[][] {c.key(), c.value()});
            }
        }
        return out;
    }
}
