package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.filter.FilterOsd;
import dev.spillway.osd.mem.MemOsd;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A GET of an object none of whose copies can be read (its only copy was on a failed device: the
 * pool answers the read with EIO naming the device and what to do) is answered with
 * {@code 503 ObjectUnavailable} carrying that message and the bucket/key — before any body byte,
 * not a generic 500 and not a body cut short.
 */
class ObjectUnavailableTest {
    /** A device whose body reads fail as a pool's do when the only copy was lost. */
    static final class LostBodies extends FilterOsd {
        final AtomicBoolean lost = new AtomicBoolean();

        LostBodies(Osd in) {
            super(in);
        }

        @Override
        public int read(Fid fid, long offset, ByteBuffer dst) throws OsdException {
            if (lost.get()) {
                throw new OsdException(
                        Errno.EIO,
                        name(),
                        fid,
                        "no copy left to read: its only copy was on failed device hdd0 (lost). Bring the device"
                                + " back if it can be (`spillway device set-state hdd0 rw`)");
            }
            return super.read(fid, offset, dst);
        }
    }

    @Test
    void aGetOfAnObjectWithNoReadableCopyIsA503ObjectUnavailableNamingTheKeyAndTheDevice() throws Exception {
        LostBodies osd = new LostBodies(MemOsd.create("pool"));
        try (GatewayFixture g = new GatewayFixture(osd, GatewayConfig.builder());
                S3Client s3 = g.client(true)) {
            s3.createBucket(b -> b.bucket("photos"));
            s3.putObject(b -> b.bucket("photos").key("cat.jpg"), RequestBody.fromBytes(new byte[100_000]));
            assertThat(s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.jpg"))
                            .asByteArray())
                    .hasSize(100_000);
            osd.lost.set(true);
            assertThatThrownBy(() -> s3.getObjectAsBytes(b -> b.bucket("photos").key("cat.jpg")))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(503);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ObjectUnavailable");
                        assertThat(e.awsErrorDetails().errorMessage())
                                .contains("photos/cat.jpg")
                                .contains("failed device hdd0")
                                .contains("set-state hdd0 rw");
                    });
            // A HEAD reads no body: it still answers.
            assertThat(s3.headObject(b -> b.bucket("photos").key("cat.jpg")).contentLength())
                    .isEqualTo(100_000);
        }
    }
}
