package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.auth.CredentialStore.Credential;
import dev.spillway.gateway.s3.auth.CredentialStore.User;
import dev.spillway.osd.mem.MemOsd;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketCannedACL;
import software.amazon.awssdk.services.s3.model.ObjectCannedACL;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Bucket policies: Allow and Deny for everyone or for users, actions and resources with
 * wildcards, conditions (s3:prefix, aws:SourceIp), public status, BlockPublicPolicy and
 * RestrictPublicBuckets, the 404-or-403 rule for a missing key, and what is refused rather than
 * accepted and ignored (from ceph/s3-tests' policy, policy-status, public-access-block and
 * object-ownership tests).
 */
class BucketPolicyTest {
    static GatewayFixture fx;
    static S3Client alice;
    static S3Client bob;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture(
                MemOsd.create("mem0"),
                GatewayConfig.builder(),
                CredentialStore.users(List.of(
                        new Credential("ALICEKEY", "alice-secret", new User("alice", "alice")),
                        new Credential("BOBKEY", "bob-secret", new User("bob", "bob")))));
        alice = fx.client("ALICEKEY", "alice-secret");
        bob = fx.client("BOBKEY", "bob-secret");
    }

    @AfterAll
    static void stop() throws Exception {
        alice.close();
        bob.close();
        fx.close();
    }

    static String code(Runnable r) {
        try {
            r.run();
            return "ok";
        } catch (S3Exception e) {
            return e.statusCode() + " " + e.awsErrorDetails().errorCode();
        }
    }

    static int anonymous(String method, String path) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fx.endpoint() + path));
        b.method(method, HttpRequest.BodyPublishers.noBody());
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    static String policy(String statements) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}";
    }

    static String statement(String effect, String principal, String action, String resource, String condition) {
        return "{\"Effect\":\"" + effect + "\",\"Principal\":" + principal + ",\"Action\":\"" + action
                + "\",\"Resource\":\"" + resource + "\"" + (condition == null ? "" : ",\"Condition\":" + condition)
                + "}";
    }

    static boolean isPublic(String bucket) {
        return alice.getBucketPolicyStatus(b -> b.bucket(bucket)).policyStatus().isPublic();
    }

    @Test
    void aPublicReadPolicyOpensObjectsToEveryoneAndNothingElse() throws Exception {
        alice.createBucket(b -> b.bucket("pol-read"));
        alice.putObject(b -> b.bucket("pol-read").key("doc"), RequestBody.fromString("hello"));
        assertThat(anonymous("GET", "/pol-read/doc")).isEqualTo(403);
        assertThat(isPublic("pol-read")).isFalse();
        String doc = policy(statement("Allow", "{\"AWS\":\"*\"}", "s3:GetObject", "arn:aws:s3:::pol-read/*", null));
        alice.putBucketPolicy(b -> b.bucket("pol-read").policy(doc));
        assertThat(alice.getBucketPolicy(b -> b.bucket("pol-read")).policy()).isEqualTo(doc);
        assertThat(isPublic("pol-read")).isTrue();
        assertThat(anonymous("GET", "/pol-read/doc")).isEqualTo(200);
        assertThat(bob.getObjectAsBytes(b -> b.bucket("pol-read").key("doc")).asUtf8String())
                .isEqualTo("hello");
        // Only GetObject: listing, writing and deleting stay the owner's.
        assertThat(anonymous("GET", "/pol-read")).isEqualTo(403);
        assertThat(code(() -> bob.listObjectsV2(b -> b.bucket("pol-read")))).isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.putObject(b -> b.bucket("pol-read").key("x"), RequestBody.fromString("x"))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.deleteObject(b -> b.bucket("pol-read").key("doc"))))
                .isEqualTo("403 AccessDenied");
        // A missing key is 403 to those who may not list the bucket (S3 tells them nothing).
        assertThat(anonymous("GET", "/pol-read/missing")).isEqualTo(403);
        assertThat(code(() -> bob.getBucketPolicy(b -> b.bucket("pol-read")))).isEqualTo("403 AccessDenied");
        alice.deleteBucketPolicy(b -> b.bucket("pol-read"));
        assertThat(anonymous("GET", "/pol-read/doc")).isEqualTo(403);
        assertThat(code(() -> alice.getBucketPolicy(b -> b.bucket("pol-read")))).isEqualTo("404 NoSuchBucketPolicy");
    }

    @Test
    void denyWinsOverAclsAndOwnershipButTheOwnerKeepsThePolicy() {
        alice.createBucket(b -> b.bucket("pol-deny").acl(BucketCannedACL.PUBLIC_READ));
        alice.putObject(
                b -> b.bucket("pol-deny").key("secret/a").acl(ObjectCannedACL.PUBLIC_READ),
                RequestBody.fromString("a"));
        alice.putObject(
                b -> b.bucket("pol-deny").key("open/b").acl(ObjectCannedACL.PUBLIC_READ), RequestBody.fromString("b"));
        alice.putBucketPolicy(b -> b.bucket("pol-deny")
                .policy(policy(statement(
                                "Deny",
                                "{\"AWS\":[\"arn:aws:iam::bob:root\"]}",
                                "s3:Get*",
                                "arn:aws:s3:::pol-deny/secret/*",
                                null)
                        + ","
                        + statement("Deny", "\"*\"", "s3:GetBucketPublicAccessBlock", "arn:aws:s3:::pol-deny", null))));
        assertThat(code(() -> bob.getObject(b -> b.bucket("pol-deny").key("secret/a"))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.getObject(b -> b.bucket("pol-deny").key("open/b"))))
                .isEqualTo("ok");
        assertThat(code(() -> alice.getObject(b -> b.bucket("pol-deny").key("secret/a"))))
                .isEqualTo("ok");
        // Deny applies to the owner too, except for managing the policy itself.
        assertThat(code(() -> alice.getPublicAccessBlock(b -> b.bucket("pol-deny"))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> alice.getBucketPolicy(b -> b.bucket("pol-deny")))).isEqualTo("ok");
        alice.deleteBucketPolicy(b -> b.bucket("pol-deny"));
        assertThat(code(() -> bob.getObject(b -> b.bucket("pol-deny").key("secret/a"))))
                .isEqualTo("ok");
    }

    /** DeleteObjects judges every key on its own under a policy: a Deny on some keys fails those keys only. */
    @Test
    void deleteObjectsIsJudgedKeyByKey() {
        alice.createBucket(b -> b.bucket("pol-multi"));
        for (String k : List.of("keep/a", "tmp/b")) {
            alice.putObject(b -> b.bucket("pol-multi").key(k), RequestBody.fromString(k));
        }
        alice.putBucketPolicy(b -> b.bucket("pol-multi")
                .policy(policy(
                        statement("Deny", "\"*\"", "s3:DeleteObject", "arn:aws:s3:::pol-multi/keep/*", null) + ","
                                + statement(
                                        "Allow",
                                        "{\"AWS\":\"bob\"}",
                                        "s3:DeleteObject",
                                        "arn:aws:s3:::pol-multi/tmp/*",
                                        null))));
        var r = bob.deleteObjects(b ->
                b.bucket("pol-multi").delete(d -> d.objects(o -> o.key("keep/a"), o -> o.key("tmp/b"))));
        assertThat(r.deleted()).extracting(x -> x.key()).containsExactly("tmp/b");
        assertThat(r.errors()).singleElement().satisfies(e -> {
            assertThat(e.key()).isEqualTo("keep/a");
            assertThat(e.code()).isEqualTo("AccessDenied");
        });
        var own = alice.deleteObjects(b -> b.bucket("pol-multi").delete(d -> d.objects(o -> o.key("keep/a"))));
        assertThat(own.errors())
                .singleElement()
                .satisfies(e -> assertThat(e.code()).isEqualTo("AccessDenied"));
        assertThat(alice.listObjectsV2(b -> b.bucket("pol-multi")).contents())
                .extracting(o -> o.key())
                .containsExactly("keep/a");
        alice.deleteBucketPolicy(b -> b.bucket("pol-multi"));
    }

    @Test
    void conditionsOnPrefixAndSourceAddress() throws Exception {
        alice.createBucket(b -> b.bucket("pol-cond"));
        alice.putObject(b -> b.bucket("pol-cond").key("public/x"), RequestBody.fromString("x"));
        alice.putBucketPolicy(b -> b.bucket("pol-cond")
                .policy(policy(statement(
                        "Allow",
                        "{\"AWS\":\"bob\"}",
                        "s3:ListBucket",
                        "arn:aws:s3:::pol-cond",
                        "{\"StringLike\":{\"s3:prefix\":\"public/*\"}}"))));
        assertThat(isPublic("pol-cond")).isFalse();
        assertThat(bob.listObjectsV2(b -> b.bucket("pol-cond").prefix("public/"))
                        .contents())
                .hasSize(1);
        assertThat(code(() -> bob.listObjectsV2(b -> b.bucket("pol-cond")))).isEqualTo("403 AccessDenied");
        // HEAD of a missing key: 404 where the key is a prefix bob may list, 403 elsewhere.
        assertThat(code(() -> bob.headObject(b -> b.bucket("pol-cond").key("public/none"))))
                .startsWith("404");
        assertThat(code(() -> bob.headObject(b -> b.bucket("pol-cond").key("private/none"))))
                .startsWith("403");

        String fromHere = statement(
                "Allow",
                "\"*\"",
                "s3:GetObject",
                "arn:aws:s3:::pol-cond/*",
                "{\"IpAddress\":{\"aws:SourceIp\":\"127.0.0.0/8\"}}");
        alice.putBucketPolicy(b -> b.bucket("pol-cond").policy(policy(fromHere)));
        assertThat(isPublic("pol-cond")).isFalse();
        assertThat(anonymous("GET", "/pol-cond/public/x")).isEqualTo(200);
        String elsewhere = statement(
                "Allow",
                "\"*\"",
                "s3:GetObject",
                "arn:aws:s3:::pol-cond/*",
                "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/32\"}}");
        alice.putBucketPolicy(b -> b.bucket("pol-cond").policy(policy(elsewhere)));
        assertThat(anonymous("GET", "/pol-cond/public/x")).isEqualTo(403);
        String notFromHere = statement(
                "Deny",
                "\"*\"",
                "s3:*",
                "arn:aws:s3:::pol-cond/*",
                "{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}");
        alice.putBucketPolicy(b -> b.bucket("pol-cond").policy(policy(notFromHere)));
        assertThat(code(() -> alice.getObject(b -> b.bucket("pol-cond").key("public/x"))))
                .isEqualTo("403 AccessDenied");
        alice.deleteBucketPolicy(b -> b.bucket("pol-cond"));
    }

    @Test
    void publicAccessBlockGovernsPublicPolicies() throws Exception {
        alice.createBucket(b -> b.bucket("pol-pab"));
        alice.putObject(b -> b.bucket("pol-pab").key("foo"), RequestBody.fromString("bar"));
        String open = policy(statement("Allow", "{\"AWS\":\"*\"}", "s3:GetObject", "arn:aws:s3:::pol-pab/*", null));
        alice.putBucketPolicy(b -> b.bucket("pol-pab").policy(open));
        assertThat(anonymous("GET", "/pol-pab/foo")).isEqualTo(200);
        alice.putPublicAccessBlock(
                b -> b.bucket("pol-pab").publicAccessBlockConfiguration(c -> c.restrictPublicBuckets(true)));
        assertThat(anonymous("GET", "/pol-pab/foo")).isEqualTo(403);
        assertThat(code(() -> bob.getObject(b -> b.bucket("pol-pab").key("foo"))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> alice.getObject(b -> b.bucket("pol-pab").key("foo"))))
                .isEqualTo("ok");
        alice.putPublicAccessBlock(
                b -> b.bucket("pol-pab").publicAccessBlockConfiguration(c -> c.blockPublicPolicy(true)));
        assertThat(code(() -> alice.putBucketPolicy(b -> b.bucket("pol-pab").policy(open))))
                .isEqualTo("403 AccessDenied");
        String toBob = policy(statement(
                "Allow", "{\"AWS\":\"arn:aws:iam::bob:root\"}", "s3:GetObject", "arn:aws:s3:::pol-pab/*", null));
        alice.putBucketPolicy(b -> b.bucket("pol-pab").policy(toBob));
        assertThat(code(() -> bob.getObject(b -> b.bucket("pol-pab").key("foo"))))
                .isEqualTo("ok");
    }

    @Test
    void whatCannotBeEnforcedIsRefusedNotIgnored() {
        alice.createBucket(b -> b.bucket("pol-bad"));
        String r = "arn:aws:s3:::pol-bad/*";
        for (String[] c : new String[][] {
            {"{not json", "400 MalformedPolicy"},
            {"{\"Version\":\"2012-10-17\"}", "400 MalformedPolicy"},
            {
                policy(
                        "{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"bob\"},\"Action\":\"s3:GetObject\",\"Resource\":\""
                                + r + "\"}"),
                "400 MalformedPolicy"
            },
            {
                policy("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":\"s3:GetObject\",\"Resource\":\"" + r
                        + "\"}"),
                "501 NotImplemented"
            },
            {
                policy(statement("Allow", "\"*\"", "s3:GetObject", "arn:aws:s3:::another-bucket/*", null)),
                "400 MalformedPolicy"
            },
            {policy(statement("Allow", "\"*\"", "ec2:RunInstances", r, null)), "400 MalformedPolicy"},
            {policy(statement("Maybe", "\"*\"", "s3:GetObject", r, null)), "400 MalformedPolicy"},
            {
                policy(statement("Allow", "{\"Service\":\"logging.s3.amazonaws.com\"}", "s3:GetObject", r, null)),
                "501 NotImplemented"
            },
            {
                policy(statement(
                        "Allow", "\"*\"", "s3:GetObject", r, "{\"StringEquals\":{\"s3:ExistingObjectTag/x\":\"y\"}}")),
                "501 NotImplemented"
            },
            {
                policy(statement(
                        "Allow", "\"*\"", "s3:GetObject", r, "{\"StringEqualsIfExists\":{\"s3:prefix\":\"y\"}}")),
                "501 NotImplemented"
            },
            {
                policy(statement(
                        "Allow", "\"*\"", "s3:GetObject", r, "{\"IpAddress\":{\"aws:SourceIp\":\"not-an-ip\"}}")),
                "400 MalformedPolicy"
            },
        }) {
            assertThat(code(() -> alice.putBucketPolicy(b -> b.bucket("pol-bad").policy(c[0]))))
                    .as(c[0])
                    .isEqualTo(c[1]);
        }
        assertThat(code(() -> alice.getBucketPolicy(b -> b.bucket("pol-bad")))).isEqualTo("404 NoSuchBucketPolicy");
    }
}
