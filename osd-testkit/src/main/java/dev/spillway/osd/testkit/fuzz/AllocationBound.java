package dev.spillway.osd.testkit.fuzz;

import java.lang.management.ManagementFactory;

/**
 * Bounds what one decode may allocate: a constant plus a multiple of the input's length. A
 * length or count field read from the input must never size an allocation the input does not
 * justify (a 20-byte record saying "4 GiB follow" is refused, not allocated); a fuzzer finds an
 * {@link OutOfMemoryError} only past the heap, this finds the 200 MB allocation too.
 *
 * <p>Measured with the thread's allocated-bytes counter ({@code com.sun.management.ThreadMXBean}),
 * which is exact and cheap. Class loading, first-time initialisation and the fuzzer's own hooks
 * count as allocation on the thread that triggers them the first time; so a decode over the bound
 * is run a second time, and only a second decode over the bound fails (decoders are
 * deterministic: a real over-allocation repeats, a warm-up does not).
 */
public final class AllocationBound {
    private static final com.sun.management.ThreadMXBean THREADS =
            ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                            && t.isThreadAllocatedMemorySupported()
                    ? t
                    : null;

    private final long base;
    private final long perByte;

    /**
     * @param base bytes any decode may allocate (an exception with its stack trace, a result)
     * @param perByte bytes it may allocate per byte of input
     */
    public AllocationBound(long base, long perByte) {
        this.base = base;
        this.perByte = perByte;
    }

    /** A decode, which may throw the decoder's own (checked) error. */
    @FunctionalInterface
    public interface Decode<E extends Exception> {
        void run() throws E;
    }

    /**
     * Runs {@code decode} on an input of {@code inputLength} bytes and fails with an
     * {@link AssertionError} if it allocated more than the bound; the decoder's own error passes
     * through (after the check).
     */
    public <E extends Exception> void check(int inputLength, Decode<E> decode) throws E {
        long limit = base + perByte * inputLength;
        long before = allocated();
        Exception own = null;
        try {
            decode.run();
        } catch (RuntimeException e) {
            throw e; // not the decoder's own error: the fuzz target reports it
        } catch (Exception e) {
            own = e;
        }
        long used = before < 0 ? -1 : allocated() - before;
        if (used > limit && (used = measure(decode)) > limit) {
            throw new AssertionError("decoding " + inputLength + " bytes allocated " + used
                    + " bytes, more than the bound of " + limit + " (" + base + " + " + perByte
                    + " per input byte)");
        }
        if (own != null) {
            @SuppressWarnings("unchecked")
            E e = (E) own;
            throw e;
        }
    }

    /** Bytes a second run of {@code decode} allocated, or -1 if unknown. */
    private static <E extends Exception> long measure(Decode<E> decode) {
        long before = allocated();
        try {
            decode.run();
        } catch (Exception e) {
            // the first run's outcome is the one reported
        }
        return before < 0 ? -1 : allocated() - before;
    }

    private static long allocated() {
        return THREADS == null ? -1 : THREADS.getCurrentThreadAllocatedBytes();
    }
}
