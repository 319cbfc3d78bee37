package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.mem.MemOsd;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Every date the gateway writes, on every day of a month (the gateway's clock is set, so no
 * verdict depends on today's date): Last-Modified and Date as RFC 9110 IMF-fixdates with a
 * two-digit day, on success and error answers, and the ISO-8601 times of XML documents.
 */
class DateHeadersTest {
    static final Pattern IMF_FIXDATE = Pattern.compile(
            "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-3][0-9]) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                    + "([0-9]{4}) [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT");

    static void assertImfFixdate(String header, int day) {
        assertThat(header).isNotNull();
        Matcher m = IMF_FIXDATE.matcher(header);
        assertThat(m.matches()).as("IMF-fixdate: '%s'", header).isTrue();
        assertThat(Integer.parseInt(m.group(2))).isEqualTo(day);
    }

    @Test
    void everyDayOfDecember2026() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));
        try (GatewayFixture fx = new GatewayFixture(
                        MemOsd.create("dates"),
                        // The SDK signs with the real time; the gateway's clock is elsewhere in 2026.
                        GatewayConfig.builder().clock(clock).maxClockSkew(Duration.ofDays(365 * 100)));
                S3Client s3 = fx.client(true)) {
            s3.createBucket(b -> b.bucket("dates"));
            for (int day = 1; day <= 31; day++) {
                Instant t = LocalDate.of(2026, 12, day).atTime(15, 34, 39).toInstant(ZoneOffset.UTC);
                clock.set(t);
                String key = "k" + day;
                s3.putObject(b -> b.bucket("dates").key(key), RequestBody.fromString("x"));
                HeadObjectResponse h = s3.headObject(b -> b.bucket("dates").key(key));
                int d = day;
                assertImfFixdate(
                        h.sdkHttpResponse().firstMatchingHeader("Last-Modified").orElse(null), d);
                assertImfFixdate(h.sdkHttpResponse().firstMatchingHeader("Date").orElse(null), d);
                assertThat(h.lastModified()).isEqualTo(t);
                var g = s3.getObject(b -> b.bucket("dates").key(key), ResponseTransformer.toBytes());
                assertImfFixdate(
                        g.response()
                                .sdkHttpResponse()
                                .firstMatchingHeader("Last-Modified")
                                .orElse(null),
                        d);
                // An error answer carries a Date too.
                assertThatThrownBy(() -> s3.headObject(b -> b.bucket("dates").key("missing")))
                        .satisfies(e -> assertImfFixdate(
                                ((S3Exception) e)
                                        .awsErrorDetails()
                                        .sdkHttpResponse()
                                        .firstMatchingHeader("Date")
                                        .orElse(null),
                                d));
                // XML times: ISO-8601 with milliseconds and Z.
                var listed = s3.listObjectsV2(b -> b.bucket("dates").prefix(key))
                        .contents()
                        .get(0);
                assertThat(listed.lastModified()).isEqualTo(t);
                String copied = "c" + day;
                var copy = s3.copyObject(b -> b.sourceBucket("dates")
                        .sourceKey(key)
                        .destinationBucket("dates")
                        .destinationKey(copied));
                assertThat(copy.copyObjectResult().lastModified()).isEqualTo(t);
            }
        }
    }
}
