package dev.spillway.pool.meta;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A byte range {@code [start, end)} of an object's body that one copy holds (issue 20, range-level
 * placement): a PFL component's {@code lcme_extent}. {@code start} is a multiple of
 * {@link #ALIGN} (Lustre's {@code LOV_MIN_STRIPE_SIZE}, which every {@code lcme_extent} boundary
 * must be); {@code end} is one too, or {@link #EOF} ("to the end of the body, however long").
 *
 * @param start first byte
 * @param end one past the last byte, or {@link #EOF}
 */
public record Span(long start, long end) {
    /** {@code LUSTRE_EOF}: the span runs to the end of the body. */
    public static final long EOF = Long.MAX_VALUE;

    /** Every span boundary but EOF is a multiple of this ({@code LOV_MIN_STRIPE_SIZE}, 64 KiB). */
    public static final long ALIGN = 64 * 1024;

    public Span {
        if (start < 0 || start % ALIGN != 0 || end <= start || (end != EOF && end % ALIGN != 0)) {
            throw new IllegalArgumentException("span [" + start + ", " + (end == EOF ? "EOF" : end)
                    + ") is not a non-empty range of 64 KiB boundaries (or EOF)");
        }
    }

    /** The span of {@code [start, end)} with an end at or past {@code size} (or {@link #EOF}) made EOF. */
    public static Span of(long start, long end, long size) {
        return new Span(start, end >= size ? EOF : end);
    }

    /** True if byte {@code off} is in the span. */
    public boolean contains(long off) {
        return off >= start && off < end;
    }

    /** True if the span runs to the end of the body. */
    public boolean toEof() {
        return end == EOF;
    }

    /** Bytes of a body of {@code size} bytes the span holds. */
    public long length(long size) {
        return Math.max(0, Math.min(end, size) - start);
    }

    /** True if the two spans share a byte. */
    public boolean overlaps(Span o) {
        return start < o.end && o.start < end;
    }

    @Override
    public String toString() {
        return "[" + start + ", " + (end == EOF ? "EOF" : Long.toString(end)) + ")";
    }

    /** Sorted, merged (touching spans joined): the canonical form of a set of spans. */
    public static List<Span> normalize(List<Span> spans) {
        List<Span> s = new ArrayList<>(spans);
        s.sort(Comparator.comparingLong(Span::start));
        List<Span> out = new ArrayList<>();
        for (Span x : s) {
            if (!out.isEmpty() && out.get(out.size() - 1).end >= x.start) {
                Span last = out.remove(out.size() - 1);
                out.add(new Span(last.start, Math.max(last.end, x.end)));
            } else {
                out.add(x);
            }
        }
        return List.copyOf(out);
    }

    /** {@code spans} without the bytes of {@code cut}. */
    public static List<Span> subtract(List<Span> spans, Span cut) {
        List<Span> out = new ArrayList<>();
        for (Span x : spans) {
            if (!x.overlaps(cut)) {
                out.add(x);
                continue;
            }
            if (x.start < cut.start) {
                out.add(new Span(x.start, cut.start));
            }
            if (cut.end < x.end) {
                out.add(new Span(cut.end, x.end));
            }
        }
        return normalize(out);
    }

    /**
     * The parts of {@code [from, to)} that {@code have} does not hold, as spans ({@code to} the body's
     * {@code size} or past it: the last one runs to EOF).
     */
    public static List<Span> gaps(List<Span> have, long from, long to, long size) {
        List<Span> out = new ArrayList<>();
        long pos = from;
        for (Span x : normalize(have)) {
            if (pos >= to) {
                break;
            }
            if (x.end <= pos) {
                continue;
            }
            if (x.start > pos) {
                out.add(Span.of(pos, Math.min(x.start, to), size));
            }
            pos = Math.max(pos, x.end);
        }
        if (pos < to) {
            out.add(Span.of(pos, to, size));
        }
        return out;
    }

    /** True if {@code spans} hold every byte of {@code [from, to)}. */
    public static boolean covers(List<Span> spans, long from, long to) {
        long pos = from;
        for (Span x : normalize(spans)) {
            if (x.start <= pos && x.end > pos) {
                pos = x.end;
            }
            if (pos >= to) {
                return true;
            }
        }
        return pos >= to;
    }

    /** The span of {@code spans} holding byte {@code off}, or null. */
    public static Span at(List<Span> spans, long off) {
        for (int i = 0, n = spans.size(); i < n; i++) { // indexed: every read of a split body asks
            Span x = spans.get(i);
            if (x.contains(off)) {
                return x;
            }
        }
        return null;
    }
}
