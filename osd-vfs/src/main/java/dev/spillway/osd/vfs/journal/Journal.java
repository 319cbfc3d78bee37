package dev.spillway.osd.vfs.journal;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The redo log of journal mode, while mounted: appends records, makes them durable with group
 * commit, and checkpoints.
 *
 * <p><b>Group commit.</b> A committer appends its record under the append lock and then waits
 * until an fsync covers it. The first waiter with nobody syncing becomes the leader: it fsyncs
 * the segment once for every record appended so far and wakes them all; those appended while it
 * synced wait for the next leader. Under load, one fsync covers many transactions.
 *
 * <p><b>Write-ahead rule.</b> A record is applied to the object files only after it is durable,
 * and nothing a record needs (a staged body) may become durable after it: the caller forces
 * staged files and their directory before {@link #commit}.
 *
 * <p><b>Checkpoint.</b> When the segment passes its size, the next applied record queues a
 * checkpoint (on the executor): rotate to a new segment, wait until every record of the sealed
 * ones is applied, force every object file and directory they dirtied ({@link Flusher}), write
 * {@code journal/checkpoint} with the last sealed LSN (atomically), then delete the sealed
 * segments. A crash anywhere in between replays more than needed, which is harmless.
 *
 * <p><b>Preallocated, recycled segments.</b> A log fsync is cheap only if it flushes data and no
 * metadata: appending to a file changes its size and makes every fsync commit the filesystem's
 * journal. So segments are created full of zeros ({@code journal-preallocate}, the default),
 * records overwrite those zeros, and a checkpointed segment is kept as a spare
 * ({@code journal/spare-*.log}, at most {@value #MAX_SPARES}) and reused under its new name with a
 * new header. Every append also writes {@value LogFiles#END_MARK} zero bytes after its record,
 * so the end of the log is marked even over a recycled segment's old records.
 *
 * <p><b>Failure.</b> A failed write or fsync fails the journal for good (a retried fsync can
 * report success for data that was dropped): every later commit throws, and the device must be
 * unmounted and mounted again, which replays the log.
 */
public final class Journal implements Closeable {
    private static final System.Logger LOG = System.getLogger(Journal.class.getName());

    /** Forces what applied records dirtied: the object files and directories. */
    @FunctionalInterface
    public interface Flusher {
        void forceAll() throws IOException;
    }

    private record Sealed(String name, StorageFile file) {}

    private static final int MAX_SPARES = 2;

    private final Storage s;
    private final String device;
    private final UUID uuid;
    private final long segmentSize;
    private final boolean preallocate;
    // Checkpointed segments kept for reuse (guarded by appendLock).
    private final java.util.ArrayDeque<String> spares = new java.util.ArrayDeque<>();
    private final Flusher flusher;
    private final Executor checkpointer;

    // Guards the open segment, its position, the LSN counter and the sealed segments.
    private final ReentrantLock appendLock = new ReentrantLock();
    private StorageFile current;
    private String currentName;
    private long position;
    private long nextLsn;
    private long lastAppended;
    private final List<Sealed> sealed = new ArrayList<>();

    // Guards "syncing" (a leader is fsyncing); durableLsn only grows.
    private final ReentrantLock syncLock = new ReentrantLock();
    private final Condition syncDone = syncLock.newCondition();
    private boolean syncing;
    private volatile long durableLsn;

    // LSNs appended but not yet applied to the object files; a checkpoint waits for them.
    private final ConcurrentSkipListSet<Long> unapplied = new ConcurrentSkipListSet<>();
    private final ReentrantLock appliedLock = new ReentrantLock();
    private final Condition appliedCond = appliedLock.newCondition();

    // One checkpoint at a time; queued at most once.
    private final ReentrantLock checkpointLock = new ReentrantLock();
    private final AtomicBoolean checkpointQueued = new AtomicBoolean();
    private volatile long checkpointLsn;

    private volatile IOException failure;
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    private boolean closed;

    private Journal(
            Storage s,
            String device,
            UUID uuid,
            long nextLsn,
            long segmentSize,
            boolean preallocate,
            Flusher flusher,
            Executor checkpointer) {
        this.s = s;
        this.preallocate = preallocate;
        this.device = device;
        this.uuid = uuid;
        this.nextLsn = nextLsn;
        this.lastAppended = nextLsn - 1;
        this.durableLsn = nextLsn - 1;
        this.checkpointLsn = nextLsn - 1;
        this.segmentSize = segmentSize;
        this.flusher = flusher;
        this.checkpointer = checkpointer;
    }

    /**
     * Starts logging at {@code nextLsn} in a new segment, after recovery has replayed and
     * checkpointed everything before it.
     */
    public static Journal start(
            Storage s,
            String device,
            UUID uuid,
            long nextLsn,
            long segmentSize,
            boolean preallocate,
            Flusher flusher,
            Executor checkpointer)
            throws IOException {
        Journal j = new Journal(s, device, uuid, nextLsn, segmentSize, preallocate, flusher, checkpointer);
        j.appendLock.lock();
        try {
            for (String n : s.list(LogFiles.DIR)) {
                if (LogFiles.isSpare(n)) {
                    j.spares.add(LogFiles.DIR + "/" + n);
                }
            }
            j.openSegment();
        } finally {
            j.appendLock.unlock();
        }
        return j;
    }

    /**
     * Opens the segment starting at nextLsn — a spare with a new header, or a new file of zeros —
     * durable (header, end mark and name) before any record goes in.
     */
    private void openSegment() throws IOException {
        String name = LogFiles.segment(nextLsn);
        String spare = spares.poll();
        // The header goes in while the file still has its old name (or none), so a crash
        // never leaves a segment whose header disagrees with its name.
        String at = spare != null ? spare : name;
        StorageFile f = spare != null
                ? s.open(spare, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : s.open(name, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (spare == null && preallocate) {
                ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
                for (long off = 0; off < segmentSize; off += zeros.capacity()) {
                    f.write(zeros.clear().limit((int) Math.min(zeros.capacity(), segmentSize - off)), off);
                }
            }
            ByteBuffer head = ByteBuffer.allocate(LogFiles.SEGMENT_HEADER + LogFiles.END_MARK);
            head.put(LogFiles.segmentHeader(uuid, nextLsn)).clear();
            f.write(head, 0);
            f.force(true);
            if (spare != null) {
                s.rename(at, name);
            }
            s.forceDirectory(LogFiles.DIR);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
        current = f;
        currentName = name;
        position = LogFiles.SEGMENT_HEADER;
    }

    private void checkFailed() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(
                    "journal of " + device + " failed earlier (" + f.getMessage() + "); unmount and mount to replay",
                    f);
        }
        if (closed) {
            throw new IOException("journal of " + device + " is closed");
        }
    }

    /** Fails the journal for good (also used when a durable record cannot be applied). */
    public void fail(IOException e) {
        if (failure == null) {
            failure = e;
        }
        syncLock.lock();
        try {
            syncDone.signalAll();
        } finally {
            syncLock.unlock();
        }
        appliedLock.lock();
        try {
            appliedCond.signalAll();
        } finally {
            appliedLock.unlock();
        }
    }

    public IOException failure() {
        return failure;
    }

    /**
     * Appends one transaction's record and returns its LSN once it is durable. The caller must
     * then apply it and call {@link #applied}.
     */
    public long commit(ByteBuffer body, int opCount, long txId) throws IOException {
        int crc = RecordCodec.crc(body);
        long lsn;
        appendLock.lock();
        try {
            checkFailed();
            lsn = nextLsn;
            ByteBuffer header = RecordCodec.encodeHeader(body.remaining(), opCount, lsn, durableLsn, txId, crc);
            long at = position;
            try {
                int len = body.remaining();
                if (len <= 64 << 10) {
                    ByteBuffer all = ByteBuffer.allocate(RecordCodec.HEADER + len + LogFiles.END_MARK);
                    all.put(header).put(body.duplicate()).clear();
                    current.write(all, at);
                } else {
                    current.write(header, at);
                    current.write(body.duplicate(), at + RecordCodec.HEADER);
                    current.write(ByteBuffer.allocate(LogFiles.END_MARK), at + RecordCodec.HEADER + len);
                }
            } catch (IOException | RuntimeException e) {
                // A partial record may now sit at the end: nothing may be appended after it.
                IOException io = e instanceof IOException x ? x : new IOException(e);
                fail(io);
                throw io;
            }
            position = at + RecordCodec.HEADER + body.remaining();
            nextLsn = lsn + 1;
            lastAppended = lsn;
            unapplied.add(lsn);
        } finally {
            appendLock.unlock();
        }
        commits.incrementAndGet();
        awaitDurable(lsn);
        return lsn;
    }

    private void awaitDurable(long lsn) throws IOException {
        while (true) {
            syncLock.lock();
            try {
                while (true) {
                    if (durableLsn >= lsn) {
                        return;
                    }
                    checkFailed();
                    if (!syncing) {
                        syncing = true;
                        break;
                    }
                    syncDone.awaitUninterruptibly();
                }
            } finally {
                syncLock.unlock();
            }
            // The leader: one fsync for everything appended so far.
            long target;
            StorageFile seg;
            appendLock.lock();
            try {
                target = lastAppended;
                seg = current;
            } finally {
                appendLock.unlock();
            }
            IOException err = null;
            try {
                seg.force(false);
                fsyncs.incrementAndGet();
            } catch (IOException e) {
                err = e;
            }
            syncLock.lock();
            try {
                syncing = false;
                if (err == null && target > durableLsn) {
                    durableLsn = target;
                }
                syncDone.signalAll();
            } finally {
                syncLock.unlock();
            }
            if (err != null) {
                fail(err);
                throw err;
            }
        }
    }

    /** Records that {@code lsn} is applied to the object files; may queue a checkpoint. */
    public void applied(long lsn) {
        unapplied.remove(lsn);
        appliedLock.lock();
        try {
            appliedCond.signalAll();
        } finally {
            appliedLock.unlock();
        }
        boolean due;
        appendLock.lock();
        try {
            due = position >= segmentSize;
        } finally {
            appendLock.unlock();
        }
        if (due && failure == null && checkpointQueued.compareAndSet(false, true)) {
            checkpointer.execute(() -> {
                try {
                    checkpoint();
                } catch (IOException e) {
                    // Not swallowed: the journal is failed, and the next commit, sync or
                    // unmount reports this cause.
                    fail(e);
                } finally {
                    checkpointQueued.set(false);
                }
            });
        }
    }

    private void awaitApplied(long upTo) throws IOException {
        appliedLock.lock();
        try {
            while (!unapplied.isEmpty() && unapplied.first() <= upTo) {
                checkFailedIgnoringClose();
                appliedCond.awaitUninterruptibly();
            }
        } finally {
            appliedLock.unlock();
        }
    }

    private void checkFailedIgnoringClose() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException("journal of " + device + " failed: " + f.getMessage(), f);
        }
    }

    /**
     * Seals the current segment and checkpoints everything in the sealed ones. Safe to call at
     * any time; does nothing if no record was appended since the last checkpoint.
     */
    public void checkpoint() throws IOException {
        checkpoint(true);
    }

    /**
     * @param rotate seal the current segment and start another (while mounted); without, the
     *     current segment stays (at unmount: the next mount finds its records all checkpointed)
     */
    private void checkpoint(boolean rotate) throws IOException {
        checkpointLock.lock();
        try {
            long upTo;
            List<Sealed> done;
            appendLock.lock();
            try {
                checkFailedIgnoringClose();
                upTo = lastAppended;
                if (upTo == checkpointLsn) {
                    return;
                }
                // Everything in the current segment durable before another takes records.
                current.force(false);
                syncLock.lock();
                try {
                    if (upTo > durableLsn) {
                        durableLsn = upTo;
                    }
                    syncDone.signalAll();
                } finally {
                    syncLock.unlock();
                }
                if (rotate) {
                    sealed.add(new Sealed(currentName, current));
                    current = null;
                    openSegment();
                }
                done = new ArrayList<>(sealed);
            } catch (IOException | RuntimeException e) {
                IOException io = e instanceof IOException x ? x : new IOException(e);
                fail(io);
                throw io;
            } finally {
                appendLock.unlock();
            }
            awaitApplied(upTo);
            flusher.forceAll();
            s.forceDirectory(LogFiles.DIR);
            s.replaceDurably(LogFiles.CHECKPOINT, LogFiles.checkpoint(uuid, upTo));
            checkpointLsn = upTo;
            appendLock.lock();
            try {
                for (Sealed seg : done) {
                    seg.file().close();
                    if (spares.size() < MAX_SPARES && preallocate) {
                        String spare = LogFiles.spare(seg.name());
                        s.rename(seg.name(), spare);
                        spares.add(spare);
                    } else {
                        s.deleteIfExists(seg.name());
                    }
                }
                // A spare's old name must be gone for good before its content is rewritten for
                // reuse, or a crash could show the new content under the old name.
                s.forceDirectory(LogFiles.DIR);
                sealed.removeAll(done);
            } finally {
                appendLock.unlock();
            }
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> device + ": journal checkpoint at lsn " + upTo + ", " + done.size() + " segment(s) freed");
        } finally {
            checkpointLock.unlock();
        }
    }

    /** Records committed and fsyncs made since mount (transactions per fsync = their ratio). */
    public long[] stats() {
        return new long[] {commits.get(), fsyncs.get()};
    }

    /** Checkpoints everything (unless failed) and closes the files. */
    @Override
    public void close() throws IOException {
        IOException err = null;
        try {
            if (failure == null) {
                checkpoint(false);
            }
        } catch (IOException e) {
            err = e;
        }
        checkpointLock.lock();
        appendLock.lock();
        try {
            closed = true;
            for (Sealed seg : sealed) {
                seg.file().close();
            }
            sealed.clear();
            if (current != null) {
                current.close();
                current = null;
            }
        } finally {
            appendLock.unlock();
            checkpointLock.unlock();
        }
        if (err != null) {
            throw err;
        }
        if (failure != null) {
            throw new IOException("journal of " + device + " failed: " + failure.getMessage(), failure);
        }
    }
}
