package dev.spillway.pool.meta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pool record and the work index with striped copies (issue 20): a record with a striped copy
 * is version 2 and round-trips; a record without one is still written as version 1; version 1 bytes
 * written by hand from the format decode; a stripe's job is format 2 and names its copy.
 */
class StripedRecordTest {
    static final Fid FILE = new Fid(0x200000400L, 5, 0);
    static final Fid K0 = new Fid(PoolFids.COPY_SEQ_BASE, 0x10, 0);
    static final Fid K1 = new Fid(PoolFids.COPY_SEQ_BASE, 0x11, 0);
    static final Fid K2 = new Fid(PoolFids.COPY_SEQ_BASE, 0x12, 0);

    static PoolObject withStripes() {
        Copy local = new Copy(1, 0, FILE, CopyState.IN_SYNC, 3, 5_000_000, true, Checksums.NONE);
        Copy striped = Copy.striped(
                2,
                CopyState.IN_SYNC,
                3,
                false,
                1 << 20,
                List.of(
                        new Stripe(1, K0, 2_097_152, new Checksums(20, new int[] {7, 8})),
                        new Stripe(2, K1, 1_802_848, new Checksums(20, new int[] {9, -1})),
                        new Stripe(3, K2, 1_100_000, new Checksums(21, new int[] {42}))));
        return new PoolObject(5_000_000, 3, 9, 9800, List.of(local, striped));
    }

    @Test
    void aRecordWithAStripedCopyIsVersionTwoAndRoundTrips() throws Exception {
        PoolObject o = withStripes();
        byte[] b = PoolObjectCodec.encode(o);
        assertThat(b[0]).isEqualTo((byte) 2);
        PoolObject back = PoolObjectCodec.decode("fast", FILE, b);
        assertThat(back).isEqualTo(o);
        Copy c = back.mirror(2).orElseThrow();
        assertThat(c.striped()).isTrue();
        assertThat(c.device()).isEqualTo(1);
        assertThat(c.key()).isEqualTo(K0);
        assertThat(c.bytes()).isEqualTo(5_000_000);
        assertThat(c.parts()).extracting(Stripe::device).containsExactly(1, 2, 3);
        assertThat(back.on(3)).contains(c);
        assertThat(back.byKey(K2)).contains(c);
        assertThat(PoolObjectCodec.encode(back)).isEqualTo(b);
    }

    @Test
    void aRecordWithoutStripesIsStillWrittenAsVersionOne() throws Exception {
        PoolObject o = new PoolObject(
                10, 2, 4, 8, List.of(new Copy(1, 1, K0, CopyState.IN_SYNC, 2, 4096, true, new Checksums(20, new int[] {5
                }))));
        byte[] b = PoolObjectCodec.encode(o);
        assertThat(b[0]).isEqualTo((byte) 1);
        assertThat(PoolObjectCodec.decode("fast", FILE, b)).isEqualTo(o);
    }

