package dev.spillway.gateway.s3.object;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;

/** The single byte range of a Range header: {@code a-b}, open {@code a-}, suffix {@code -n}. */
public final class Ranges {
    private Ranges() {}

    /**
     * The inclusive range {@code [first, last]} within an object of {@code size} bytes, or null
     * when the header is to be ignored (not a single bytes range), as HTTP allows.
     *
     * @throws S3Exception InvalidRange (416) when the range is unsatisfiable
     */
    public static long[] parse(String header, long size) throws S3Exception {
        String h = header.strip();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
            return null;
        }
        String spec = h.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash).strip();
            String b = spec.substring(dash + 1).strip();
            long first;
            long last;
            if (a.isEmpty()) {
                long n = Long.parseLong(b);
                if (n <= 0 || size == 0) {
                    throw unsatisfiable(header, size);
                }
                first = Math.max(0, size - n);
                last = size - 1;
            } else {
                first = Long.parseLong(a);
                last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
                if (!b.isEmpty() && Long.parseLong(b) < first) {
                    return null;
                }
                if (first >= size) {
                    throw unsatisfiable(header, size);
                }
            }
            return new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** An InvalidRange error naming the object's size. */
    public static S3Exception unsatisfiable(String header, long size) {
        return new S3Exception(
                S3Error.INVALID_RANGE,
                "The requested range is not satisfiable: '" + header + "' of an object of " + size + " bytes");
    }
}
