package dev.spillway.simulator;

import com.github.luben.zstd.ZstdInputStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Opens trace files: {@code [FORMAT:]FILE}, the format from the prefix or else from the file's
 * name ({@code *oracleGeneral*}, {@code *.lis}, {@code *.csv}, {@code wNNN.trace}; see
 * {@link TraceFormat}), decompressed on the fly by suffix ({@code .xz}, {@code .zst},
 * {@code .gz}). The trace is decoded as a stream into its compact form.
 *
 * <p>Why these decoders: {@code org.tukaani:xz} is XZ for Java, the pure-Java implementation by
 * the xz project's own authors (what commons-compress delegates to); {@code zstd-jni} binds the
 * reference C library (pure-Java zstd decoders exist, e.g. aircompressor, but are not kept in
 * step with the format's reference implementation).
 */
public final class TraceReader {
    /** Resource name of the trace bundled with the simulator. */
    public static final String BUNDLED = "traces/cloudPhysicsIO.oracleGeneral.bin";

    private TraceReader() {}

    /** The bundled CloudPhysics sample (113,872 requests), which CI always has. */
    public static Trace bundled() {
        try (InputStream in = TraceReader.class.getResourceAsStream(BUNDLED)) {
            if (in == null) {
                throw new IllegalStateException("bundled trace missing from the classpath: " + BUNDLED);
            }
            return read("cloudPhysicsIO", TraceFormat.ORACLE_GENERAL, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a trace named by {@code [FORMAT:]FILE}. */
    public static Trace read(String spec) throws IOException {
        int colon = spec.indexOf(':');
        if (colon > 0) {
            TraceFormat f = TraceFormat.byPrefix(spec.substring(0, colon).toLowerCase(Locale.ROOT));
            if (f != null) {
                return read(Path.of(spec.substring(colon + 1)), f);
            }
        }
        return read(Path.of(spec));
    }

    /** Reads a file, the format implied by its name. */
    public static Trace read(Path file) throws IOException {
        String n = stripCompression(file.getFileName().toString());
        TraceFormat f = TraceFormat.byName(n);
        if (f == null) {
            throw new IOException(
                    file + ": cannot tell the trace format from the name; say it as FORMAT:FILE, FORMAT one of "
                            + Arrays.stream(TraceFormat.values())
                                    .map(TraceFormat::prefix)
                                    .collect(Collectors.joining(", ")));
        }
        return read(file, f);
    }

    public static Trace read(Path file, TraceFormat format) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such trace file");
        }
        try (InputStream in = decompressed(file)) {
            return read(stripCompression(file.getFileName().toString()), format, in);
        }
    }

    /** Decodes a stream (already decompressed) of {@code format}. */
    public static Trace read(String name, TraceFormat format, InputStream in) throws IOException {
        Trace.Builder b = new Trace.Builder(name);
        format.read(name, in, b);
        return b.build();
    }

    static InputStream decompressed(Path file) throws IOException {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        try {
            if (n.endsWith(".xz")) {
                return new XZInputStream(raw);
            }
            if (n.endsWith(".zst") || n.endsWith(".zstd")) {
                return new BufferedInputStream(new ZstdInputStream(raw), 1 << 16);
            }
            if (n.endsWith(".gz")) {
                return new GZIPInputStream(raw, 1 << 16);
            }
            return raw;
        } catch (IOException e) {
            raw.close();
            throw new IOException(
                    file + ": not a valid " + n.substring(n.lastIndexOf('.') + 1) + " stream: " + e.getMessage(), e);
        }
    }

    static String stripCompression(String n) {
        for (String s : new String[] {".xz", ".zst", ".zstd", ".gz"}) {
            if (n.toLowerCase(Locale.ROOT).endsWith(s)) {
                return n.substring(0, n.length() - s.length());
            }
        }
        return n;
    }
}
