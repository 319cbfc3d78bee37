package dev.spillway.server.admin;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Long admin operations (fsck, scrub, gc) run as tasks: the call that starts one answers at once
 * with its id, and {@code GET /api/tasks/ID} says how far it is (phase, done, total) and, once
 * finished, its result or error. That is what the CLI's progress bars poll; an HTTP request never
 * has to outlive a long walk.
 */
final class Tasks {
    /** The work of a task: reports progress, returns its result. */
    @FunctionalInterface
    interface Work {
        Map<String, Object> run(Task t) throws Exception;
    }

    /** One task. Its fields are written by its thread and read by polls. */
    static final class Task {
        final long id;
        final String op;
        final long startNanos = System.nanoTime();
        volatile String phase = "starting";
        volatile long done;
        volatile long total;
        volatile boolean finished;
        volatile Map<String, Object> result;
        volatile OsdException error;

        Task(long id, String op) {
            this.id = id;
            this.op = op;
        }

        void progress(String p, long d, long t) {
            phase = p;
            done = d;
            total = t;
        }

        Map<String, Object> view() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", id);
            m.put("op", op);
            m.put("phase", phase);
            m.put("done", done);
            m.put("total", total);
            m.put("elapsedSeconds", (System.nanoTime() - startNanos) / 1e9);
            m.put("finished", finished);
            if (result != null) {
                m.put("result", result);
            }
            if (error != null) {
                m.put("error", error.errno().name());
                m.put("message", error.detail());
            }
            return m;
        }
    }

    private static final int KEEP = 32;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Task> tasks = new ConcurrentHashMap<>();

    Task start(String op, Work work) {
        Task t = new Task(ids.incrementAndGet(), op);
        tasks.put(t.id, t);
        tasks.keySet().removeIf(id -> id <= t.id - KEEP);
        Thread.ofVirtual().name("spillway-admin-" + op + "-" + t.id).start(() -> {
            try {
                t.result = work.run(t);
            } catch (OsdException e) {
                t.error = e;
            } catch (Exception e) {
                t.error = new OsdException(Errno.EIO, null, null, op + " failed: " + e, e);
            } finally {
                t.finished = true;
            }
        });
        return t;
    }

    Task get(long id) throws OsdException {
        Task t = tasks.get(id);
        if (t == null) {
            throw new OsdException(
                    Errno.ENOENT, null, null, "no task " + id + " (the server keeps the last " + KEEP + ")");
        }
        return t;
    }
}
