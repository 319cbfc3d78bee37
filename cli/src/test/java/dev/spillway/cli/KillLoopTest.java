package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.testkit.Seeds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Issue 12's SIGKILL loop: a real {@code spillway serve} (a child JVM, the embedded default pool
 * with a 32 MiB fast tier, so the tier is nearly full and the daemon spills the whole time) under
 * S3 writers — PUTs from 0 bytes to 6 MiB, 2-part multipart uploads, overwrites, deletes, reads —
 * killed with SIGKILL 20 times ({@code -Dspillway.killloop.kills=N} for a longer campaign), after a
 * first start that ends with SIGTERM (a clean stop under load). After every stop: an offline {@code spillway fsck} (a read-only check, which needs no space) is clean,
 * {@code serve} mounts again and answers, and every acknowledged write reads back byte-exact — a
 * request the kill cut may have left the old body or the new one, and nothing else. At the end an
 * offline {@code fsck --deep} of the last crash and of the clean stop after it are clean.
 *
 * <p>No verdict on timing: the kill comes after a number of acknowledged requests drawn from the
 * seed, every wait is for an event (the endpoint file, the first answer, the next acknowledgement)
 * and its bound only ends a run that hangs. Each writer owns its keys, so a key has at most one
 * request in flight. {@code -Dspillway.seed=X} replays the campaign's draws (the interleaving of
 * the three writers, and so the point each kill lands on, varies).
 */
class KillLoopTest {
    private static final long MIB = 1 << 20;
    private static final int KEYS = 36;
    private static final int WRITERS = 3;
    private static final String BUCKET = "loop";
    /** Ends a run that makes no progress (a hung mount, a request never answered); not a verdict on speed. */
    private static final Duration HANG = Duration.ofMinutes(4);
    /** The child JVMs start often and live seconds: the client compiler and serial GC spare the two cores. */
    private static final List<String> JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private static final Body ABSENT = new Body(0, -1);

    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killAll() {
        for (Process p : started) {
            p.destroyForcibly();
        }
    }

    /** A body the model can regenerate from its id; {@link #ABSENT} stands for "no object". */
    private record Body(long id, int length) {
        byte[] bytes() {
            byte[] b = new byte[length];
            new SplittableRandom(id).nextBytes(b);
            return b;
        }

        @Override
        public String toString() {
            return length < 0 ? "absent" : "body#" + Long.toHexString(id) + "(" + length + " B)";
        }
    }

    /** What the campaign counts, for its closing line. */
    private static final class Stats {
        final AtomicLong acked = new AtomicLong();
        final AtomicLong puts = new AtomicLong();
        final AtomicLong multipart = new AtomicLong();
        final AtomicLong deletes = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong slowDowns = new AtomicLong();
        final AtomicLong cut = new AtomicLong();
        long cutNew;
        long cutOld;
        long aborted;
        final List<Double> fastUse = new ArrayList<>();
    }

