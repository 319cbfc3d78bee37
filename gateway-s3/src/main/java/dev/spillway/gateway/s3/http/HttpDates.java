package dev.spillway.gateway.s3.http;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;

/**
 * HTTP dates as RFC 9110 §5.6.7 specifies them. Every date the gateway writes in a header
 * (Last-Modified, Date, x-amz-expiration, x-amz-restore, Expires it makes itself) is an
 * IMF-fixdate: {@code Sun, 06 Nov 1994 08:49:37 GMT}, always two digits for the day. Java's
 * {@code RFC_1123_DATE_TIME} prints one digit for days 1–9 ({@code Thu, 3 Dec 2026 ...}), which
 * strict clients reject, so it must not be used for writing.
 *
 * <p>Reading accepts what RFC 9110 says a recipient must: IMF-fixdate, the obsolete RFC 850
 * form ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994});
 * plus RFC 1123 with a one-digit day and ISO-8601, which S3 clients also send.
 */
public final class HttpDates {
    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter.ofPattern(
                    "EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);
    // The weekday of the obsolete forms is ignored: with a two-digit year it cannot be checked
    // against the date before the century is decided.
    private static final DateTimeFormatter RFC_850 = new DateTimeFormatterBuilder()
            .appendPattern("dd-MMM-")
            .appendValueReduced(ChronoField.YEAR, 2, 2, 1970)
            .appendPattern(" HH:mm:ss 'GMT'")
            .toFormatter(Locale.US);
    private static final DateTimeFormatter ASCTIME =
            DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

    private HttpDates() {}

    /** The IMF-fixdate of {@code t} (seconds; the fraction is dropped). */
    public static String format(Instant t) {
        return IMF_FIXDATE.format(t);
    }

    /** The IMF-fixdate of a time in epoch milliseconds. */
    public static String formatMillis(long epochMillis) {
        return format(Instant.ofEpochMilli(epochMillis));
    }

    /** The instant an HTTP date names, or null if it is none of the accepted forms. */
    public static Instant parse(String v) {
        if (v == null) {
            return null;
        }
        String s = v.strip();
        try {
            return ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            // next form
        }
        int comma = s.indexOf(", ");
        if (comma > 0 && s.indexOf('-') > comma) {
            try {
                // Two-digit years 70–99 are 19xx, 00–69 are 20xx.
                return LocalDateTime.parse(s.substring(comma + 2), RFC_850).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                // next form
            }
        }
        try {
            return LocalDateTime.parse(s, ASCTIME).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            // next form
        }
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
