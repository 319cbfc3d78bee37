package dev.spillway.pool.layout;

import static dev.spillway.pool.layout.LovFormat.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Errno;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A seeded random-mutation fuzz of the decoder: by default 120,000 inputs
 * ({@code -Dspillway.layout.fuzz.inputs=N}), each made from its own seed by mutating a valid
 * random layout (bit flips, byte overwrites, truncation, garbage appended, a size/count/offset
 * field set to an edge value, entries or blobs swapped, splices of two layouts) or from plain
 * garbage, with or without a valid magic and {@code lcm_size}. For every input the decoder must
 * either return a layout that encodes back to exactly the input (it is canonical), or throw its
 * own {@link LayoutException} (EBADMSG or EPROTO) pointing inside the input; anything else is a
 * failure that prints the seed. Each decode's allocation is measured (the thread's allocated
 * bytes) and bounded by a constant plus a small multiple of the input's length: no count read
 * from the input can make the decoder allocate more than the input justifies.
 *
 * <p>The decoder's loops are bounded by counts it has first checked against the input's length
 * (entries, stripes, string bytes), so it cannot hang; the run finishing is the evidence.
 * Replay one input with {@code -Dspillway.layout.fuzz.replay=SEED}, which also prints it in hex.
 */
class LayoutFuzzTest {

    /** Allocation allowed per decode: an exception with its stack, records, lists, strings. */
    static final long ALLOC_BASE = 32 * 1024;

    static final long ALLOC_PER_BYTE = 16;

    enum Kind {
        BIT_FLIPS,
        BYTE_OVERWRITE,
        TRUNCATE,
        APPEND,
        FIELD,
        SWAP,
        SPLICE,
        GARBAGE,
        GARBAGE_WITH_HEADER,
        STACKED,
        VALID
    }

    record Input(Kind kind, byte[] bytes) {}

    @Test
    void decoderRefusesEveryMalformedInputWithItsOwnError() throws Exception {
        warmUp();
        String replay = System.getProperty("spillway.layout.fuzz.replay");
        if (replay != null) {
            Input in = input(Long.decode(replay));
            System.out.printf(
                    "replay %s: %s, %d bytes%n%s", replay, in.kind(), in.bytes().length, HexVector.dump(in.bytes()));
            check(Long.decode(replay), in, new Stats());
            return;
        }
        int inputs = Integer.getInteger("spillway.layout.fuzz.inputs", 120_000);
        long master = RandomLayouts.masterSeed();
        System.out.printf("layout fuzz: master seed 0x%x, %d inputs%n", master, inputs);
        SplittableRandom seeds = new SplittableRandom(master);
        Stats stats = new Stats();
        for (int i = 0; i < inputs; i++) {
            long seed = seeds.nextLong();
            Input in = input(seed);
            try {
                check(seed, in, stats);
            } catch (Throwable e) {
                throw new AssertionError(
                        String.format(
                                "fuzz input %d (%s, %d bytes) failed; replay it with "
                                        + "-Dspillway.layout.fuzz.replay=0x%x (master seed 0x%x): %s",
                                i, in.kind(), in.bytes().length, seed, master, e),
                        e);
            }
        }
        System.out.printf(
                "layout fuzz: %d accepted, %s refused, %d refused past the header, "
                        + "largest allocation %d bytes (%d-byte input)%n",
                stats.accepted, stats.byErrno, stats.deep, stats.maxAlloc, stats.maxAllocLen);
        assertThat(stats.accepted
                        + stats.byErrno.values().stream()
                                .mapToInt(Integer::intValue)
                                .sum())
                .isEqualTo(inputs);
        // the mutations reach the entries and blobs, not only the header checks
        assertThat(stats.deep).isGreaterThan(inputs / 4);
        assertThat(stats.byErrno).containsKeys(Errno.EBADMSG, Errno.EPROTO);
        assertThat(stats.accepted).isPositive();
    }

