package dev.spillway.simulator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Reads traces: libCacheSim's {@code oracleGeneral} binary format and a plain CSV.
 *
 * <p>oracleGeneral: packed little-endian 24-byte records {@code uint32 clock_time, uint64
 * obj_id, uint32 obj_size, int64 next_access_vtime} (-1: never again; virtual time counts
 * requests from 1, converted here to a 0-based request index). Every request is a read.
 *
 * <p>CSV: {@code time,object id,size,op} per line, an optional header line, {@code #} comments;
 * time in seconds (integer or decimal), object id numeric or any text, size in bytes, op one of
 * {@code r read get} or {@code w write put set} (missing: read).
 */
public final class TraceReader {
    private static final int RECORD = 24;
    /** Resource name of the trace bundled with the simulator. */
    public static final String BUNDLED = "traces/cloudPhysicsIO.oracleGeneral.bin";

    private TraceReader() {}

    /** The bundled CloudPhysics sample (113,872 requests). */
    public static Trace bundled() {
        try (InputStream in = TraceReader.class.getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IllegalStateException("bundled trace missing from the classpath: " + BUNDLED);
            }
            return oracleGeneral("cloudPhysicsIO", in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a file, choosing the format from its name: {@code .csv} or oracleGeneral. */
    public static Trace read(Path file) throws IOException {
        String n = file.getFileName().toString();
        if (n.toLowerCase(Locale.ROOT).endsWith(".csv")) {
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                return csv(n, r);
            }
        }
        return oracleGeneral(n, Files.readAllBytes(file));
    }

    /** Parses an oracleGeneral trace. */
    public static Trace oracleGeneral(String name, byte[] bytes) {
        if (bytes.length % RECORD != 0) {
            throw new IllegalArgumentException(
                    name + ": " + bytes.length + " bytes is not a whole number of 24-byte oracleGeneral records");
        }
        int n = bytes.length / RECORD;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long[] time = new long[n];
        long[] id = new long[n];
        long[] size = new long[n];
        long[] next = new long[n];
        for (int i = 0; i < n; i++) {
            int at = i * RECORD;
            time[i] = Integer.toUnsignedLong(b.getInt(at));
            id[i] = b.getLong(at + 4);
            size[i] = Integer.toUnsignedLong(b.getInt(at + 12));
            long v = b.getLong(at + 16);
            // libCacheSim counts virtual time from 1 (the first request is vtime 1): make it an index.
            next[i] = v < 0 ? Trace.NEVER : v - 1;
        }
        return new Trace(name, time, id, size, new boolean[n], next);
    }

    /** Parses the CSV form. */
    public static Trace csv(String name, BufferedReader r) throws IOException {
        long[] time = new long[1024];
        long[] id = new long[1024];
        long[] size = new long[1024];
        boolean[] write = new boolean[1024];
        Map<String, Long> textIds = new HashMap<>();
        int n = 0;
        int lineNo = 0;
        String line;
        while ((line = r.readLine()) != null) {
            lineNo++;
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            String[] f = s.split(",");
            if (f.length < 3) {
                throw new IllegalArgumentException(
                        name + ":" + lineNo + ": want time,object id,size[,op]: '" + line + "'");
            }
            double t;
            try {
                t = Double.parseDouble(f[0].strip());
            } catch (NumberFormatException e) {
                if (n == 0) {
                    continue; // a header line
                }
                throw new IllegalArgumentException(name + ":" + lineNo + ": bad time '" + f[0] + "'");
            }
            if (n == time.length) {
                time = Arrays.copyOf(time, n * 2);
                id = Arrays.copyOf(id, n * 2);
                size = Arrays.copyOf(size, n * 2);
                write = Arrays.copyOf(write, n * 2);
            }
            time[n] = (long) t;
            String key = f[1].strip();
            long oid;
            try {
                oid = Long.parseLong(key);
            } catch (NumberFormatException e) {
                oid = textIds.computeIfAbsent(key, k -> (long) textIds.size() + (1L << 62));
            }
            id[n] = oid;
            try {
                size[n] = Long.parseLong(f[2].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ":" + lineNo + ": bad size '" + f[2] + "'");
            }
            if (size[n] < 0) {
                throw new IllegalArgumentException(name + ":" + lineNo + ": negative size " + size[n]);
            }
            write[n] = f.length > 3 && isWrite(f[3].strip(), name, lineNo);
            n++;
        }
        return Trace.withComputedNextAccess(
                name, Arrays.copyOf(time, n), Arrays.copyOf(id, n), Arrays.copyOf(size, n), Arrays.copyOf(write, n));
    }

    private static boolean isWrite(String op, String name, int lineNo) {
        return switch (op.toLowerCase(Locale.ROOT)) {
            case "r", "read", "get", "" -> false;
            case "w", "write", "put", "set" -> true;
            default ->
                throw new IllegalArgumentException(
                        name + ":" + lineNo + ": unknown op '" + op + "' (want read or write)");
        };
    }
}
