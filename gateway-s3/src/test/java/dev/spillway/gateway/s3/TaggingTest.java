package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.TaggingDirective;

/** Object tagging: the x-amz-tagging header, Put/Get/DeleteObjectTagging, copies, multipart, limits. */
class TaggingTest {
    static GatewayFixture fx;
    static S3Client s3;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture();
        s3 = fx.client(true);
        s3.createBucket(b -> b.bucket("tags"));
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        fx.close();
    }

    static List<Tag> tags(String key) {
        return s3.getObjectTagging(b -> b.bucket("tags").key(key)).tagSet();
    }

    @Test
    void tagsFromPutHeadAndTheTaggingSubresource() {
        s3.putObject(b -> b.bucket("tags").key("k").tagging("a=1&b%20c=x%26y"), RequestBody.fromString("v"));
        assertThat(tags("k"))
                .containsExactly(
                        Tag.builder().key("a").value("1").build(),
                        Tag.builder().key("b c").value("x&y").build());
        assertThat(s3.getObject(b -> b.bucket("tags").key("k")).response().tagCount())
                .isEqualTo(2);
        s3.putObjectTagging(b -> b.bucket("tags")
                .key("k")
                .tagging(t -> t.tagSet(Tag.builder().key("only").value("").build())));
        assertThat(tags("k"))
                .containsExactly(Tag.builder().key("only").value("").build());
        s3.deleteObjectTagging(b -> b.bucket("tags").key("k"));
        assertThat(tags("k")).isEmpty();
        assertThat(s3.headObject(b -> b.bucket("tags").key("k"))
                        .sdkHttpResponse()
                        .firstMatchingHeader("x-amz-tagging-count"))
                .isEmpty();
        assertThatThrownBy(() -> tags("missing"))
                .satisfies(t -> assertThat(((S3Exception) t).statusCode()).isEqualTo(404));
    }

    @Test
    void limits() {
        s3.putObject(b -> b.bucket("tags").key("lim"), RequestBody.fromString("v"));
        List<Tag> eleven = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            eleven.add(Tag.builder().key("k" + i).value("v").build());
        }
        assertThatThrownBy(() ->
                        s3.putObjectTagging(b -> b.bucket("tags").key("lim").tagging(t -> t.tagSet(eleven))))
                .satisfies(t -> assertThat(((S3Exception) t).statusCode()).isEqualTo(400));
        assertThatThrownBy(() -> s3.putObjectTagging(b -> b.bucket("tags")
                        .key("lim")
                        .tagging(t -> t.tagSet(
                                Tag.builder().key("d").value("1").build(),
                                Tag.builder().key("d").value("2").build()))))
                .satisfies(t -> assertThat(((S3Exception) t).awsErrorDetails().errorCode())
                        .isEqualTo("InvalidTag"));
        assertThatThrownBy(() -> s3.putObjectTagging(b -> b.bucket("tags")
                        .key("lim")
                        .tagging(t -> t.tagSet(
                                Tag.builder().key("x".repeat(129)).value("1").build()))))
                .satisfies(t -> assertThat(((S3Exception) t).awsErrorDetails().errorCode())
                        .isEqualTo("InvalidTag"));
        assertThat(tags("lim")).isEmpty();
    }

    @Test
    void copiesAndMultipartCarryTags() {
        s3.putObject(b -> b.bucket("tags").key("src").tagging("from=src"), RequestBody.fromString("v"));
        s3.copyObject(b -> b.sourceBucket("tags")
                .sourceKey("src")
                .destinationBucket("tags")
                .destinationKey("copy"));
        assertThat(tags("copy"))
                .containsExactly(Tag.builder().key("from").value("src").build());
        s3.copyObject(b -> b.sourceBucket("tags")
                .sourceKey("src")
                .destinationBucket("tags")
                .destinationKey("replaced")
                .taggingDirective(TaggingDirective.REPLACE)
                .tagging("new=1"));
        assertThat(tags("replaced"))
                .containsExactly(Tag.builder().key("new").value("1").build());
        String id = s3.createMultipartUpload(b -> b.bucket("tags").key("mp").tagging("mp=yes"))
                .uploadId();
        String e = s3.uploadPart(
                        b -> b.bucket("tags").key("mp").uploadId(id).partNumber(1), RequestBody.fromString("x"))
                .eTag();
        s3.completeMultipartUpload(b -> b.bucket("tags")
                .key("mp")
                .uploadId(id)
                .multipartUpload(m ->
                        m.parts(CompletedPart.builder().partNumber(1).eTag(e).build())));
        assertThat(tags("mp"))
                .containsExactly(Tag.builder().key("mp").value("yes").build());
    }
}
