package dev.spillway.osd.vfs.journal;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageErrors;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Mount-time replay of the journal: every record after {@code journal/checkpoint}, in LSN
 * order, handed to a {@link Sink} that applies them (idempotently: see {@link Op}).
 *
 * <p><b>The end of the log.</b> A record that fails its checks is either the torn tail of the
 * last group commit (appended, never fsynced, so never acknowledged) or corruption of a record
 * that was. The log tells them apart itself: each record carries the highest LSN that was
 * durable when it was written, so if any later valid record says the failed LSN had been
 * synced, it was acknowledged and the failure is corruption; likewise any failure in a segment
 * that was sealed (rotation forces a segment before the next takes records). A torn tail is cut
 * with a warning. Corruption refuses the mount with EBADMSG naming the segment file and offset
 * and the repair path: mount once with {@code journal-recovery: point-in-time}, which replays up
 * to the damage, keeps the damaged segments as {@code *.corrupt} and loses the transactions
 * from there on.
 */
public final class Recovery {

    /** Applies the replayed records, in LSN order, all at once (so it can see which ops later ones supersede). */
    @FunctionalInterface
    public interface Sink {
        void apply(List<List<Op>> records) throws IOException, OsdException;
    }

    /**
     * What replay found.
     *
     * @param checkpointLsn the checkpoint it started after
     * @param lastLsn the last LSN replayed (or the checkpoint's)
     * @param replayed records applied
     * @param segments the segment files read, to delete once the replayed state is checkpointed
     * @param corrupt segment files to set aside as {@code *.corrupt} (point-in-time recovery)
     * @param warnings what was cut or set aside, for the mount log
     */
    public record Result(
            long checkpointLsn,
            long lastLsn,
            int replayed,
            List<String> segments,
            List<String> corrupt,
            List<String> warnings) {}

    private record Segment(String path, byte[] data, long first) {}

    private record Found(int segment, int offset, RecordCodec.Header header) {}

    private final Storage s;
    private final String device;
    private final UUID uuid;
    private final boolean pointInTime;
    private final List<String> warnings = new ArrayList<>();

    private Recovery(Storage s, String device, UUID uuid, boolean pointInTime) {
        this.s = s;
        this.device = device;
        this.uuid = uuid;
        this.pointInTime = pointInTime;
    }

    /** Replays the journal under {@code journal/} of a device. */
    public static Result replay(Storage s, String device, UUID uuid, boolean pointInTime, Sink sink)
            throws OsdException {
        try {
            return new Recovery(s, device, uuid, pointInTime).run(sink);
        } catch (IOException e) {
            throw StorageErrors.toOsd(device, null, "journal replay in " + s.describe(), e);
        }
    }

    private String where(String path) {
        return s.describe() + "/" + path;
    }

    private OsdException corrupt(String what) {
        return new OsdException(Errno.EBADMSG, device, null, what);
    }

