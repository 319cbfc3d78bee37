package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** PUT and CompleteMultipartUpload with If-None-Match / If-Match, as S3 answers them. */
class ConditionalWritesTest {
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture();
        s3 = fx.client(true);
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static String put(String bucket, String key, Consumer<PutObjectRequest.Builder> cond) {
        return s3.putObject(b -> cond.accept(b.bucket(bucket).key(key)), RequestBody.fromString("v"))
                .eTag();
    }

    static void fails(int status, String code, Runnable r) {
        assertThatThrownBy(r::run).isInstanceOf(S3Exception.class).satisfies(t -> {
            assertThat(((S3Exception) t).statusCode()).isEqualTo(status);
            assertThat(((S3Exception) t).awsErrorDetails().errorCode()).isEqualTo(code);
        });
    }

    @Test
    void putIfNoneMatchAndIfMatch() {
        s3.createBucket(b -> b.bucket("cond"));
        String etag = put("cond", "obj", b -> b.ifNoneMatch("*"));
        fails(412, "PreconditionFailed", () -> put("cond", "obj", b -> b.ifNoneMatch("*")));
        fails(412, "PreconditionFailed", () -> put("cond", "obj", b -> b.ifNoneMatch(etag)));
        put("cond", "obj", b -> b.ifNoneMatch("\"badetag\""));
        put("cond", "obj", b -> b.ifMatch(etag));
        s3.deleteObject(b -> b.bucket("cond").key("obj"));
        fails(404, "NoSuchKey", () -> put("cond", "obj", b -> b.ifMatch("*")));
        fails(404, "NoSuchKey", () -> put("cond", "obj", b -> b.ifMatch("\"badetag\"")));
        put("cond", "obj", b -> b.ifNoneMatch(etag));
        put("cond", "obj", b -> b.ifMatch("*"));
        fails(412, "PreconditionFailed", () -> put("cond", "obj", b -> b.ifMatch("\"badetag\"")));
        put("cond", "obj", b -> b.ifMatch(etag));
    }

    static String complete(String key, Consumer<CompleteMultipartUploadRequest.Builder> cond) {
        String id = s3.createMultipartUpload(b -> b.bucket("condmp").key(key)).uploadId();
        String e = s3.uploadPart(
                        b -> b.bucket("condmp").key(key).uploadId(id).partNumber(1), RequestBody.fromString("abc"))
                .eTag();
        return s3.completeMultipartUpload(b -> cond.accept(b.bucket("condmp")
                        .key(key)
                        .uploadId(id)
                        .multipartUpload(m -> m.parts(
                                CompletedPart.builder().partNumber(1).eTag(e).build()))))
                .eTag();
    }

    @Test
    void completeIfNoneMatchAndIfMatch() {
        s3.createBucket(b -> b.bucket("condmp"));
        String etag = complete("obj", b -> b.ifNoneMatch("*"));
        fails(412, "PreconditionFailed", () -> complete("obj", b -> b.ifNoneMatch("*")));
        fails(412, "PreconditionFailed", () -> complete("obj", b -> b.ifNoneMatch(etag)));
        complete("obj", b -> b.ifNoneMatch("badetag"));
        String now = s3.headObject(b -> b.bucket("condmp").key("obj")).eTag();
        complete("obj", b -> b.ifMatch(now));
        s3.deleteObject(b -> b.bucket("condmp").key("obj"));
        fails(404, "NoSuchKey", () -> complete("obj", b -> b.ifMatch("*")));
        fails(404, "NoSuchKey", () -> complete("obj", b -> b.ifMatch("badetag")));
        complete("obj", b -> b.ifNoneMatch("*"));
        complete("obj", b -> b.ifMatch("*"));
    }

    @Test
    void racingIfNoneMatchWritersOneWins() throws Exception {
        s3.createBucket(b -> b.bucket("race"));
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            results.add(pool.submit(() -> {
                go.await();
                try {
                    put("race", "once", b -> b.ifNoneMatch("*"));
                    return true;
                } catch (S3Exception e) {
                    assertThat(e.statusCode()).isEqualTo(412);
                    return false;
                }
            }));
        }
        go.countDown();
        int won = 0;
        for (Future<Boolean> f : results) {
            won += f.get() ? 1 : 0;
        }
        pool.shutdown();
        // Whatever the interleaving: the check and the switch are one transaction.
        assertThat(won).isEqualTo(1);
    }
}
