package dev.spillway.pool.meta;

import dev.spillway.osd.Fid;
import java.util.List;

/**
 * One copy (FLR mirror) of an object's body.
 *
 * @param mirrorId the FLR mirror id (unique within the object's layout)
 * @param device the device index
 * @param key the copy's FID on that device (for the metadata device: the object's own FID)
 * @param state pending, in sync or stale
 * @param version the object's data version the copy holds (HSM archive version)
 * @param bytes what the copy occupies on its device (its allocated blocks; the object's size
 *     while pending), for the counters
 * @param preferred the preferred read copy ({@code LCME_FL_PREF_RD})
 * @param checksums CRC32C per chunk of the body, for copies on devices other than the metadata
 *     device; verified on every read from them and by scrub (a striped copy: none, each stripe
 *     has its own)
 * @param stripeSize for a striped copy, bytes of one stripe unit; 0 for a whole copy
 * @param stripes for a striped copy (RAID0 over a striping tier), its stripe objects, stripe 0
 *     first: {@code device} and {@code key} are stripe 0's, {@code bytes} their sum; empty for a
 *     whole copy
 * @param spans the parts of the body the copy holds (issue 20, range-level placement), sorted and
 *     merged; empty for a copy of the whole body. A copy on the metadata device with spans is a
 *     body partly released there (the released ranges are holes: punched or truncated); a copy on
 *     another device has exactly one span, whose bytes its object holds from offset 0 (never
 *     striped)
 */
public record Copy(
        int mirrorId,
        int device,
        Fid key,
        CopyState state,
        long version,
        long bytes,
        boolean preferred,
        Checksums checksums,
        int stripeSize,
        List<Stripe> stripes,
        List<Span> spans) {

    public Copy {
        stripes = List.copyOf(stripes);
        spans = List.copyOf(spans);
        if (!spans.isEmpty() && !spans.equals(Span.normalize(spans))) {
            throw new IllegalArgumentException("a copy's spans are sorted and merged: " + spans);
        }
        if (spans.size() > 1 && !stripes.isEmpty()) {
            throw new IllegalArgumentException("a striped copy holds the whole body or one range of it: " + spans);
        }
        if (spans.size() == 1 && spans.get(0).start() == 0 && spans.get(0).toEof()) {
            spans = List.of();
        }
        if (!stripes.isEmpty()
                && (stripes.size() < 2
                        || stripeSize <= 0
                        || stripes.get(0).device() != device
                        || !stripes.get(0).key().equals(key))) {
            throw new IllegalArgumentException("a striped copy has 2 or more stripes, stripe 0 its device and key");
        }
    }

    /** A copy of the whole body, whole or striped. */
    public Copy(
            int mirrorId,
            int device,
            Fid key,
            CopyState state,
            long version,
            long bytes,
            boolean preferred,
            Checksums checksums,
            int stripeSize,
            List<Stripe> stripes) {
        this(mirrorId, device, key, state, version, bytes, preferred, checksums, stripeSize, stripes, List.of());
    }

    /** A whole (unstriped) copy. */
    public Copy(
            int mirrorId,
            int device,
            Fid key,
            CopyState state,
            long version,
            long bytes,
            boolean preferred,
            Checksums checksums) {
        this(mirrorId, device, key, state, version, bytes, preferred, checksums, 0, List.of());
    }

    /** A copy striped RAID0 over {@code stripes} (stripe 0 first), {@code stripeSize} bytes a unit. */
    public static Copy striped(
            int mirrorId, CopyState state, long version, boolean preferred, int stripeSize, List<Stripe> stripes) {
        long sum = stripes.stream().mapToLong(Stripe::bytes).sum();
        Stripe first = stripes.get(0);
        return new Copy(
                mirrorId,
                first.device(),
                first.key(),
                state,
                version,
                sum,
                preferred,
                Checksums.NONE,
                stripeSize,
                stripes);
    }

    /**
     * A copy of the range {@code span} of the body striped RAID0 over {@code stripes} (stripe 0
     * first): unit {@code u} of the range (its bytes counted from the range's start) is unit
     * {@code u / N} of stripe {@code u % N}.
     */
    public static Copy stripedRange(
            int mirrorId, CopyState state, long version, int stripeSize, List<Stripe> stripes, Span span) {
        return striped(mirrorId, state, version, false, stripeSize, stripes).withSpans(List.of(span));
    }

    /**
     * Bytes of the body the copy's object (or, striped, its stripes together) holds from offset 0:
     * its range's length for a copy of a range off the metadata device, else {@code size}.
     */
    public long extent(long size) {
        return whole() ? size : spans.get(0).length(size);
    }

    /**
     * A copy holding the range {@code span} of the body, its object holding those bytes from
     * offset 0, {@code bytes} long (the range's length while pending).
     */
    public static Copy ranged(
            int mirrorId,
            int device,
            Fid key,
            CopyState state,
            long version,
            long bytes,
            Checksums checksums,
            Span span) {
        return new Copy(mirrorId, device, key, state, version, bytes, false, checksums, 0, List.of(), List.of(span));
    }

    /** True if the copy holds the whole body (no spans). */
    public boolean whole() {
        return spans.isEmpty();
    }

    /** The spans of the body the copy holds: its spans, or {@code [0, EOF)} for a whole copy. */
    public List<Span> held() {
        return whole() ? List.of(new Span(0, Span.EOF)) : spans;
    }

    /** True if the copy holds byte {@code off} of the body. */
    public boolean holds(long off) {
        return whole() || Span.at(spans, off) != null;
    }

    /** The copy with {@code s} as what it holds (empty, or {@code [0, EOF)}: the whole body). */
    public Copy withSpans(List<Span> s) {
        return new Copy(mirrorId, device, key, state, version, bytes, preferred, checksums, stripeSize, stripes, s);
    }

    /** True if the copy is striped over several devices. */
    public boolean striped() {
        return !stripes.isEmpty();
    }

    /**
     * The objects that hold the copy, one per device: its stripes, or for a whole copy itself.
     * Jobs, device-index entries and counters are kept per part.
     */
    public List<Stripe> parts() {
        return striped() ? stripes : List.of(new Stripe(device, key, bytes, checksums));
    }

    /** True if a part of the copy is on device {@code d}. */
    public boolean onDevice(int d) {
        if (!striped()) {
            return device == d;
        }
        for (Stripe s : stripes) {
            if (s.device() == d) {
                return true;
            }
        }
        return false;
    }

    /** True if a part of the copy has key {@code k}. */
    public boolean hasKey(Fid k) {
        return parts().stream().anyMatch(s -> s.key().equals(k));
    }

    public Copy withState(CopyState s) {
        return new Copy(mirrorId, device, key, s, version, bytes, preferred, checksums, stripeSize, stripes, spans);
    }

    public Copy withPreferred(boolean p) {
        return new Copy(mirrorId, device, key, state, version, bytes, p, checksums, stripeSize, stripes, spans);
    }

    /** A whole copy now in sync at version {@code v}, occupying {@code length} bytes. */
    public Copy inSync(long v, long length, Checksums sums) {
        return new Copy(
                mirrorId, device, key, CopyState.IN_SYNC, v, length, preferred, sums, stripeSize, stripes, spans);
    }

    /** A striped copy now in sync at version {@code v}, with its stripes as written ({@code done}, same order). */
    public Copy inSyncStripes(long v, List<Stripe> done) {
        return striped(mirrorId, CopyState.IN_SYNC, v, preferred, stripeSize, done)
                .withSpans(spans);
    }
}