    @Test
    void versionOneBytesWrittenByHandStillDecode() throws Exception {
        // version u8, size, data version, layout gen u32, blocks, copy count u16; per copy: mirror id
        // u16, device u16, key FID, state u8, version, bytes, preferred u8, chunk shift u8, CRC count
        // u32, CRCs — little-endian, as every pool before issue 20 wrote it.
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 4 + 8 + 2 + (2 + 2 + 16 + 1 + 8 + 8 + 1 + 1 + 4 + 4))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 1).putLong(1234).putLong(6).putInt(3).putLong(8).putShort((short) 1);
        b.putShort((short) 2).putShort((short) 1).put(K0.toBytes());
        b.put((byte) 1)
                .putLong(6)
                .putLong(4096)
                .put((byte) 1)
                .put((byte) 20)
                .putInt(1)
                .putInt(0xCAFE);
        PoolObject o = PoolObjectCodec.decode("fast", FILE, b.array());
        assertThat(o.size()).isEqualTo(1234);
        Copy c = o.copies().get(0);
        assertThat(c.striped()).isFalse();
        assertThat(c.parts()).containsExactly(new Stripe(1, K0, 4096, new Checksums(20, new int[] {0xCAFE})));
    }

    /** The encoded {@link #withStripes()} with the int at {@code at} bytes past copy 2's stripe size set. */
    private static byte[] mutate(int at, int value, boolean asShort) {
        byte[] b = PoolObjectCodec.encode(withStripes());
        // Header; copy 1 (no CRCs, then its 6-byte striping of a whole copy); copy 2's fixed fields.
        int copy2 = 1 + 8 + 8 + 4 + 8 + 2 + (2 + 2 + 16 + 1 + 8 + 8 + 1 + 1 + 4) + 6;
        int unit = copy2 + 2 + 2 + 16 + 1 + 8 + 8 + 1 + 1 + 4 + 4 * 0;
        ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (asShort) {
            w.putShort(unit + at, (short) value);
        } else {
            w.putInt(unit + at, value);
        }
        return b;
    }

    @Test
    void aDamagedStripingIsRefusedNamingTheCopy() {
        assertThatThrownBy(() -> PoolObjectCodec.decode("fast", FILE, mutate(0, 3 << 20, false)))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EPROTO))
                .hasMessageContaining("fast")
                .hasMessageContaining("copy 2")
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> PoolObjectCodec.decode("fast", FILE, mutate(4, 1, true)))
                .hasMessageContaining("copy 2 has 1 stripes");
        byte[] whole = PoolObjectCodec.encode(withStripes());
        assertThatThrownBy(() -> PoolObjectCodec.decode("fast", FILE, Arrays.copyOf(whole, whole.length - 3)))
                .hasMessageContaining("truncated");
    }

    @Test
    void stripeLengthsAddUpToTheBodyForEverySize() {
        int unit = 1 << 20;
        for (int count : new int[] {2, 3, 4, 7}) {
            for (long size : new long[] {0, 1, 65535, unit, unit + 1, 5_000_000, 64L << 20, (64L << 20) - 1}) {
                long sum = 0;
                for (int i = 0; i < count; i++) {
                    sum += Stripe.length(size, count, unit, i);
                }
                assertThat(sum).as("%d bytes over %d stripes", size, count).isEqualTo(size);
                for (long off = 0; off < size; off += 333_333) {
                    long[] at = Stripe.locate(off, count, unit);
                    assertThat(at[1]).isLessThan(Stripe.length(size, count, unit, (int) at[0]));
                }
            }
        }
        assertThat(Stripe.length(1000, 4, unit, 0))
                .as("a body under one stripe is all stripe 0's")
                .isEqualTo(1000);
        assertThat(Stripe.length(1000, 4, unit, 3)).isZero();
        assertThat(Stripe.locate(5L * unit + 7, 4, unit)).containsExactly(1, unit + 7);
    }

    @Test
    void aStripesJobIsFormatTwoAndNamesItsCopy() throws Exception {
        Copy c = withStripes().mirror(2).orElseThrow();
        List<Job> jobs = Job.perPart(Job.Kind.COPY, FILE, c, 3, 77);
        assertThat(jobs).extracting(Job::device).containsExactly(1, 2, 3);
        assertThat(jobs).extracting(Job::key).containsExactly(K0, K1, K2);
        assertThat(jobs).allMatch(j -> j.copy().equals(K0));
        for (Job j : jobs) {
            byte[] v = j.valueBytes();
            assertThat(v).hasSize(Job.STRIPE_VALUE_BYTES).startsWith(Job.STRIPE_VERSION);
            assertThat(Job.decode("fast", j.keyBytes(), v)).isEqualTo(j);
        }
        // A whole copy's job keeps format 1, as before striping.
        Job whole = Job.perPart(Job.Kind.GC, FILE, withStripes().mirror(1).orElseThrow(), 3, 77)
                .get(0);
        assertThat(whole.copy()).isEqualTo(Job.NO_KEY);
        assertThat(whole.valueBytes()).hasSize(Job.VALUE_BYTES).startsWith(Job.VERSION);
    }
}
