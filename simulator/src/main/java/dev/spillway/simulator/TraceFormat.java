package dev.spillway.simulator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The trace formats the simulator reads, each parsed as a stream (records are appended to a
 * {@link Trace.Builder} as they are decoded; nothing else is held).
 */
public enum TraceFormat {
    /**
     * libCacheSim's {@code oracleGeneral}: packed little-endian 24-byte records {@code uint32
     * clock_time, uint64 obj_id, uint32 obj_size, int64 next_access_vtime}. Every request is a
     * read; time and the next-access column are not needed (the trace computes its own).
     */
    ORACLE_GENERAL("oracle") {
        @Override
        void read(String name, InputStream in, Trace.Builder b) throws IOException {
            byte[] buf = new byte[24 * 4096];
            ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            long records = 0;
            while (true) {
                int n = in.readNBytes(buf, 0, buf.length);
                for (int at = 0; at + 24 <= n; at += 24) {
                    b.add(bb.getLong(at + 4), Integer.toUnsignedLong(bb.getInt(at + 12)), false);
                }
                records += n / 24;
                if (n % 24 != 0) {
                    throw new IOException(name + ": ends " + (n % 24) + " bytes into oracleGeneral record " + records
                            + " (records are 24 bytes): a truncated file?");
                }
                if (n < buf.length) {
                    return;
                }
            }
        }
    },
    /**
     * CloudPhysics block traces as Caffeine's simulator ships them ({@code cloud_physics/w106}):
     * big-endian unsigned 32-bit block ids, one per request, every block 4 KiB, all reads.
     */
    CLOUD_PHYSICS("cloudphysics") {
        @Override
        void read(String name, InputStream in, Trace.Builder b) throws IOException {
            byte[] buf = new byte[4 * 16384];
            ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.BIG_ENDIAN);
            while (true) {
                int n = in.readNBytes(buf, 0, buf.length);
                for (int at = 0; at + 4 <= n; at += 4) {
                    b.add(Integer.toUnsignedLong(bb.getInt(at)), BLOCK, false);
                }
                if (n % 4 != 0) {
                    throw new IOException(name + ": ends in the middle of a 4-byte block id, after " + b.length()
                            + " requests: a truncated file?");
                }
                if (n < buf.length) {
                    return;
                }
            }
        }
    },
    /**
     * The ARC paper's traces ({@code .lis}, Megiddo and Modha, FAST 2003): lines
     * {@code start_block n_blocks ignored request_no}; a line reads blocks {@code start ..
     * start+n-1}, each a 4 KiB object and one access.
     */
    ARC("arc") {
        @Override
        void read(String name, InputStream in, Trace.Builder b) throws IOException {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16);
            String line;
            long lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                int i = skipSpace(line, 0);
                if (i == line.length()) {
                    continue;
                }
                int j = token(line, i);
                int k = skipSpace(line, j);
                int l = token(line, k);
                if (k == l) {
                    throw new IOException(name + ":" + lineNo + ": want 'start_block n_blocks ...': '" + line + "'");
                }
                long start;
                long count;
                try {
                    start = Long.parseLong(line, i, j, 10);
                    count = Long.parseLong(line, k, l, 10);
                } catch (NumberFormatException e) {
                    throw new IOException(name + ":" + lineNo + ": not a number in '" + line + "'");
                }
                if (count < 0 || start < 0) {
                    throw new IOException(name + ":" + lineNo + ": negative block or count in '" + line + "'");
                }
                for (long x = 0; x < count; x++) {
                    b.add(start + x, BLOCK, false);
                }
            }
        }
    },
    /**
     * The LIRS paper's traces: one block number per line, {@code *} lines (checkpoints of the
     * original tool) skipped; every block 4 KiB, all reads.
     */
    LIRS("lirs") {
        @Override
        void read(String name, InputStream in, Trace.Builder b) throws IOException {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16);
            String line;
            long lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                String s = line.strip();
                if (s.isEmpty() || s.equals("*")) {
                    continue;
                }
                try {
                    b.add(Long.parseLong(s), BLOCK, false);
                } catch (NumberFormatException e) {
                    throw new IOException(name + ":" + lineNo + ": not a block number: '" + line + "'");
                }
            }
        }
    },
    /**
     * {@code time,object id,size,op} per line, an optional header line, {@code #} comments; the
     * time is checked but not used; object id numeric or any text; op one of {@code r read get}
     * or {@code w write put set} (missing: read).
     */
    CSV("csv") {
        @Override
        void read(String name, InputStream in, Trace.Builder b) throws IOException {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
            Map<String, Long> textIds = new HashMap<>();
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) {
                    continue;
                }
                String[] f = s.split(",");
                if (f.length < 3) {
                    throw new IOException(name + ":" + lineNo + ": want time,object id,size[,op]: '" + line + "'");
                }
                try {
                    Double.parseDouble(f[0].strip());
                } catch (NumberFormatException e) {
                    if (b.length() == 0) {
                        continue; // a header line
                    }
                    throw new IOException(name + ":" + lineNo + ": bad time '" + f[0] + "'");
                }
                String key = f[1].strip();
                long id;
                try {
                    id = Long.parseLong(key);
                } catch (NumberFormatException e) {
                    id = textIds.computeIfAbsent(key, k -> (long) textIds.size() + (1L << 62));
                }
                long size;
                try {
                    size = Long.parseLong(f[2].strip());
                } catch (NumberFormatException e) {
                    throw new IOException(name + ":" + lineNo + ": bad size '" + f[2] + "'");
                }
                if (size < 0) {
                    throw new IOException(name + ":" + lineNo + ": negative size " + size);
                }
                b.add(id, size, f.length > 3 && isWrite(f[3].strip(), name, lineNo));
            }
        }
    };

    /** Bytes of a block in the block-trace formats (no sizes recorded). */
    public static final long BLOCK = 4096;

    private final String prefix;

    TraceFormat(String prefix) {
        this.prefix = prefix;
    }

    /** The name used in {@code FORMAT:FILE}. */
    public String prefix() {
        return prefix;
    }

    abstract void read(String name, InputStream in, Trace.Builder b) throws IOException;

    /** The format a file name implies, or null if it implies none. */
    static TraceFormat byName(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        if (n.contains("oraclegeneral")) {
            return ORACLE_GENERAL;
        }
        if (n.matches(".*\\.lis(\\..*)?")) {
            return ARC;
        }
        if (n.matches(".*\\.csv(\\..*)?")) {
            return CSV;
        }
        if (n.matches("w\\d+([-_][\\w-]*)?\\.trace(\\..*)?")) {
            return CLOUD_PHYSICS;
        }
        return null;
    }

    static TraceFormat byPrefix(String p) {
        for (TraceFormat f : values()) {
            if (f.prefix.equals(p)) {
                return f;
            }
        }
        return null;
    }

    private static boolean isWrite(String op, String name, int lineNo) throws IOException {
        return switch (op.toLowerCase(Locale.ROOT)) {
            case "r", "read", "get", "" -> false;
            case "w", "write", "put", "set" -> true;
            default -> throw new IOException(name + ":" + lineNo + ": unknown op '" + op + "' (want read or write)");
        };
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static int token(String s, int i) {
        while (i < s.length() && !Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }
}
