package dev.spillway.bench.vfs;

import dev.spillway.bench.AbRunner;
import dev.spillway.bench.BenchOptions;
import dev.spillway.bench.BenchResult;
import dev.spillway.bench.Benchmark;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code vfs-large}: one large object written and made durable, then read, through osd-vfs in
 * both journal modes, against raw {@link FileChannel} I/O on the same filesystem with the same
 * durability (file fsync plus the fsync of its new directory entry). Goal: ratio >= 0.90.
 */
public final class VfsLargeBenchmark implements Benchmark {
    private static final int CHUNK = 1 << 20;
    private static final String GOAL = ">= 0.90";

    @Override
    public String name() {
        return "vfs-large";
    }

    @Override
    public String description() {
        return "64 MiB object write+sync and read on osd-vfs (journal off/on) vs raw FileChannel; goal >= 0.90";
    }

    @Override
    public List<BenchResult> run(BenchOptions o) throws Exception {
        // The goal's size in both modes: --quick runs fewer rounds, not a smaller object.
        long size = 64L << 20;
        int rounds = o.quick() ? 11 : 21;
        int warmups = o.quick() ? 2 : 3;
        int passes = 4; // reads of a hot object are fast: several per sample
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK);
        byte[] fill = new byte[CHUNK];
        new Random(42).nextBytes(fill);
        chunk.put(fill).flip();
        ByteBuffer into = ByteBuffer.allocateDirect(CHUNK);
        Path raw = Files.createDirectories(o.workDir().resolve("raw"));
        List<BenchResult> out = new ArrayList<>();
        for (String mode : List.of("off", "on")) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("path", o.workDir().resolve("vfs-" + mode).toString());
            s.put("journal", mode);
            try (Osd osd = Osds.open(OsdConfig.of("bench-" + mode, "vfs", s))) {
                int[] seq = {0};
                warmUp(osd, raw, chunk, into, o);
                o.log().printf("vfs-large, journal %s: write %d MiB + sync, %d rounds%n", mode, size >> 20, rounds);
                AbRunner.Medians w = AbRunner.alternate(
                        warmups,
                        rounds,
                        () -> mibPerSecond(
                                size,
                                writeObject(osd, Fid.of(0x900000000L, ++seq[0]), size, chunk),
                                true,
                                osd,
                                Fid.of(0x900000000L, seq[0])),
                        () -> mibPerSecond(size, writeRaw(raw, "w" + (++seq[0]), size, chunk), false, null, null),
                        o.log());
                Fid readFid = Fid.of(0x900000001L, 1);
                writeObject(osd, readFid, size, chunk);
                Path readFile = raw.resolve("read");
                writeRaw(raw, "read", size, chunk);
                o.log()
                        .printf(
                                "vfs-large, journal %s: read %d MiB (page cache hot for both), %d rounds%n",
                                mode, size >> 20, rounds);
                AbRunner.Medians r = AbRunner.alternate(
                        warmups,
                        rounds,
                        () -> {
                            long ns = 0;
                            for (int i = 0; i < passes; i++) {
                                ns += readObject(osd, readFid, size, into);
                            }
                            return (double) passes * size / (1 << 20) / seconds(ns);
                        },
                        () -> {
                            long ns = 0;
                            for (int i = 0; i < passes; i++) {
                                ns += readRaw(readFile, into);
                            }
                            return (double) passes * size / (1 << 20) / seconds(ns);
                        },
                        o.log());
                Files.delete(readFile);
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("object_bytes", size);
                p.put("io_bytes", CHUNK);
                p.put("journal", mode);
                p.put("rounds", rounds);
                p.put("warmups", warmups);
                p.put(
                        "durability",
                        mode.equals("on")
                                ? "durable commit (staged body fsync + log fsync)"
                                : "sync(fid): body, record and directory fsync");
                p.put("baseline", "FileChannel write + force + directory fsync, same filesystem");
                p.put(
                        "filesystem",
                        raw.getFileSystem().provider().getFileStore(raw).type());
                p.put(
                        "device_state",
                        "steady: 1,024 objects made before measuring, so no first-use mkdir of a hash directory");
                out.add(BenchResult.higherIsBetter(
                        name(), "write_sync_mib_s_journal_" + mode, w.a(), w.b(), "MiB/s", GOAL, p));
                Map<String, Object> pr = new LinkedHashMap<>(p);
                pr.remove("durability");
                pr.put("baseline", "FileChannel read, same filesystem, page cache hot");
                pr.put("reads_per_sample", passes);
                out.add(BenchResult.higherIsBetter(
                        name(), "read_mib_s_journal_" + mode, r.a(), r.b(), "MiB/s", GOAL, pr));
            }
        }
        return out;
    }

    /**
     * Runs both code paths until the JIT has compiled them (thousands of calls), so the
     * measured rounds compare compiled code with compiled code.
     */
    private static void warmUp(Osd osd, Path raw, ByteBuffer chunk, ByteBuffer into, BenchOptions o) throws Exception {
        long t0 = System.nanoTime();
        // Steady state: a device in use has made all 256 of its hash directories long ago, so
        // the measured creates should not pay a first-use mkdir. 1,024 empty objects make them.
        for (int i = 0; i < 1024; i++) {
            writeObject(osd, Fid.of(0x900000004L, i + 1), 0, chunk);
        }
        long small = 8L << 20;
        Fid fid = Fid.of(0x900000002L, 1);
        Path file = raw.resolve("warm");
        for (int i = 0; i < 40; i++) {
            writeObject(osd, Fid.of(0x900000003L, i + 1), small, chunk);
            mibPerSecond(small, 1, true, osd, Fid.of(0x900000003L, i + 1));
            writeRaw(raw, "warm-w", small, chunk);
        }
        writeObject(osd, fid, small, chunk);
        writeRaw(raw, "warm", small, chunk);
        for (int i = 0; i < 400; i++) {
            readObject(osd, fid, small, into);
            readRaw(file, into);
        }
        mibPerSecond(small, 1, true, osd, fid);
        Files.delete(file);
        o.log().printf("  warm-up: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }

    /** Converts, and cleans up after the sample (outside the timing). */
    private static double mibPerSecond(long size, long nanos, boolean object, Osd osd, Fid fid) throws Exception {
        if (object) {
            try (Transaction t = osd.newTransaction()) {
                t.declareDestroy(fid);
                t.start();
                t.destroy(fid);
            }
            osd.sync();
        }
        return (double) size / (1 << 20) / seconds(nanos);
    }

    static long writeObject(Osd osd, Fid fid, long size, ByteBuffer chunk) throws Exception {
        long t0 = System.nanoTime();
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(fid, ObjectKind.DATA);
            t.declareWrite(fid, 0, size);
            t.start();
            t.create(fid, ObjectKind.DATA, AttrChange.none());
            for (long off = 0; off < size; off += CHUNK) {
                t.write(fid, off, chunk.duplicate());
            }
        }
        osd.sync(fid);
        return System.nanoTime() - t0;
    }

    static long writeRaw(Path dir, String name, long size, ByteBuffer chunk) throws Exception {
        Path f = dir.resolve(name);
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long off = 0; off < size; off += CHUNK) {
                ByteBuffer b = chunk.duplicate();
                long pos = off;
                while (b.hasRemaining()) {
                    pos += ch.write(b, pos);
                }
            }
            ch.force(false);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
        long t = System.nanoTime() - t0;
        if (!name.equals("read") && !name.equals("warm")) {
            // Clean up as the Spillway side does (destroy + sync), outside the timing, so that
            // neither side's next sample pays for the other's deletion.
            Files.delete(f);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            }
        }
        return t;
    }

    static long readObject(Osd osd, Fid fid, long size, ByteBuffer into) throws Exception {
        long t0 = System.nanoTime();
        long total = 0;
        for (long off = 0; off < size; off += CHUNK) {
            into.clear();
            total += osd.read(fid, off, into);
        }
        if (total != size) {
            throw new IllegalStateException("read " + total + " of " + size);
        }
        return System.nanoTime() - t0;
    }

    static long readRaw(Path f, ByteBuffer into) throws Exception {
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long pos = 0;
            while (true) {
                into.clear();
                int n = ch.read(into, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
        }
        return System.nanoTime() - t0;
    }
}
