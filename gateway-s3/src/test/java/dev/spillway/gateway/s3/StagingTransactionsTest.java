package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import dev.spillway.osd.mem.MemOsd;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * How a PUT's body reaches the OSD: one short transaction creates the object (with its PENDING
 * garbage entry), then the whole body goes in one transaction per 64 MiB segment — not one per
 * I/O chunk, each of which rewrote the pool's record and layout and flushed an extent file — and
 * every one of those says it continues the create's access, so placement counts one access per
 * PUT. Sent with the AWS SDK's defaults (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer),
 * whose trailer must still be read when the body ends exactly on a chunk or segment boundary.
 */
class StagingTransactionsTest {
    static final int MIB = 1 << 20;
    static final long SEED = Long.getLong("test.seed", System.nanoTime());

    /** What one transaction did to DATA objects. */
    static final class Seen {
        final Set<Fid> created = new LinkedHashSet<>();
        final Map<Fid, List<long[]>> writes = new LinkedHashMap<>();
        final Set<Fid> continued = new LinkedHashSet<>();
        final Set<Fid> bodyContinues = new LinkedHashSet<>();

        long bytes(Fid f) {
            return writes.getOrDefault(f, List.of()).stream()
                    .mapToLong(w -> w[1])
                    .sum();
        }
    }

    /** Records every transaction's creates, writes and continuations. */
    static final class RecordingOsd extends FilterOsd {
        final List<Seen> transactions = Collections.synchronizedList(new ArrayList<>());

        RecordingOsd() {
            super(MemOsd.create("mem0"));
        }

        @Override
        protected Transaction wrap(Transaction tx) {
            Seen s = new Seen();
            transactions.add(s);
            return new FilterTransaction(tx) {
                @Override
                public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
                    super.create(fid, kind, attrs);
                    s.created.add(fid);
                }

                @Override
                public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
                    long len = src.remaining();
                    super.write(fid, offset, src);
                    s.writes.computeIfAbsent(fid, k -> new ArrayList<>()).add(new long[] {offset, len});
                }

                @Override
                public void continuesAccess(Fid fid) {
                    super.continuesAccess(fid);
                    s.continued.add(fid);
                }

                @Override
                public void bodyContinues(Fid fid) {
                    super.bodyContinues(fid);
                    s.bodyContinues.add(fid);
                }
            };
        }

        /** The transactions that created or wrote {@code fid}, in order. */
        List<Seen> touching(Fid fid) {
            synchronized (transactions) {
                return transactions.stream()
                        .filter(t -> t.created.contains(fid) || t.writes.containsKey(fid))
                        .toList();
            }
        }
    }

    static RecordingOsd osd;
    static GatewayFixture fx;
    static S3Client sdk;
    static final List<SdkHttpRequest> sent = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() throws Exception {
        System.out.println("StagingTransactionsTest seed " + SEED + " (replay with -Dtest.seed=" + SEED + ")");
        osd = new RecordingOsd();
        fx = new GatewayFixture(osd, GatewayConfig.builder());
        sdk = fx.sdkDefaultsClient(sent);
        sdk.createBucket(b -> b.bucket("stage"));
    }

    @AfterAll
    static void stop() throws Exception {
        sdk.close();
        fx.close();
    }

    static byte[] body(int n) {
        byte[] b = new byte[n];
        new Random(SEED + n).nextBytes(b);
        return b;
    }

    /** PUTs with the SDK's defaults; returns the body's FID after checking what went on the wire. */
    Fid put(String key, byte[] data) throws Exception {
        sent.clear();
        sdk.putObject(b -> b.bucket("stage").key(key), RequestBody.fromBytes(data));
        SdkHttpRequest req = sent.get(sent.size() - 1);
        assertThat(req.firstMatchingHeader("x-amz-content-sha256")).hasValue("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
        assertThat(req.firstMatchingHeader("x-amz-trailer")).hasValue("x-amz-checksum-crc32");
        byte[] back = sdk.getObjectAsBytes(b -> b.bucket("stage").key(key).checksumMode("ENABLED"))
                .asByteArray();
        assertThat(back).isEqualTo(data);
        return fx.gateway.names().locate("stage", key);
    }

    /** The create is the access; every transaction after it continues it. */
    static void assertOneAccess(List<Seen> txs, Fid fid) {
        assertThat(txs.get(0).created).contains(fid);
        assertThat(txs.get(0).continued).doesNotContain(fid);
        for (Seen t : txs.subList(1, txs.size())) {
            assertThat(t.continued).as("a staging transaction after the create").contains(fid);
        }
    }

    @Test
    void aBodyOfSeveralChunksIsWrittenInOneTransaction() throws Exception {
        for (int size : new int[] {5 * MIB, 5 * MIB + 17, 3 * MIB - 1}) {
            byte[] data = body(size);
            Fid fid = put("several-" + size, data);
            List<Seen> txs = osd.touching(fid);
            assertThat(txs).as("create, then the body in one transaction").hasSize(2);
            assertThat(txs.get(0).writes).as("the create writes nothing").isEmpty();
            assertThat(txs.get(1).bytes(fid)).isEqualTo(size);
            assertThat(txs.get(1).writes.get(fid).get(0)[0]).isZero();
            assertThat(txs.get(1).bodyContinues).as("nothing follows").doesNotContain(fid);
            assertOneAccess(txs, fid);
        }
    }

    @Test
    void aBodyLongerThanASegmentIsOneTransactionPerSegment() throws Exception {
        int size = 64 * MIB + MIB + 5;
        byte[] data = body(size);
        Fid fid = put("long", data);
        List<Seen> txs = osd.touching(fid);
        assertThat(txs).as("create, then 64 MiB, then the rest").hasSize(3);
        assertThat(txs.get(1).bytes(fid)).isEqualTo(64L * MIB);
        assertThat(txs.get(2).bytes(fid)).isEqualTo(MIB + 5);
        assertThat(txs.get(2).writes.get(fid).get(0)[0]).isEqualTo(64L * MIB);
        // The first segment says another follows (so the pool does not write it around its fast
        // tier, where the second would recall it); the last does not.
        assertThat(txs.get(1).bodyContinues).contains(fid);
        assertThat(txs.get(2).bodyContinues).doesNotContain(fid);
        assertOneAccess(txs, fid);
        sdk.deleteObject(b -> b.bucket("stage").key("long"));
    }

    @Test
    void aBodyOfExactlyOneSegmentReadsItsTrailerToo() throws Exception {
        int size = 64 * MIB;
        byte[] data = body(size);
        Fid fid = put("exact", data);
        List<Seen> txs = osd.touching(fid);
        assertThat(txs).hasSize(2);
        assertThat(txs.get(1).bytes(fid)).isEqualTo(size);
        assertThat(txs.get(1).bodyContinues).doesNotContain(fid);
        // The stored CRC32 is the trailer's: HEAD with checksum mode returns it.
        var head = sdk.headObject(b -> b.bucket("stage").key("exact").checksumMode("ENABLED"));
        assertThat(head.checksumCRC32()).isNotNull();
        sdk.deleteObject(b -> b.bucket("stage").key("exact"));
    }
}
