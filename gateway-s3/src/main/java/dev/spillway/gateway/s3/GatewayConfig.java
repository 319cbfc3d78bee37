package dev.spillway.gateway.s3;

import dev.spillway.gateway.s3.auth.CredentialStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How an {@link S3Gateway} listens and behaves.
 *
 * @param host the address to bind (loopback by default)
 * @param port the port, 0 for any free one
 * @param region the region clients must sign for, and GetBucketLocation answers
 * @param credentials access key → secret key
 * @param virtualHostDomains domains under which {@code BUCKET.domain} names a bucket
 *     (virtual-host-style addressing); any other Host means path-style
 * @param fidSequence the first FID sequence the gateway owns on the OSD
 * @param fidSequenceCount how many sequences from there it may use
 * @param clock time source for signatures, skew and record times
 * @param maxClockSkew how far a request's time may be from ours (S3: 15 minutes)
 * @param sweepInterval how often the garbage sweeper runs besides after commits
 * @param minPartSize the smallest part but the last of a multipart upload (S3: 5 MiB)
 * @param maxRequestHeaderBytes the largest request header section (S3-like limit: 8 KiB + URL)
 * @param multipartExpiry how long after it was initiated a multipart upload nobody completed or
 *     aborted is aborted (its parts removed); {@link Duration#ZERO} keeps uploads forever
 * @param retryAfter what a {@code 503 SlowDown} answer (a full fast tier) asks the client to wait
 *     before it retries ({@code Retry-After}, whole seconds, at least 1)
 */
public record GatewayConfig(
        String host,
        int port,
        String region,
        CredentialStore credentials,
        List<String> virtualHostDomains,
        long fidSequence,
        long fidSequenceCount,
        InstantSource clock,
        Duration maxClockSkew,
        Duration sweepInterval,
        long minPartSize,
        int maxRequestHeaderBytes,
        Duration multipartExpiry,
        Duration retryAfter) {

    /** The gateway's default first FID sequence: above Lustre's normal range start 0x200000400. */
    public static final long DEFAULT_FID_SEQUENCE = 0x300000400L;

    public GatewayConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(credentials, "credentials");
        virtualHostDomains = List.copyOf(virtualHostDomains);
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(multipartExpiry, "multipartExpiry");
        Objects.requireNonNull(retryAfter, "retryAfter");
        if (multipartExpiry.isNegative()) {
            throw new IllegalArgumentException("multipart expiry must not be negative (0: never)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link GatewayConfig}; every setting has a default but the credentials. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port;
        private String region = "us-east-1";
        private CredentialStore credentials = ak -> Optional.empty();
        private List<String> virtualHostDomains = List.of("localhost");
        private long fidSequence = DEFAULT_FID_SEQUENCE;
        private long fidSequenceCount = 1L << 20;
        private InstantSource clock = InstantSource.system();
        private Duration maxClockSkew = Duration.ofMinutes(15);
        private Duration sweepInterval = Duration.ofSeconds(10);
        private long minPartSize = 5L << 20;
        private int maxRequestHeaderBytes = 16 << 10;
        private Duration multipartExpiry = Duration.ofDays(7);
        private Duration retryAfter = Duration.ofSeconds(1);

        public Builder host(String v) {
            host = v;
            return this;
        }

        public Builder port(int v) {
            port = v;
            return this;
        }

        public Builder region(String v) {
            region = v;
            return this;
        }

        public Builder credentials(CredentialStore v) {
            credentials = v;
            return this;
        }

        public Builder virtualHostDomains(List<String> v) {
            virtualHostDomains = v;
            return this;
        }

        public Builder fidSequence(long first, long count) {
            fidSequence = first;
            fidSequenceCount = count;
            return this;
        }

        public Builder clock(InstantSource v) {
            clock = v;
            return this;
        }

        public Builder maxClockSkew(Duration v) {
            maxClockSkew = v;
            return this;
        }

        public Builder sweepInterval(Duration v) {
            sweepInterval = v;
            return this;
        }

        public Builder minPartSize(long v) {
            minPartSize = v;
            return this;
        }

        public Builder maxRequestHeaderBytes(int v) {
            maxRequestHeaderBytes = v;
            return this;
        }

        /** Uploads not completed or aborted this long after initiation are aborted; ZERO: never (default 7 days). */
        public Builder multipartExpiry(Duration v) {
            multipartExpiry = v;
            return this;
        }

        /** The {@code Retry-After} of a {@code 503 SlowDown} answer (default 1 s). */
        public Builder retryAfter(Duration v) {
            retryAfter = v;
            return this;
        }

        public GatewayConfig build() {
            return new GatewayConfig(
                    host,
                    port,
                    region,
                    credentials,
                    virtualHostDomains,
                    fidSequence,
                    fidSequenceCount,
                    clock,
                    maxClockSkew,
                    sweepInterval,
                    minPartSize,
                    maxRequestHeaderBytes,
                    multipartExpiry,
                    retryAfter);
        }
    }
}