    /**
     * Runs every decoder path once before allocation is measured: the first time a path runs,
     * the JVM loads and links classes on this thread, which counts as this thread's allocation.
     * These inputs are checked too, just not for allocation.
     */
    static void warmUp() throws Exception {
        Stats ignored = new Stats();
        ignored.measure = false;
        SplittableRandom seeds = new SplittableRandom(0x5eed);
        for (int i = 0; i < 5_000; i++) {
            check(0, input(seeds.nextLong()), ignored);
        }
    }

    static final class Stats {
        boolean measure = true;
        int accepted;
        int deep;
        long maxAlloc;
        int maxAllocLen;
        final Map<Errno, Integer> byErrno = new EnumMap<>(Errno.class);
    }

    static void check(long seed, Input in, Stats stats) throws Exception {
        byte[] bytes = in.bytes();
        byte[] copy = bytes.clone();
        long before = allocatedBytes();
        Layout decoded = null;
        LayoutException refused = null;
        try {
            decoded = LayoutCodec.decode(bytes);
        } catch (LayoutException e) {
            refused = e;
        }
        long allocated = allocatedBytes() - before;
        assertThat(bytes).as("the decoder never writes its input").isEqualTo(copy);
        if (allocated >= 0 && stats.measure) {
            assertThat(allocated)
                    .as("bytes allocated decoding %d bytes", bytes.length)
                    .isLessThanOrEqualTo(ALLOC_BASE + ALLOC_PER_BYTE * bytes.length);
            if (allocated > stats.maxAlloc) {
                stats.maxAlloc = allocated;
                stats.maxAllocLen = bytes.length;
            }
        }
        if (decoded != null) {
            assertThat(LayoutCodec.encode(decoded))
                    .as("an accepted input is canonical")
                    .isEqualTo(bytes);
            stats.accepted++;
        } else {
            assertThat(refused.errno()).isIn(Errno.EBADMSG, Errno.EPROTO);
            assertThat(refused.offset()).isBetween(0, bytes.length);
            assertThat(refused.problem()).isNotBlank();
            stats.byErrno.merge(refused.errno(), 1, Integer::sum);
            if (refused.offset() >= LOV_COMP_MD_V1_SIZE) {
                stats.deep++;
            }
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The current thread's allocated bytes, or a negative number where the JVM cannot say. */
    static long allocatedBytes() {
        if (THREADS instanceof com.sun.management.ThreadMXBean sun && sun.isThreadAllocatedMemorySupported()) {
            return sun.getCurrentThreadAllocatedBytes();
        }
        return Long.MIN_VALUE / 2;
    }

    // ---------------------------------------------------------------------------------------
    // input generation: everything below depends only on the seed
    // ---------------------------------------------------------------------------------------

    static Input input(long seed) {
        Random r = new Random(seed);
        Kind kind = Kind.values()[r.nextInt(Kind.values().length)];
        byte[] valid = LayoutCodec.encode(RandomLayouts.layout(r));
        byte[] out = switch (kind) {
            case BIT_FLIPS -> bitFlips(r, valid);
            case BYTE_OVERWRITE -> overwrite(r, valid);
            case TRUNCATE -> Arrays.copyOf(valid, r.nextInt(valid.length));
            case APPEND -> append(r, valid);
            case FIELD -> field(r, valid);
            case SWAP -> swap(r, valid);
            case SPLICE -> splice(r, valid, LayoutCodec.encode(RandomLayouts.layout(r)));
            case GARBAGE -> garbage(r, r.nextInt(600));
            case GARBAGE_WITH_HEADER -> garbageWithHeader(r);
            case STACKED -> stacked(r, valid);
            case VALID -> valid;
        };
        return new Input(kind, out);
    }

    static byte[] bitFlips(Random r, byte[] b) {
        byte[] out = b.clone();
        for (int n = 1 + r.nextInt(8); n > 0; n--) {
            int i = r.nextInt(out.length);
            out[i] ^= (byte) (1 << r.nextInt(8));
        }
        return out;
    }

    static final int[] INTERESTING_BYTES = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x0b, 0xd0};

    static byte[] overwrite(Random r, byte[] b) {
        byte[] out = b.clone();
        for (int n = 1 + r.nextInt(4); n > 0; n--) {
            out[r.nextInt(out.length)] =
                    (byte) (r.nextBoolean() ? INTERESTING_BYTES[r.nextInt(INTERESTING_BYTES.length)] : r.nextInt(256));
        }
        return out;
    }

    static byte[] append(Random r, byte[] b) {
        byte[] out = Arrays.copyOf(b, b.length + 1 + r.nextInt(64));
        for (int i = b.length; i < out.length; i++) {
            out[i] = (byte) r.nextInt(256);
        }
        if (r.nextBoolean()) { // keep lcm_size honest so the decoder looks further
            le(out).putInt(4, out.length);
        }
        return out;
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The offsets and widths of every integer field of a valid encoding, header to last blob. */
    static List<int[]> fields(byte[] valid) {
        List<int[]> f = new ArrayList<>();
        int[][] header = {{4, 4}, {8, 4}, {12, 2}, {14, 2}, {16, 2}, {18, 1}, {19, 1}, {20, 4}, {24, 8}};
        f.addAll(Arrays.asList(header));
        ByteBuffer b = le(valid);
        int entries = Short.toUnsignedInt(b.getShort(14));
        for (int i = 0; i < entries; i++) {
            int e = LOV_COMP_MD_V1_SIZE + i * LOV_COMP_MD_ENTRY_V1_SIZE;
            for (int[] x : new int[][] {
                {0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 4}, {28, 4}, {32, 4}, {36, 8}, {44, 1}, {45, 1}, {46, 1}, {47, 1}
            }) {
                f.add(new int[] {e + x[0], x[1]});
            }
            int at = b.getInt(e + 24);
            int magic = b.getInt(at);
            if (magic == LOV_MAGIC_FOREIGN) {
                for (int[] x : new int[][] {{0, 4}, {4, 4}, {8, 4}, {12, 4}, {16, 8}, {24, 8}, {32, 1}, {71, 1}}) {
                    f.add(new int[] {at + x[0], x[1]});
                }
            } else {
                for (int[] x : new int[][] {{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 4}, {28, 2}, {30, 2}}) {
                    f.add(new int[] {at + x[0], x[1]});
                }
                int objects = at + (magic == LOV_MAGIC_V3 ? LOV_MDS_MD_V3_SIZE : LOV_MDS_MD_V1_SIZE);
                if (magic == LOV_MAGIC_V3) {
                    f.add(new int[] {at + 32, 1});
                    f.add(new int[] {at + 47, 1});
                }
                f.add(new int[] {objects, 8});
                f.add(new int[] {objects + 20, 4});
            }
        }
        return f;
    }

    static long edgeValue(Random r, int width, int len, long current) {
        long[] edges = {
            0,
            1,
            2,
            3,
            4,
            8,
            16,
            24,
            31,
            32,
            47,
            48,
            56,
            72,
            79,
            80,
            128,
            len - 1,
            len,
            len + 1,
            len + 8,
            0x7f,
            0x80,
            0xff,
            0xffff,
            0x7fff,
            0x8000,
            0x10000,
            0x7fffffff,
            0x80000000L,
            0xffffffffL,
            -1L,
            Long.MAX_VALUE,
            Long.MIN_VALUE,
            LOV_MAGIC_V1,
            LOV_MAGIC_V3,
            LOV_MAGIC_FOREIGN,
            LOV_MAGIC_COMP_V1,
            LOV_MAGIC_SEL,
            LOV_MIN_STRIPE_SIZE,
            LOV_MAX_STRIPE_COUNT,
            LOV_MAX_STRIPE_COUNT + 1,
            current + 1,
            current - 1,
            current + 8,
            current - 8,
            current + 24,
            current - 24,
            current + 48,
            current ^ 0x80000000L
        };
        return r.nextInt(5) == 0 ? r.nextLong() : edges[r.nextInt(edges.length)];
    }

    static byte[] field(Random r, byte[] valid) {
        byte[] out = valid.clone();
        List<int[]> f = fields(valid);
        for (int n = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : 0); n > 0; n--) {
            int[] pick = f.get(r.nextInt(f.size()));
            ByteBuffer b = le(out);
            long current = switch (pick[1]) {
                case 1 -> Byte.toUnsignedLong(b.get(pick[0]));
                case 2 -> Short.toUnsignedLong(b.getShort(pick[0]));
                case 4 -> Integer.toUnsignedLong(b.getInt(pick[0]));
                default -> b.getLong(pick[0]);
            };
            long v = edgeValue(r, pick[1], out.length, current);
            switch (pick[1]) {
                case 1 -> b.put(pick[0], (byte) v);
                case 2 -> b.putShort(pick[0], (short) v);
                case 4 -> b.putInt(pick[0], (int) v);
                default -> b.putLong(pick[0], v);
            }
        }
        return out;
    }

    static byte[] swap(Random r, byte[] valid) {
        byte[] out = valid.clone();
        int entries = Short.toUnsignedInt(le(valid).getShort(14));
        int unit = r.nextBoolean() ? LOV_COMP_MD_ENTRY_V1_SIZE : 8;
        int span =
                r.nextBoolean() && entries > 1 ? LOV_COMP_MD_V1_SIZE + entries * LOV_COMP_MD_ENTRY_V1_SIZE : out.length;
        int slots = (span - LOV_COMP_MD_V1_SIZE) / unit;
        if (slots < 2) {
            return bitFlips(r, valid);
        }
        int a = LOV_COMP_MD_V1_SIZE + r.nextInt(slots) * unit;
        int c = LOV_COMP_MD_V1_SIZE + r.nextInt(slots) * unit;
        byte[] tmp = Arrays.copyOfRange(out, a, a + unit);
        System.arraycopy(out, c, out, a, unit);
        System.arraycopy(tmp, 0, out, c, unit);
        return out;
    }

    static byte[] splice(Random r, byte[] a, byte[] b) {
        int cutA = r.nextInt(a.length + 1);
        int cutB = r.nextInt(b.length + 1);
        byte[] out = new byte[cutA + (b.length - cutB)];
        System.arraycopy(a, 0, out, 0, cutA);
        System.arraycopy(b, cutB, out, cutA, b.length - cutB);
        if (out.length >= 8 && r.nextBoolean()) {
            le(out).putInt(4, out.length);
        }
        return out;
    }

    static byte[] garbage(Random r, int len) {
        byte[] out = new byte[len];
        r.nextBytes(out);
        return out;
    }

    static byte[] garbageWithHeader(Random r) {
        byte[] out = garbage(r, LOV_COMP_MD_V1_SIZE + r.nextInt(900));
        ByteBuffer b = le(out);
        b.putInt(0, LOV_MAGIC_COMP_V1);
        b.putInt(4, out.length);
        if (r.nextBoolean()) {
            b.putShort(12, (short) r.nextInt(4));
            b.putShort(14, (short) (1 + r.nextInt(6)));
            b.putShort(16, (short) r.nextInt(3));
            b.put(18, new byte[14]);
        }
        return out;
    }

    static byte[] stacked(Random r, byte[] valid) {
        byte[] out = valid;
        for (int n = 2 + r.nextInt(2); n > 0 && out.length > 0; n--) {
            out = switch (r.nextInt(4)) {
                case 0 -> bitFlips(r, out);
                case 1 -> overwrite(r, out);
                case 2 ->
                    out.length >= 32 && Short.toUnsignedInt(le(out).getShort(14)) * 48 + 32 <= out.length
                            ? swap(r, out)
                            : bitFlips(r, out);
                default -> Arrays.copyOf(out, Math.max(1, out.length - r.nextInt(16)));
            };
        }
        return out;
    }
}
