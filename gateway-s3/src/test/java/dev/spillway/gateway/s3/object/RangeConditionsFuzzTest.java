package dev.spillway.gateway.s3.object;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.store.Records.KeyRecord;
import dev.spillway.osd.Fid;
import dev.spillway.osd.testkit.fuzz.SeedCorpus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Coverage-guided fuzzing (Jazzer; {@code docs/fuzzing.md}) of the Range header and the
 * conditional headers (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since and their
 * x-amz-copy-source- forms).
 *
 * <ul>
 *   <li>{@link #range}: the input is the object's size (u32, big-endian) and the header value
 *       (as HTTP carries it, ISO-8859-1). {@link Ranges#parse} returns null (ignore the header),
 *       a range inside the object, or throws InvalidRange; nothing else.</li>
 *   <li>{@link #conditions}: the input is header lines ({@code name: value}); {@link
 *       Conditions#check} against an object with a known ETag and time passes or throws
 *       PreconditionFailed or NotModified (the latter only for GET/HEAD); nothing else. An
 *       {@code If-Match: *} or the object's own ETag never fails.</li>
 * </ul>
 */
class RangeConditionsFuzzTest {
    static final String ETAG = "6bcf86bed8807b8e78f0fc6e0a53079d";
    static final long MTIME = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    static final KeyRecord OBJECT =
            new KeyRecord(new Fid(0x200000401L, 1, 0), false, 1000, MTIME, ETAG, 0, null, null, List.of());

    @FuzzTest
    void range(byte[] input) {
        if (input.length < 4) {
            return;
        }
        long size = Integer.toUnsignedLong(ByteBuffer.wrap(input).getInt());
        String header = new String(input, 4, input.length - 4, StandardCharsets.ISO_8859_1);
        long[] r;
        try {
            r = Ranges.parse(header, size);
        } catch (S3Exception e) {
            assertThat(e.error()).isEqualTo(S3Error.INVALID_RANGE);
            return;
        }
        if (r != null) {
            assertThat(r).hasSize(2);
            assertThat(r[0]).as("first of %s in %d bytes", header, size).isBetween(0L, size - 1);
            assertThat(r[1]).as("last of %s in %d bytes", header, size).isBetween(r[0], size - 1);
        }
    }

    @FuzzTest
    void conditions(byte[] input) {
        Map<String, String> headers = new TreeMap<>();
        for (String line : new String(input, StandardCharsets.ISO_8859_1).split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(
                        line.substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        line.substring(colon + 1).strip());
            }
        }
        for (String prefix : new String[] {"", "x-amz-copy-source-"}) {
            try {
                Conditions.check(headers::get, prefix, OBJECT);
            } catch (S3Exception e) {
                if (prefix.isEmpty()) {
                    assertThat(e.error()).isIn(S3Error.PRECONDITION_FAILED, S3Error.NOT_MODIFIED);
                } else {
                    assertThat(e.error()).isEqualTo(S3Error.PRECONDITION_FAILED);
                }
                String ifMatch = headers.get(prefix + "if-match");
                if (e.error() == S3Error.PRECONDITION_FAILED
                        && ifMatch != null
                        && (ifMatch.equals("*") || ifMatch.equals("\"" + ETAG + "\""))) {
                    // If-Match held, so only If-None-Match or If-Modified-Since may have failed
                    assertThat(headers.get(prefix + "if-none-match") != null
                                    || headers.get(prefix + "if-modified-since") != null)
                            .as("%s failed although If-Match %s holds", headers, ifMatch)
                            .isTrue();
                }
            }
        }
    }

    static Map<String, byte[]> rangeSeeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        String[][] cases = {
            {"1000", "bytes=0-499"},
            {"1000", "bytes=500-"},
            {"1000", "bytes=-200"},
            {"0", "bytes=0-0"},
            {"1000", "bytes=900-1999"},
            {"1000", "bytes=0-1,5-6"}
        };
        for (String[] c : cases) {
            byte[] h = c[1].getBytes(StandardCharsets.ISO_8859_1);
            s.put(
                    c[1].replace('=', '-').replace(',', '_') + "-of-" + c[0],
                    ByteBuffer.allocate(4 + h.length)
                            .putInt(Integer.parseInt(c[0]))
                            .put(h)
                            .array());
        }
        return s;
    }

    static Map<String, byte[]> conditionSeeds() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("if-match", ("If-Match: \"" + ETAG + "\"\n").getBytes(StandardCharsets.ISO_8859_1));
        s.put(
                "if-none-match-weak-list",
                ("If-None-Match: W/\"x\", \"" + ETAG + "\"\n").getBytes(StandardCharsets.ISO_8859_1));
        s.put(
                "if-modified-since-rfc1123",
                "If-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\n".getBytes(StandardCharsets.ISO_8859_1));
        s.put(
                "if-unmodified-since-iso",
                "If-Unmodified-Since: 2025-12-31T23:59:59Z\n".getBytes(StandardCharsets.ISO_8859_1));
        s.put(
                "copy-source-all",
                ("x-amz-copy-source-if-match: *\nx-amz-copy-source-if-none-match: \"other\"\n"
                                + "x-amz-copy-source-if-modified-since: Wed, 31 Dec 2025 23:59:59 GMT\n"
                                + "x-amz-copy-source-if-unmodified-since: Fri, 02 Jan 2026 00:00:00 GMT\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
        return s;
    }

    @Test
    void seedCorporaAreCurrent() {
        SeedCorpus.of(getClass(), "range").check(rangeSeeds());
        SeedCorpus.of(getClass(), "conditions").check(conditionSeeds());
    }
}