    @Test
    void everyKillMountsAgainAndEveryAcknowledgedWriteReadsBack() throws Exception {
        long seed = Seeds.master();
        int kills = Integer.getInteger("spillway.killloop.kills", 20);
        System.out.printf("KillLoopTest: seed 0x%x (replay: -Dspillway.seed=0x%x), %d kills%n", seed, seed, kills);
        Path data = tmp.resolve("data");
        SplittableRandom draws = new SplittableRandom(seed);
        Map<String, List<Body>> model = new ConcurrentHashMap<>();
        for (int k = 0; k < KEYS; k++) {
            model.put(key(k), List.of(ABSENT));
        }
        Stats st = new Stats();
        AtomicLong bodies = new AtomicLong(seed);
        long t0 = System.nanoTime();
        // The first start (it formats the pool) records an AOT cache of the classes serve loads
        // (JDK 25, JEP 514) as it stops on SIGTERM; the later starts load it and come up in about
        // half the time, which is most of this test's time.
        Path aot = Runtime.version().feature() >= 25 ? tmp.resolve("serve.aot") : null;
        String classpath = aot == null
                ? System.getProperty("java.class.path")
                : ServeChild.jarredClasspath(Files.createDirectories(tmp.resolve("cp")));
        for (int round = 0; ; round++) {
            boolean first = round == 0;
            long r0 = System.nanoTime();
            Path log = tmp.resolve("serve-" + round + ".log");
            List<String> jvm = new ArrayList<>(JVM);
            if (aot != null && first) {
                jvm.add("-XX:AOTCacheOutput=" + aot);
            } else if (aot != null && Files.exists(aot)) {
                jvm.add("-XX:AOTCache=" + aot);
            }
            Process p = ServeChild.startOn(classpath, data, log, jvm, "--fast-capacity", "32MiB");
            started.add(p);
            String where = "start " + round + " (seed 0x" + Long.toHexString(seed) + ", log " + log + ")";
            JsonNode ep;
            long up;
            long checked;
            try {
                ep = ServeChild.endpoint(data, p);
                up = System.nanoTime();
            } catch (AssertionError e) {
                throw new AssertionError("serve did not mount, " + where + ":\n" + tail(log), e);
            }
            try (S3Client s3 = client(data, ep)) {
                firstAnswer(s3, p, log);
                if (first) {
                    s3.createBucket(b -> b.bucket(BUCKET));
                }
                verify(s3, model, st, where);
                checked = System.nanoTime();
                if (round == kills + 1) {
                    break;
                }
                // The first start also trains the AOT cache: a few more requests for it to see.
                int target = (first ? 12 : 0) + draws.nextInt(25);
                long acked = writeUntilStopped(
                        s3, p, !first, data, target, model, st, bodies, seed ^ (round * 0x9E3779B97F4A7C15L), log);
                System.out.printf(
                        "KillLoopTest: start %d: serving after %.1f s, verified in %.1f s, %s after %d acknowledged"
                                + " requests (drawn %d) %.1f s later; %s%n",
                        round,
                        (up - r0) / 1e9,
                        (checked - up) / 1e9,
                        first ? "SIGTERM" : "SIGKILL",
                        acked,
                        target,
                        (System.nanoTime() - checked) / 1e9,
                        mountLine(log));
            }
            if (first) {
                // (Its exit code is the AOT cache dump's too: the final stop checks the code.)
                assertThat(Files.readString(log, StandardCharsets.UTF_8))
                        .as("a clean stop on SIGTERM, %s", where)
                        .contains("unmounted cleanly");
            }
            ServeChild.Run fsck = ServeChild.cli(data, "fsck");
            assertThat(fsck.code())
                    .as("offline fsck after %s:%n%s%s", where, fsck.out(), fsck.err())
                    .isZero();
            if (round == kills) {
                ServeChild.Run deep = ServeChild.cli(data, "fsck", "--deep");
                assertThat(deep.code())
                        .as("offline fsck --deep after the last kill:%n%s%s", deep.out(), deep.err())
                        .isZero();
            }
        }
        Process last = started.get(started.size() - 1);
        last.destroy();
        assertThat(last.waitFor(HANG.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(last.exitValue())
                .as("SIGTERM after the campaign: a clean stop")
                .isZero();
        ServeChild.Run deep = ServeChild.cli(data, "fsck", "--deep");
        assertThat(deep.code())
                .as("offline fsck --deep at the end:%n%s%s", deep.out(), deep.err())
                .isZero();
        assertThat(deep.out()).contains("clean");

        List<Double> use = new ArrayList<>(st.fastUse);
        Collections.sort(use);
        System.out.printf(
                "KillLoopTest: %d kills, %d starts in %.0f s; %d acknowledged requests (%d PUTs, %d multipart uploads,"
                        + " %d deletes, %d reads), %d 503 SlowDown, %d requests cut by a kill (%d found new, %d old),"
                        + " %d abandoned uploads aborted; fast tier at the kills: min %.0f%%, median %.0f%%, max %.0f%%%n",
                kills,
                kills + 2,
                (System.nanoTime() - t0) / 1e9,
                st.acked.get(),
                st.puts.get(),
                st.multipart.get(),
                st.deletes.get(),
                st.reads.get(),
                st.slowDowns.get(),
                st.cut.get(),
                st.cutNew,
                st.cutOld,
                st.aborted,
                use.isEmpty() ? 0 : 100 * use.get(0),
                use.isEmpty() ? 0 : 100 * use.get(use.size() / 2),
                use.isEmpty() ? 0 : 100 * use.get(use.size() - 1));
    }

    private static String key(int k) {
        return String.format("k%02d", k);
    }

    private static S3Client client(Path data, JsonNode ep) throws Exception {
        // No SDK retries: every request's fate is the test's to model (a 503 is retried below,
        // after its Retry-After). The socket timeout only ends a request that hangs.
        return ServeChild.s3(
                data,
                ep,
                b -> b.httpClient(UrlConnectionHttpClient.builder()
                                .socketTimeout(HANG)
                                .build())
                        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())));
    }

