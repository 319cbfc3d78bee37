package dev.spillway.gateway.s3.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class HttpDatesTest {
    /** RFC 9110 §5.6.7 IMF-fixdate, exactly. */
    static final String IMF_FIXDATE =
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                    + "[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT";

    @Test
    void everyDayOfAMonthHasTwoDigits() {
        // December 2026: the "Thu, 3 Dec 2026" came from RFC_1123_DATE_TIME.
        for (int day = 1; day <= 31; day++) {
            Instant t = LocalDate.of(2026, 12, day).atTime(15, 34, 39).toInstant(ZoneOffset.UTC);
            String s = HttpDates.format(t);
            assertThat(s).matches(IMF_FIXDATE);
            assertThat(s).contains(String.format(" %02d Dec 2026 15:34:39 GMT", day));
            assertThat(HttpDates.parse(s)).isEqualTo(t);
        }
        assertThat(HttpDates.format(Instant.parse("2026-12-03T15:34:39.999Z")))
                .isEqualTo("Thu, 03 Dec 2026 15:34:39 GMT");
    }

    @Test
    void readsEveryFormRfc9110Accepts() {
        Instant t = Instant.parse("1994-11-06T08:49:37Z");
        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT")).isEqualTo(t);
        assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT")).isEqualTo(t);
        assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994")).isEqualTo(t);
        assertThat(HttpDates.parse("Sun, 6 Nov 1994 08:49:37 GMT")).isEqualTo(t);
        assertThat(HttpDates.parse("1994-11-06T08:49:37Z")).isEqualTo(t);
        assertThat(HttpDates.parse("yesterday")).isNull();
        assertThat(HttpDates.parse(null)).isNull();
    }
}