    private Result run(Sink sink) throws IOException, OsdException {
        long cp = -1;
        if (s.type(LogFiles.CHECKPOINT) == Storage.EntryType.FILE) {
            cp = LogFiles.readCheckpoint(s.readFully(LogFiles.CHECKPOINT), uuid);
            if (cp < 0) {
                throw corrupt(
                        where(LogFiles.CHECKPOINT)
                                + " is corrupt or belongs to another device. Repair: delete that file"
                                + " and mount again; replay then starts at the oldest segment, which is safe because replay is idempotent");
            }
        }
        List<Segment> segs = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String n : s.list(LogFiles.DIR)) {
            long first = LogFiles.firstLsn(n);
            if (first >= 0) {
                String path = LogFiles.DIR + "/" + n;
                names.add(path);
                segs.add(new Segment(path, readAll(path), first));
            }
        }
        if (cp < 0) {
            // No checkpoint (a new device, or one deleted to repair it): segments are deleted only
            // once a checkpoint covers them, so replaying from the oldest one is complete.
            cp = segs.isEmpty() ? 0 : segs.get(0).first() - 1;
        }
        long last = cp;
        long prev = -1;
        int replayed = 0;
        List<List<Op>> records = new ArrayList<>();
        List<String> corruptSegs = new ArrayList<>();
        scan:
        for (int i = 0; i < segs.size(); i++) {
            Segment seg = segs.get(i);
            long first;
            try {
                first = LogFiles.readSegmentHeader(seg.data(), seg.data().length, uuid);
            } catch (IllegalStateException e) {
                throw corrupt(where(seg.path()) + " " + e.getMessage() + "; move it out of the journal folder");
            }
            if (first < 0) {
                if (i == segs.size() - 1 && !holdsAnything(seg.data())) {
                    // Created by a rotation a crash interrupted: records go in only after the
                    // header is forced, so it holds none — at most the zeros a new segment is
                    // preallocated with, if its name and size reached the disk but its bytes
                    // did not.
                    warnings.add("journal segment " + where(seg.path())
                            + " has no valid header (a rotation was interrupted); ignored");
                    continue;
                }
                throw corrupt("journal segment " + where(seg.path()) + " has a corrupt header at offset 0 but holds "
                        + (seg.data().length - LogFiles.SEGMENT_HEADER) + " bytes of records. " + repairHint());
            }
            if (first != seg.first()) {
                throw corrupt("journal segment " + where(seg.path()) + " says it starts at lsn " + first
                        + ", its name says " + seg.first());
            }
            if (prev >= 0 && first != prev + 1) {
                throw corrupt("journal records " + (prev + 1) + ".." + (first - 1) + " are missing: "
                        + where(seg.path()) + " starts at lsn " + first + ". " + repairHint());
            }
            if (prev < 0 && first > cp + 1) {
                throw corrupt("journal records " + (cp + 1) + ".." + (first - 1)
                        + " are missing: the checkpoint is at lsn " + cp + " and the oldest segment "
                        + where(seg.path()) + " starts at " + first + ". " + repairHint());
            }
            prev = first - 1;
            byte[] d = seg.data();
            int pos = LogFiles.SEGMENT_HEADER;
            while (pos < d.length) {
                RecordCodec.Header h = RecordCodec.decodeHeader(d, pos, d.length);
                boolean ok = h != null && RecordCodec.bodyValid(d, pos, d.length, h) && h.lsn() == prev + 1;
                if (!ok) {
                    long bad = prev + 1;
                    boolean endMark = isEndMark(d, pos);
                    if (i < segs.size() - 1 && segs.get(i + 1).first() <= cp + 1) {
                        // Damage in a segment the checkpoint already covers (its deletion was
                        // interrupted): nothing in it is needed.
                        warnings.add("journal: " + where(seg.path()) + " is damaged at offset " + pos
                                + " but the checkpoint covers it; ignored");
                        prev = segs.get(i + 1).first() - 1;
                        continue scan;
                    }
                    boolean sealedSegment = i < segs.size() - 1;
                    Found evidence;
                    if (endMark) {
                        // The end of this segment's records. A sealed segment's successor must
                        // start at `bad` (checked when it is reached); a later valid record in
                        // this same segment that saw `bad` synced means the zeros are damage.
                        Found inSegment = findSynced(segs.subList(i, i + 1), 0, pos + 1, bad);
                        evidence = inSegment == null ? null : new Found(i, inSegment.offset(), inSegment.header());
                        if (evidence == null) {
                            if (sealedSegment) {
                                continue scan;
                            }
                            break scan;
                        }
                    } else {
                        evidence = findSynced(segs, i, pos + 1, bad);
                        if (evidence == null && !sealedSegment) {
                            warnings.add("journal: cut the torn tail of " + where(seg.path()) + " at offset " + pos
                                    + " (transactions from lsn " + bad + " on were never acknowledged)");
                            break scan;
                        }
                    }
                    String why = "journal segment " + where(seg.path()) + " is corrupt at offset " + pos
                            + ": record lsn " + bad
                            + " fails its checks, but "
                            + (evidence != null
                                    ? "record lsn " + evidence.header().lsn() + " in "
                                            + where(segs.get(evidence.segment()).path()) + " at offset "
                                            + evidence.offset() + " was written after lsn " + bad + " was durable"
                                    : "that segment was sealed (forced) before the next one was started")
                            + ", so a committed transaction is damaged";
                    if (!pointInTime) {
                        throw corrupt(why + ". Refusing to mount. " + repairHint());
                    }
                    warnings.add(why + "; point-in-time recovery: replayed up to lsn " + last + ", setting aside "
                            + (segs.size() - i) + " segment(s) as *" + LogFiles.CORRUPT_SUFFIX
                            + "; transactions from lsn " + bad + " on are lost");
                    for (int j = i; j < segs.size(); j++) {
                        corruptSegs.add(segs.get(j).path());
                    }
                    break scan;
                }
                if (h.lsn() > cp) {
                    List<Op> ops;
                    try {
                        ops = RecordCodec.decodeBody(d, pos, h);
                    } catch (OsdException e) {
                        throw corrupt("journal segment " + where(seg.path()) + " at offset " + pos + ": " + e.detail()
                                + " although its checksum holds (written by a newer build?)");
                    }
                    records.add(ops);
                    last = h.lsn();
                    replayed++;
                }
                prev = h.lsn();
                pos += RecordCodec.HEADER + h.bodyLength();
            }
        }
        sink.apply(records);
        if (last < cp) {
            last = cp;
        }
        names.removeAll(corruptSegs);
        return new Result(cp, last, replayed, names, corruptSegs, List.copyOf(warnings));
    }

    /**
     * After the replayed state has been forced: writes the checkpoint at the last replayed LSN,
     * sets corrupt segments aside and deletes the replayed ones. A crash before the checkpoint
     * replays again; after it, the segments are dead weight and may stay.
     */
    public static void complete(Storage s, UUID uuid, Result r) throws IOException {
        if (r.segments().isEmpty() && r.corrupt().isEmpty()) {
            return;
        }
        s.replaceDurably(LogFiles.CHECKPOINT, LogFiles.checkpoint(uuid, r.lastLsn()));
        for (String c : r.corrupt()) {
            s.rename(c, c + LogFiles.CORRUPT_SUFFIX);
        }
        long spares = s.list(LogFiles.DIR).stream().filter(LogFiles::isSpare).count();
        for (String seg : r.segments()) {
            // Kept for reuse by the journal (its records are dead now), or deleted.
            if (spares < 2) {
                s.rename(seg, LogFiles.spare(seg));
                spares++;
            } else {
                s.deleteIfExists(seg);
            }
        }
        s.forceDirectory(LogFiles.DIR);
    }

    /** True if anything but zeros follows the segment header. */
    private static boolean holdsAnything(byte[] d) {
        for (int i = LogFiles.SEGMENT_HEADER; i < d.length; i++) {
            if (d[i] != 0) {
                return true;
            }
        }
        return false;
    }

    /** True at the end of a segment's records: the file ends, or {@link LogFiles#END_MARK} zero bytes follow. */
    private static boolean isEndMark(byte[] d, int pos) {
        if (pos >= d.length) {
            return true;
        }
        int end = Math.min(d.length, pos + LogFiles.END_MARK);
        for (int i = pos; i < end; i++) {
            if (d[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String repairHint() {
        return "Repair: mount once with the setting journal-recovery: point-in-time, which replays up to the damage,"
                + " keeps the damaged segments as *" + LogFiles.CORRUPT_SUFFIX + " and loses the transactions after it"
                + " (or restore the device from a copy)";
    }

    /** A valid record after the damage whose synced LSN proves {@code bad} was durable, or null. */
    private static Found findSynced(List<Segment> segs, int fromSeg, int fromOffset, long bad) {
        for (int i = fromSeg; i < segs.size(); i++) {
            byte[] d = segs.get(i).data();
            int start = i == fromSeg ? fromOffset : LogFiles.SEGMENT_HEADER;
            for (int at = start; at + RecordCodec.HEADER <= d.length; at++) {
                // "SWJR" little-endian
                if (d[at] != 'S' || d[at + 1] != 'W' || d[at + 2] != 'J' || d[at + 3] != 'R') {
                    continue;
                }
                RecordCodec.Header h = RecordCodec.decodeHeader(d, at, d.length);
                if (h != null && h.syncedLsn() >= bad && h.lsn() > bad && RecordCodec.bodyValid(d, at, d.length, h)) {
                    return new Found(i, at, h);
                }
            }
        }
        return null;
    }

    private byte[] readAll(String path) throws IOException {
        try (StorageFile f = s.open(path, StandardOpenOption.READ)) {
            long size = f.size();
            if (size > Integer.MAX_VALUE - 64) {
                throw new IOException(where(path) + " is " + size + " bytes, larger than a segment can be");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining()) {
                if (f.read(b, b.position()) < 0) {
                    break;
                }
            }
            return b.position() == size ? b.array() : java.util.Arrays.copyOf(b.array(), b.position());
        }
    }
}