    /** Waits for the server's first S3 answer (it serves once its endpoint file is written; this proves it). */
    private static void firstAnswer(S3Client s3, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + HANG.toNanos();
        while (true) {
            try {
                s3.listBuckets();
                return;
            } catch (SdkClientException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("serve never answered:\n" + tail(log), e);
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Reads every key back: each must hold its acknowledged body (or be absent after an
     * acknowledged delete), or — for a request the kill cut — the old or the new one. The listing
     * must name exactly the keys that exist; abandoned multipart uploads are aborted (a full tier
     * must take an abort).
     */
    private static void verify(S3Client s3, Map<String, List<Body>> model, Stats st, String where) {
        Set<String> present = new TreeSet<>();
        for (int k = 0; k < KEYS; k++) {
            String key = key(k);
            List<Body> may = model.get(key);
            Body seen = read(s3, key, may, where);
            if (may.size() > 1) {
                // A request the kill cut: the first is the body before it.
                if (!seen.equals(may.get(0))) {
                    st.cutNew++;
                } else {
                    st.cutOld++;
                }
            }
            model.put(key, List.of(seen));
            if (seen != ABSENT) {
                present.add(key);
            }
        }
        Set<String> listed = new TreeSet<>();
        s3.listObjectsV2Paginator(b -> b.bucket(BUCKET)).contents().stream()
                .map(S3Object::key)
                .forEach(listed::add);
        assertThat(listed).as("the listing after the restart, %s", where).isEqualTo(present);
        var uploads = s3.listMultipartUploads(b -> b.bucket(BUCKET)).uploads();
        for (var u : uploads) {
            s3.abortMultipartUpload(b -> b.bucket(BUCKET).key(u.key()).uploadId(u.uploadId()));
            st.aborted++;
        }
        assertThat(s3.listMultipartUploads(b -> b.bucket(BUCKET)).uploads())
                .as("uploads after aborting every abandoned one, %s", where)
                .isEmpty();
    }

    /** The body written first of a cut request's two candidates: the one before the request. */
    private static Body oldest(List<Body> may) {
        return may.stream().filter(b -> b.length() < 0 || b != null).findFirst().orElseThrow();
    }

    private static Body read(S3Client s3, String key, List<Body> may, String where) {
        byte[] got;
        try {
            got = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
        } catch (NoSuchKeyException e) {
            assertThat(may)
                    .as("%s is gone, but may only be %s (%s)", key, may, where)
                    .contains(ABSENT);
            return ABSENT;
        }
        for (Body b : may) {
            if (b != ABSENT && b.length() == got.length && Arrays.equals(b.bytes(), got)) {
                return b;
            }
        }
        throw new AssertionError(
                key + " reads " + got.length + " bytes that are none of what it may hold " + may + " (" + where + ")");
    }

    /**
     * Runs the writers until {@code target} requests are acknowledged, then SIGKILLs the server
     * ({@code kill}; else SIGTERM) and waits for it to be gone and for every writer to have seen it.
     *
     * @return the acknowledged requests of this start
     */
    private long writeUntilStopped(
            S3Client s3,
            Process p,
            boolean kill,
            Path data,
            int target,
            Map<String, List<Body>> model,
            Stats st,
            AtomicLong bodies,
            long roundSeed,
            Path log)
            throws Exception {
        AtomicBoolean killed = new AtomicBoolean();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Object progress = new Object();
        long[] acked = {0};
        Thread[] ts = new Thread[WRITERS];
        for (int t = 0; t < WRITERS; t++) {
            int me = t;
            SplittableRandom r = new SplittableRandom(roundSeed + t);
            ts[t] = Thread.ofPlatform().name("writer-" + t).start(() -> {
                Writer w = new Writer(s3, model, st, killed, bodies, r, () -> {
                    st.acked.incrementAndGet();
                    synchronized (progress) {
                        acked[0]++;
                        progress.notifyAll();
                    }
                });
                try {
                    while (!killed.get()) {
                        w.step(key(me + WRITERS * r.nextInt(KEYS / WRITERS)));
                    }
                } catch (Throwable e) {
                    failures.add(Thread.currentThread().getName() + ": " + e);
                    e.printStackTrace();
                    synchronized (progress) {
                        progress.notifyAll();
                    }
                }
            });
        }
        long seen;
        synchronized (progress) {
            long last = -1;
            long quiet = System.nanoTime();
            while (acked[0] < target && failures.isEmpty()) {
                if (acked[0] != last) {
                    last = acked[0];
                    quiet = System.nanoTime();
                } else if (System.nanoTime() - quiet > HANG.toNanos()) {
                    failures.add("no request acknowledged for " + HANG + " (" + acked[0] + " of " + target + ")");
                    break;
                }
                progress.wait(1000);
            }
            seen = acked[0];
        }
        if (failures.isEmpty()) {
            st.fastUse.add(fastUse(data));
        }
        killed.set(true);
        if (kill) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        assertThat(p.waitFor(HANG.toSeconds(), TimeUnit.SECONDS))
                .as("the stopped server is gone")
                .isTrue();
        for (Thread t : ts) {
            t.join(HANG.toMillis());
            assertThat(t.isAlive())
                    .as("%s still waits on a killed server", t.getName())
                    .isFalse();
        }
        assertThat(failures).as("writers (server log %s):%n%s", log, tail(log)).isEmpty();
        return seen;
    }

    /** The fast tier's use just before a kill, from {@code spillway df}. */
    private static double fastUse(Path data) throws Exception {
        ServeChild.Run df = ServeChild.cli(data, "df", "--json");
        assertThat(df.code()).as(df.err()).isZero();
        JsonNode fast = new ObjectMapper().readTree(df.out()).path("devices").get(0);
        return fast.path("used").asDouble() / Math.max(1, fast.path("size").asDouble());
    }

    /** One writer's requests; the model of its own keys follows their answers. */
    private static final class Writer {
        private final S3Client s3;
        private final Map<String, List<Body>> model;
        private final Stats st;
        private final AtomicBoolean killed;
        private final AtomicLong bodies;
        private final SplittableRandom r;
        private final Runnable ack;

        Writer(
                S3Client s3,
                Map<String, List<Body>> model,
                Stats st,
                AtomicBoolean killed,
                AtomicLong bodies,
                SplittableRandom r,
                Runnable ack) {
            this.s3 = s3;
            this.model = model;
            this.st = st;
            this.killed = killed;
            this.bodies = bodies;
            this.r = r;
            this.ack = ack;
        }

        private Body newBody(int length) {
            return new Body(bodies.incrementAndGet() * 0x9E3779B97F4A7C15L, length);
        }

        /** 0 B to 64 KiB, to 1 MiB, to 6 MiB: many small objects and a few that fill the tier fast. */
        private int size() {
            int d = r.nextInt(100);
            if (d < 40) {
                return r.nextInt(64 << 10);
            }
            if (d < 75) {
                return (64 << 10) + r.nextInt(960 << 10);
            }
            return (int) MIB + r.nextInt(5 * (int) MIB);
        }

        void step(String key) throws InterruptedException {
            int d = r.nextInt(100);
            if (d < 55) {
                Body b = newBody(size());
                if (request(
                        key, b, () -> s3.putObject(x -> x.bucket(BUCKET).key(key), RequestBody.fromBytes(b.bytes())))) {
                    st.puts.incrementAndGet();
                }
            } else if (d < 65) {
                if (request(
                        key, ABSENT, () -> s3.deleteObject(x -> x.bucket(BUCKET).key(key)))) {
                    st.deletes.incrementAndGet();
                }
            } else if (d < 72) {
                multipart(key);
            } else {
                // This writer owns the key: nothing else is in flight on it, so it reads as modelled.
                List<Body> may = model.get(key);
                try {
                    read(s3, key, may, "a read while writing");
                    st.reads.incrementAndGet();
                    ack.run();
                } catch (SdkClientException e) {
                    cutOrFail(e);
                }
            }
        }

        /** A 5 MiB part and a smaller last one; only the completion changes what the key holds. */
        private void multipart(String key) throws InterruptedException {
            Body b = newBody((int) (5 * MIB) + 1 + r.nextInt((int) (2 * MIB)));
            byte[] all = b.bytes();
            String[] id = new String[1];
            if (!call(() -> id[0] =
                    s3.createMultipartUpload(x -> x.bucket(BUCKET).key(key)).uploadId())) {
                return;
            }
            List<CompletedPart> parts = new ArrayList<>();
            int[] bounds = {0, (int) (5 * MIB), all.length};
            for (int n = 1; n <= 2; n++) {
                int part = n;
                byte[] slice = Arrays.copyOfRange(all, bounds[n - 1], bounds[n]);
                String[] etag = new String[1];
                if (!call(() -> etag[0] = s3.uploadPart(
                                x -> x.bucket(BUCKET).key(key).uploadId(id[0]).partNumber(part),
                                RequestBody.fromBytes(slice))
                        .eTag())) {
                    return;
                }
                parts.add(CompletedPart.builder().partNumber(part).eTag(etag[0]).build());
            }
            if (request(
                    key,
                    b,
                    () -> s3.completeMultipartUpload(
                            x -> x.bucket(BUCKET).key(key).uploadId(id[0]).multipartUpload(m -> m.parts(parts))))) {
                st.multipart.incrementAndGet();
            }
        }

        /**
         * A request that leaves {@code key} holding {@code after} once acknowledged. A kill during it
         * leaves either; a {@code 503 SlowDown} (a PUT that found no room within the writer-wait)
         * stored nothing and is sent again after its {@code Retry-After}.
         *
         * @return whether it was acknowledged
         */
        private boolean request(String key, Body after, Runnable send) throws InterruptedException {
            List<Body> before = model.get(key);
            while (!killed.get()) {
                try {
                    send.run();
                    model.put(key, List.of(after));
                    ack.run();
                    return true;
                } catch (S3Exception e) {
                    slowDownOrFail(e, after == ABSENT);
                } catch (SdkClientException e) {
                    cutOrFail(e);
                    // The old body first, so that the verification can tell which one survived.
                    if (!before.contains(after)) {
                        List<Body> either = new ArrayList<>(before);
                        either.add(after);
                        model.put(key, List.copyOf(either));
                    }
                    st.cut.incrementAndGet();
                    return false;
                }
            }
            return false;
        }

        /** A request that changes no key (a multipart step before its completion). */
        private boolean call(Runnable send) throws InterruptedException {
            while (!killed.get()) {
                try {
                    send.run();
                    ack.run();
                    return true;
                } catch (S3Exception e) {
                    slowDownOrFail(e, false);
                } catch (SdkClientException e) {
                    cutOrFail(e);
                    return false;
                }
            }
            return false;
        }

        private void slowDownOrFail(S3Exception e, boolean freeing) throws InterruptedException {
            if (e.statusCode() != 503 || freeing) {
                // A delete or an abort gives space back: a full tier must take it. Anything else
                // than SlowDown is a failure of the server.
                throw e;
            }
            st.slowDowns.incrementAndGet();
            long s = e.awsErrorDetails()
                    .sdkHttpResponse()
                    .firstMatchingHeader("Retry-After")
                    .map(Long::parseLong)
                    .orElseThrow(() -> new AssertionError("503 without Retry-After: " + e.getMessage()));
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(s));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }

        /** A connection the kill broke is expected; one broken before it is the server's failure. */
        private void cutOrFail(SdkClientException e) {
            if (!killed.get()) {
                throw e;
            }
        }
    }

    private static String mountLine(Path log) {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(l -> l.contains("spillway: pool"))
                    .findFirst()
                    .orElse("(no mount line)");
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
