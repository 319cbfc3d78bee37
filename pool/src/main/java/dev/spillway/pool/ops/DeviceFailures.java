package dev.spillway.pool.ops;

import dev.spillway.osd.OsdException;
import dev.spillway.pool.config.DeviceState;
import dev.spillway.pool.core.PoolContext;
import dev.spillway.pool.device.PoolDevice;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Gives up a device that tripped ({@code DeviceHealth}: too many consecutive I/O errors). The
 * trip comes on the thread whose call failed, which may hold object locks; here the device stops
 * being read or written at once (its in-memory state is FAILED) and the rest — FAILED persisted,
 * the lost-marking pass — runs on a thread of its own ({@link DeviceOps#setState}). Whoever
 * listens ({@link #onFailure}: the migration daemon, to restore replicas; tests) is told when a
 * device has failed, by a trip or by the admin.
 */
public final class DeviceFailures implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DeviceFailures.class.getName());

    private final PoolContext ctx;
    private final DeviceOps ops;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("spillway-device-failure").factory());
    private final List<Consumer<DeviceOps.StateChange>> listeners = new CopyOnWriteArrayList<>();
    // Device index -> the failure under way or done since the last trip of that device.
    private final Map<Integer, CompletableFuture<DeviceOps.StateChange>> failing = new ConcurrentHashMap<>();

    public DeviceFailures(PoolContext ctx, DeviceOps ops) {
        this.ctx = ctx;
        this.ops = ops;
        ops.onFailed(this::fire);
    }

    /**
     * Calls {@code l} after every device failure (tripped or set by the admin), on the failing
     * thread; it must return quickly (wake someone). Returns what unregisters it.
     */
    public Runnable onFailure(Consumer<DeviceOps.StateChange> l) {
        listeners.add(l);
        return () -> listeners.remove(l);
    }

    private void fire(DeviceOps.StateChange c) {
        for (Consumer<DeviceOps.StateChange> l : listeners) {
            try {
                l.accept(c);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "pool " + ctx.name() + ": a device-failure listener failed", e);
            }
        }
    }

    /**
     * Device {@code d} tripped with {@code cause}: it stops being read or written now, and is
     * failed (persisted, its copies marked lost) on the failure thread. Returns when that is done.
     */
    public CompletableFuture<DeviceOps.StateChange> trip(PoolDevice d, OsdException cause) {
        if (d == ctx.metadata()) {
            // The metadata device holds every layout: the pool cannot go on without it, and its
            // own errors reach every caller already.
            return CompletableFuture.failedFuture(cause);
        }
        return failing.compute(d.index(), (k, running) -> {
            if (running != null && !running.isDone()) {
                return running;
            }
            LOG.log(
                    System.Logger.Level.ERROR,
                    "pool " + ctx.name() + ": device " + d.name() + " failed its I/O repeatedly (last: "
                            + cause.getMessage() + "); it is failed now: its copies are lost, reads go to the"
                            + " other copies and the daemon restores replicas");
            d.state(DeviceState.FAILED);
            CompletableFuture<DeviceOps.StateChange> f = new CompletableFuture<>();
            try {
                worker.execute(() -> run(d, f));
            } catch (RejectedExecutionException closing) {
                // The pool is closing: the device is not used any more; the next mount sees it again.
                f.completeExceptionally(cause);
            }
            return f;
        });
    }

    /** Fails {@code d} for good (persisted, its copies marked lost), on the failure thread. */
    private void run(PoolDevice d, CompletableFuture<DeviceOps.StateChange> f) {
        try {
            f.complete(ops.setState(d, DeviceState.FAILED));
        } catch (OsdException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.ERROR,
                    "pool " + ctx.name() + ": failing device " + d.name() + " did not finish (" + e.getMessage()
                            + "); it is not read or written, and the pass resumes at the next mount or"
                            + " `spillway device set-state " + d.name() + " failed`",
                    e);
            f.completeExceptionally(e);
        }
    }

    /** The failure of {@code d} under way or done since its last trip, if any. */
    public CompletableFuture<DeviceOps.StateChange> failure(PoolDevice d) {
        return failing.getOrDefault(d.index(), CompletableFuture.completedFuture(null));
    }

    @Override
    public void close() {
        worker.shutdown();
    }
}
