package dev.spillway.pool;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.pool.meta.Span;
import java.util.List;

/**
 * What the pool tells the migration daemon about accesses: called on the data path, so
 * implementations must be quick and never block or do I/O (update in-memory heat and return).
 *
 * <h2>Accesses</h2>
 * Placement counts <b>client accesses</b> — one request of the caller above the pool — never
 * OSD calls, so that a 1 GiB PUT is one access and not 1,024, and the simulator (one access per
 * trace request) and the daemon agree. The pool's rule, exactly:
 * <ul>
 * <li>A committed transaction that changed a DATA object's body is <b>one write access</b> to it
 * ({@link #written}), however many writes, punches or truncates of it the transaction made —
 * unless the transaction said it {@linkplain dev.spillway.osd.Transaction#continuesAccess
 * continues} an earlier one's access (a body staged in several transactions): then only the new
 * size is reported ({@link #resized}).</li>
 * <li>A read is <b>one read access</b> ({@link #readAccess}) unless it continues an open <b>read
 * stream</b> of the object: a read at offset {@code o > 0} continues a stream if an earlier read
 * of the same object, at the same data version, ended exactly at {@code o}. A read that does not
 * reach the end of the body leaves its stream open at its end; one that reaches the end closes
 * it. So reading an object in chunks from start to end (an S3 GET, a Java caller's
 * open-read-close) is one access; reading it again from the start is another; two clients reading
 * it at once are two. The pool keeps at most 4,096 open streams (the least recently continued go
 * first: a stream left open for long is counted again if it resumes).</li>
 * </ul>
 * Every read call is still reported with its bytes ({@link #read}) for byte counters.
 *
 * <h2>Where in the body (range-level placement, issue 20)</h2>
 * The pool calls {@link #readAt} for every read call (its offset, length, and whether it started
 * an access) and {@link #written(Fid, long, List)} / {@link #resized(Fid, long, List)} once per
 * transaction with the byte ranges of the body the transaction changed: each write's {@code
 * [offset, end)}, each punch's range, a truncate's {@code [min(old, new), max(old, new))},
 * merged, at most {@value #MAX_TOUCHED} ranges (past that, neighbours are merged: a superset). A
 * listener that tracks heat per extent counts each extent a transaction touched once, and each
 * extent a read stream reaches once (see {@link #readAt}). Their defaults call the methods above,
 * so a listener that needs no offsets implements only those.
 */
public interface PoolListener {
    /** No one listening. */
    PoolListener NONE = new PoolListener() {};

    /** The most byte ranges {@link #written(Fid, long, List)} reports for one object and transaction. */
    int MAX_TOUCHED = 16;

    /**
     * A read call of {@code n} bytes at {@code offset} of {@code fid} (an object of {@code size}
     * bytes), served by device {@code device}; {@code access} says whether it started a read
     * access (the rule above) — if not, it continued a read stream whose last read ended exactly
     * at {@code offset}. By default: {@link #read} always, {@link #readAccess} if {@code access}.
     * For a body split between devices it is the device that served the read's last part: a
     * listener that tracks extents knows which of them are resident by itself.
     */
    default void readAt(Fid fid, long size, long offset, int n, boolean access, int device) {
        read(fid, size, n, device);
        if (access) {
            readAccess(fid, size, device);
        }
    }

    /**
     * One write access (as {@link #written(Fid, long)}), with the byte ranges of the body the
     * transaction changed ({@code touched}: sorted, disjoint; empty if it only created the
     * object). By default: {@link #written(Fid, long)}.
     */
    default void written(Fid fid, long size, List<Span> touched) {
        written(fid, size);
    }

    /**
     * A change that continued an earlier access (as {@link #resized(Fid, long)}), with the byte
     * ranges it changed. By default: {@link #resized(Fid, long)}.
     */
    default void resized(Fid fid, long size, List<Span> touched) {
        resized(fid, size);
    }

    /**
     * A committed transaction brought spilled bytes of {@code fid}'s body home before it changed
     * it (a recall: of a body spilled whole, of the ranges of a split body the change touched, or of
     * a split body whole — one promoted by range from a whole copy, or one the change grows):
     * {@code resident} are the spans of the body, an object of {@code size} bytes, that the
     * metadata device holds now ({@code [0, EOF)}: all of it). Told before {@link #written(Fid,
     * long, List)} or {@link #resized(Fid, long, List)} of the same transaction, so a listener that
     * tracks residency per extent knows at once what a write brought home besides the ranges it
     * changed.
     */
    default void recalled(Fid fid, long size, List<Span> resident) {}

    /**
     * {@code bytes} of {@code fid} (an object of {@code size} bytes) were read, served by device
     * {@code device}: every read call, for byte counters.
     */
    default void read(Fid fid, long size, long bytes, int device) {}

    /** One read access of {@code fid} (see the rule above), served by device {@code device}. */
    default void readAccess(Fid fid, long size, int device) {}

    /**
     * One write access: a committed transaction changed {@code fid}'s body; its size is now
     * {@code size}.
     */
    default void written(Fid fid, long size) {}

    /**
     * A committed transaction that continued an earlier access changed {@code fid}'s body; its
     * size is now {@code size} (not an access).
     */
    default void resized(Fid fid, long size) {}

    default void created(Fid fid, ObjectKind kind) {}

    default void destroyed(Fid fid) {}

    /**
     * A committed transaction set {@code fid}'s placement advice ({@link
     * dev.spillway.osd.PlacementHint}) to {@code advice}.
     */
    default void advised(Fid fid, String advice) {}

    /** Tells every one of {@code listeners}, in order. */
    static PoolListener all(List<PoolListener> listeners) {
        List<PoolListener> ls = List.copyOf(listeners);
        return new PoolListener() {
            @Override
            public void readAt(Fid fid, long size, long offset, int n, boolean access, int device) {
                for (PoolListener l : ls) {
                    l.readAt(fid, size, offset, n, access, device);
                }
            }

            @Override
            public void written(Fid fid, long size, List<Span> touched) {
                for (PoolListener l : ls) {
                    l.written(fid, size, touched);
                }
            }

            @Override
            public void resized(Fid fid, long size, List<Span> touched) {
                for (PoolListener l : ls) {
                    l.resized(fid, size, touched);
                }
            }

            @Override
            public void recalled(Fid fid, long size, List<Span> resident) {
                for (PoolListener l : ls) {
                    l.recalled(fid, size, resident);
                }
            }

            @Override
            public void read(Fid fid, long size, long bytes, int device) {
                for (PoolListener l : ls) {
                    l.read(fid, size, bytes, device);
                }
            }

            @Override
            public void readAccess(Fid fid, long size, int device) {
                for (PoolListener l : ls) {
                    l.readAccess(fid, size, device);
                }
            }

            @Override
            public void written(Fid fid, long size) {
                for (PoolListener l : ls) {
                    l.written(fid, size);
                }
            }

            @Override
            public void resized(Fid fid, long size) {
                for (PoolListener l : ls) {
                    l.resized(fid, size);
                }
            }

            @Override
            public void created(Fid fid, ObjectKind kind) {
                for (PoolListener l : ls) {
                    l.created(fid, kind);
                }
            }

            @Override
            public void destroyed(Fid fid) {
                for (PoolListener l : ls) {
                    l.destroyed(fid);
                }
            }

            @Override
            public void advised(Fid fid, String advice) {
                for (PoolListener l : ls) {
                    l.advised(fid, advice);
                }
            }
        };
    }
}
