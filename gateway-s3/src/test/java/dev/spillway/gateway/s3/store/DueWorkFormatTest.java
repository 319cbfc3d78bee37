package dev.spillway.gateway.s3.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.GatewayConfig;
import dev.spillway.gateway.s3.store.Records.BucketMeta;
import dev.spillway.gateway.s3.store.Records.BucketRecord;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.mem.MemOsd;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The due-work index's entry format: each kind's byte is fixed (not the enum's position), and an
 * entry this build cannot read — a damaged key, or a kind a newer build wrote — is skipped and
 * left in place instead of stopping the bucket's lifecycle work (before, {@code Kind.values()[b]}
 * threw for such a byte on every pass, so no later entry of the bucket ever ran).
 */
class DueWorkFormatTest {
    private static final Fid VERSION = Fid.of(0x200000401L, 7);

    @Test
    void everyKindKeepsItsByte() {
        // The bytes already on disk: each constant's position when the format was written.
        DueWork.Kind[] kinds = DueWork.Kind.values();
        for (int i = 0; i < kinds.length; i++) {
            assertThat(kinds[i].code).as("%s", kinds[i]).isEqualTo(i);
            assertThat(DueWork.Kind.fromCode(i)).isEqualTo(kinds[i]);
        }
        assertThat(DueWork.Kind.fromCode(kinds.length)).isNull();
        assertThat(DueWork.Kind.fromCode(255)).isNull();
    }

    @Test
    void anEntryRoundTrips() {
        DueWork.Entry e = new DueWork.Entry(
                1234, DueWork.Kind.ABORT_UPLOAD, VERSION, "k".getBytes(StandardCharsets.UTF_8), "r1", "GLACIER");
        DueWork.Entry back = DueWork.Entry.decode(e.indexKey(), e.value());
        assertThat(back.dueMillis()).isEqualTo(1234);
        assertThat(back.kind()).isEqualTo(DueWork.Kind.ABORT_UPLOAD);
        assertThat(back.version()).isEqualTo(VERSION);
        assertThat(back.key()).containsExactly("k".getBytes(StandardCharsets.UTF_8));
        assertThat(back.ruleId()).isEqualTo("r1");
        assertThat(back.storageClass()).isEqualTo("GLACIER");
    }

    @Test
    void anUnreadableEntryIsSkippedAndTheOnesAfterItStillComeDue() throws Exception {
        MemOsd osd = MemOsd.create("mem0");
        Namespace ns = Namespace.mount(
                osd,
                GatewayConfig.DEFAULT_FID_SEQUENCE,
                16,
                InstantSource.fixed(Instant.parse("2026-12-04T12:00:00Z")));
        Fid due = Fid.of(0x200000402L, 1);
        BucketRecord bucket = new BucketRecord(null, null, 0, BucketMeta.NONE.withDue(due));
        DueWork.Entry later =
                new DueWork.Entry(20, DueWork.Kind.EXPIRE, VERSION, "b".getBytes(StandardCharsets.UTF_8), "r", null);
        DueWork.Entry valid = new DueWork.Entry(
                30, DueWork.Kind.TRANSITION, VERSION, "c".getBytes(StandardCharsets.UTF_8), "r", "COLD");
        // Due first: a kind byte no build knows (200), and a key too short to hold a FID.
        byte[] unknown = ByteBuffer.allocate(8 + 1 + Fid.BYTES + 1)
                .putLong(10)
                .put((byte) 200)
                .put(VERSION.toBytes())
                .put((byte) 'a')
                .array();
        byte[] truncated = ByteBuffer.allocate(9).putLong(11).put((byte) 0).array();
        Tx.run(
                osd,
                tx -> {
                    tx.declareCreate(due, ObjectKind.INDEX);
                    for (int i = 0; i < 4; i++) {
                        tx.declareInsert(due, DueWork.MAX_KEY, DueWork.MAX_VALUE);
                    }
                },
                tx -> {
                    tx.create(due, ObjectKind.INDEX, AttrChange.none());
                    tx.insert(due, unknown, later.value());
                    tx.insert(due, truncated, later.value());
                    tx.insert(due, later.indexKey(), later.value());
                    tx.insert(due, valid.indexKey(), valid.value());
                    return null;
                });

        List<DueWork.Entry> now = ns.dueWork().due(bucket, 100, 10);

        assertThat(now).extracting(DueWork.Entry::kind).containsExactly(DueWork.Kind.EXPIRE, DueWork.Kind.TRANSITION);
        assertThat(ns.dueWork().next(bucket).dueMillis()).isEqualTo(20);
        // Left where they were: a newer build may still read them.
        assertThat(osd.lookup(due, unknown)).isPresent();
        assertThat(osd.lookup(due, truncated)).isPresent();
    }
}
