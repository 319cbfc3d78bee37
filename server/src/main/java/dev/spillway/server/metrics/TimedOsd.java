package dev.spillway.server.metrics;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.filter.FilterTransaction;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

/**
 * A device of the pool with its latency measured: reads, transaction commits ({@code stop}, which
 * is where a durable transaction waits for its device) and syncs, into
 * {@code spillway_osd_operation_duration_seconds}. Overrides only what it times.
 */
final class TimedOsd extends FilterOsd {
    private final Timer read;
    private final Timer commit;
    private final Timer sync;

    TimedOsd(Osd in, PoolMetrics metrics) {
        super(in);
        this.read = metrics.osdTimer(in.name(), "read");
        this.commit = metrics.osdTimer(in.name(), "commit");
        this.sync = metrics.osdTimer(in.name(), "sync");
    }

    @Override
    public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
        long t0 = System.nanoTime();
        try {
            return super.read(fid, offset, dst);
        } finally {
            read.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void sync() throws OsdException {
        long t0 = System.nanoTime();
        try {
            super.sync();
        } finally {
            sync.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    // The device's own per-object sync (FilterOsd would run the default, a whole-device sync).
    @Override
    public void sync(Fid fid) throws OsdException {
        long t0 = System.nanoTime();
        try {
            in.sync(fid);
        } finally {
            sync.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    // The device's own sync of a batch (the default would sync each object through this wrapper).
    @Override
    public void sync(Collection<Fid> fids) throws OsdException {
        long t0 = System.nanoTime();
        try {
            in.sync(fids);
        } finally {
            sync.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public boolean exists(Fid fid) throws OsdException {
        return in.exists(fid);
    }

    @Override
    protected Transaction wrap(Transaction tx) {
        return new FilterTransaction(tx) {
            // close() stops a transaction not yet stopped: each commit is timed once.
            private boolean stopped;

            @Override
            public void stop() throws OsdException {
                if (stopped) {
                    super.stop();
                    return;
                }
                stopped = true;
                long t0 = System.nanoTime();
                try {
                    super.stop();
                } finally {
                    commit.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                }
            }

            @Override
            public void close() throws OsdException {
                if (stopped) {
                    super.close();
                    return;
                }
                stop();
            }
        };
    }

    @Override
    public String toString() {
        return "TimedOsd(" + in + ")";
    }
}
