package dev.spillway.pool.space;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Writers waiting for room ({@link RoomQueue}): in arrival order, the head alone tries (and
 * reclaims), each gives up with ENOSPC after its bound. No verdict here depends on how long
 * anything took: order and outcomes are checked, and waits end by events (room given, a deadline
 * the queue itself enforces).
 */
class RoomQueueTest {
    private static OsdException full() {
        return new OsdException(Errno.ENOSPC, "fast", null, "no room");
    }

    @Test
    void withRoomAWriterStartsAtOnceAndNeverQueues() throws Exception {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        AtomicInteger tries = new AtomicInteger();
        q.start(tries::incrementAndGet, null, 1, TimeUnit.SECONDS.toNanos(60), "tx 1");
        assertThat(tries.get()).isEqualTo(1);
        assertThat(q.stats().waited()).isZero();
    }

    @Test
    void aWriterThatNeverFindsRoomGetsEnospcNamingTheWaitAndTheCause() {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        AtomicInteger reclaims = new AtomicInteger();
        assertThatThrownBy(() -> q.start(
                        () -> {
                            throw full();
                        },
                        (bytes, deadline) -> {
                            reclaims.incrementAndGet();
                            return false;
                        },
                        4096,
                        TimeUnit.MILLISECONDS.toNanos(100),
                        "transaction 7"))
                .isInstanceOfSatisfying(OsdException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
                    assertThat(e.getMessage())
                            .contains("transaction 7")
                            .contains("4096 bytes")
                            .contains("after waiting")
                            .contains("no room")
                            .contains("retry later");
                });
        assertThat(reclaims.get()).isPositive();
        assertThat(q.stats().timedOut()).isEqualTo(1);
        assertThat(q.stats().waiting()).isZero();
    }

    @Test
    void otherErrorsAreNotWaitedOn() {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        assertThatThrownBy(() -> q.start(
                        () -> {
                            throw new OsdException(Errno.EIO, "fast", null, "broken");
                        },
                        null,
                        1,
                        TimeUnit.SECONDS.toNanos(60),
                        "tx"))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        assertThat(q.stats().waited()).isZero();
    }

    @Test
    void aZeroWaitFailsAtOnce() {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        assertThatThrownBy(() -> q.start(
                        () -> {
                            throw full();
                        },
                        null,
                        1,
                        0,
                        "tx"))
                .isInstanceOfSatisfying(
                        OsdException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOSPC));
    }

    /**
     * Three writers queue while the tier is full, in a known order; room then comes one
     * transaction's worth at a time. They start in arrival order, and only the head ever tried
     * or reclaimed while it was not its turn: the others waited.
     */
    @Test
    void writersStartInArrivalOrderAndOnlyTheHeadTries() throws Exception {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        AtomicInteger room = new AtomicInteger();
        List<String> started = new CopyOnWriteArrayList<>();
        List<String> tried = new CopyOnWriteArrayList<>();
        long wait = TimeUnit.MINUTES.toNanos(5);
        Thread[] ts = new Thread[3];
        CountDownLatch done = new CountDownLatch(3);
        for (int i = 0; i < 3; i++) {
            String name = "w" + i;
            ts[i] = Thread.ofPlatform().start(() -> {
                try {
                    q.start(
                            () -> {
                                tried.add(name);
                                while (true) {
                                    int r = room.get();
                                    if (r == 0) {
                                        throw full();
                                    }
                                    if (room.compareAndSet(r, r - 1)) {
                                        started.add(name);
                                        return;
                                    }
                                }
                            },
                            (bytes, deadline) -> false,
                            1,
                            wait,
                            name);
                } catch (OsdException e) {
                    started.add(name + " failed: " + e.getMessage());
                } finally {
                    done.countDown();
                }
            });
            // The next writer arrives only once this one is queued.
            while (q.stats().waiting() < i + 1) {
                Thread.onSpinWait();
            }
        }
        int triedBefore = tried.size();
        assertThat(tried).as("only the head tries while the tier is full").containsOnly("w0");
        for (int k = 1; k <= 3; k++) {
            room.incrementAndGet();
            q.roomMade();
            while (started.size() < k) {
                Thread.onSpinWait();
            }
        }
        assertThat(done.await(5, TimeUnit.MINUTES)).isTrue();
        assertThat(started).containsExactly("w0", "w1", "w2");
        assertThat(triedBefore).isPositive();
        assertThat(q.stats().waiting()).isZero();
        assertThat(q.stats().timedOut()).isZero();
    }

    /**
     * A transaction that does not wait (a delete, the pool's own spill or recovery work: FREEING
     * and RESERVED) is tried at once even while client writers queue for room — it is what makes
     * the room. It was refused with ENOSPC without a try (the cli's KillLoopTest saw a DELETE
     * answered 503 SlowDown on a full tier, seed 0xb4eeb945d28c02fb).
     */
    @Test
    void aTransactionThatDoesNotWaitIsTriedAtOnceWhileWritersQueue() throws Exception {
        RoomQueue q = new RoomQueue("p", System::nanoTime);
        AtomicInteger room = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                q.start(
                        () -> {
                            if (room.get() == 0) {
                                throw full();
                            }
                        },
                        (bytes, deadline) -> false,
                        1,
                        TimeUnit.MINUTES.toNanos(5),
                        "writer");
            } catch (OsdException e) {
                throw new IllegalStateException(e);
            } finally {
                done.countDown();
            }
        });
        while (q.stats().waiting() < 1) {
            Thread.onSpinWait();
        }
        AtomicInteger tries = new AtomicInteger();
        q.start(tries::incrementAndGet, null, 20508, 0, "a delete");
        assertThat(tries.get())
                .as("tried at once, not refused behind the queue")
                .isEqualTo(1);
        room.incrementAndGet();
        q.roomMade();
        assertThat(done.await(5, TimeUnit.MINUTES)).isTrue();
        writer.join();
        assertThat(q.stats().timedOut()).isZero();
    }
}
