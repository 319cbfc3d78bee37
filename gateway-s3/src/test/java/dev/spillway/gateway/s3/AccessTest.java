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
import software.amazon.awssdk.services.s3.model.Grant;
import software.amazon.awssdk.services.s3.model.ObjectCannedACL;
import software.amazon.awssdk.services.s3.model.ObjectOwnership;
import software.amazon.awssdk.services.s3.model.Permission;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.Type;

/**
 * Access: two credentials of two users, buckets owned by the user that made them, canned ACLs
 * and grants (private, public-read, public-read-write, authenticated-read, bucket-owner-*),
 * anonymous requests allowed only where an ACL grants everyone, PublicAccessBlock, ownership
 * controls, x-amz-expected-bucket-owner.
 */
class AccessTest {
    static final User ALICE = new User("alice", "Alice");
    static final User BOB = new User("bob", "Bob");
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
                        new Credential("ALICEKEY", "alice-secret", ALICE),
                        new Credential("BOBKEY", "bob-secret", BOB))));
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

    static int anonymous(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(fx.endpoint() + path));
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void bucketsBelongToTheirCreatorAndOthersAreRefused() throws Exception {
        alice.createBucket(b -> b.bucket("alices"));
        alice.putObject(b -> b.bucket("alices").key("k"), RequestBody.fromString("a"));
        assertThat(code(() -> bob.createBucket(b -> b.bucket("alices")))).isEqualTo("409 BucketAlreadyExists");
        assertThat(code(() -> bob.getObject(b -> b.bucket("alices").key("k")))).isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.putObject(b -> b.bucket("alices").key("b"), RequestBody.fromString("b"))))
                .isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.listObjectsV2(b -> b.bucket("alices")))).isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.deleteBucket(b -> b.bucket("alices")))).isEqualTo("403 AccessDenied");
        assertThat(code(() -> bob.putBucketVersioning(
                        b -> b.bucket("alices").versioningConfiguration(v -> v.status("Enabled")))))
                .isEqualTo("403 AccessDenied");
        assertThat(bob.listBuckets().buckets()).noneMatch(x -> x.name().equals("alices"));
        assertThat(alice.listBuckets().owner().id()).isEqualTo("alice");
        assertThat(alice.listBuckets().buckets()).anyMatch(x -> x.name().equals("alices"));
        assertThat(anonymous("GET", "/alices/k", null)).isEqualTo(403);
        assertThat(anonymous("GET", "/alices", null)).isEqualTo(403);
        assertThat(anonymous("GET", "/gone-bucket/k", null)).isEqualTo(404);
        // The bucket's ACL answers its owner's FULL_CONTROL.
        var acl = alice.getBucketAcl(b -> b.bucket("alices"));
        assertThat(acl.owner().id()).isEqualTo("alice");
        assertThat(acl.grants()).singleElement().satisfies(g -> {
            assertThat(g.grantee().id()).isEqualTo("alice");
            assertThat(g.permission()).isEqualTo(Permission.FULL_CONTROL);
        });
        assertThat(code(() -> alice.listObjects(b -> b.bucket("alices").expectedBucketOwner("bob"))))
                .isEqualTo("403 AccessDenied");
    }

    @Test
    void publicReadLetsEveryoneReadAndListButNotWrite() throws Exception {
        alice.createBucket(b -> b.bucket("pub").acl(BucketCannedACL.PUBLIC_READ));
        alice.putObject(b -> b.bucket("pub").key("open").acl(ObjectCannedACL.PUBLIC_READ), RequestBody.fromString("o"));
        alice.putObject(b -> b.bucket("pub").key("closed"), RequestBody.fromString("c"));
        assertThat(anonymous("GET", "/pub/open", null)).isEqualTo(200);
        assertThat(anonymous("HEAD", "/pub/open", null)).isEqualTo(200);
        assertThat(anonymous("GET", "/pub", null)).isEqualTo(200);
        assertThat(anonymous("GET", "/pub/closed", null)).isEqualTo(403);
        assertThat(anonymous("GET", "/pub/missing", null)).isEqualTo(404);
        assertThat(anonymous("PUT", "/pub/new", "x")).isEqualTo(403);
        assertThat(code(() -> bob.getObject(b -> b.bucket("pub").key("open")))).isEqualTo("ok");
        var grants = alice.getObjectAcl(b -> b.bucket("pub").key("open")).grants();
        assertThat(grants).extracting(Grant::permission).containsExactly(Permission.READ, Permission.FULL_CONTROL);
        assertThat(grants.get(0).grantee().type()).isEqualTo(Type.GROUP);
        // PublicAccessBlock: IgnorePublicAcls makes the bucket private again, BlockPublicAcls refuses new ones.
        alice.putPublicAccessBlock(b -> b.bucket("pub")
                .publicAccessBlockConfiguration(p -> p.ignorePublicAcls(true).blockPublicAcls(true)));
        assertThat(anonymous("GET", "/pub/open", null)).isEqualTo(403);
        assertThat(code(() -> alice.putObject(
                        b -> b.bucket("pub").key("again").acl(ObjectCannedACL.PUBLIC_READ),
                        RequestBody.fromString("x"))))
                .isEqualTo("403 AccessDenied");
        assertThat(alice.getBucketPolicyStatus(b -> b.bucket("pub"))
                        .policyStatus()
                        .isPublic())
                .isFalse();
        alice.deletePublicAccessBlock(b -> b.bucket("pub"));
        assertThat(alice.getBucketPolicyStatus(b -> b.bucket("pub"))
                        .policyStatus()
                        .isPublic())
                .isTrue();
        assertThat(anonymous("GET", "/pub/open", null)).isEqualTo(200);
        assertThat(code(() -> alice.getPublicAccessBlock(b -> b.bucket("pub"))))
                .isEqualTo("404 NoSuchPublicAccessBlockConfiguration");
    }

    @Test
    void publicReadWriteLetsOthersWriteAndTheWriterOwnsWhatItWrote() throws Exception {
        alice.createBucket(b -> b.bucket("shared"));
        alice.putBucketAcl(b -> b.bucket("shared").acl(BucketCannedACL.PUBLIC_READ_WRITE));
        assertThat(anonymous("PUT", "/shared/anon", "x")).isEqualTo(200);
        bob.putObject(
                b -> b.bucket("shared").key("bobs").acl(ObjectCannedACL.BUCKET_OWNER_READ),
                RequestBody.fromString("b"));
        var acl = bob.getObjectAcl(b -> b.bucket("shared").key("bobs"));
        assertThat(acl.owner().id()).isEqualTo("bob");
        assertThat(acl.grants()).anySatisfy(g -> {
            assertThat(g.grantee().id()).isEqualTo("alice");
            assertThat(g.permission()).isEqualTo(Permission.READ);
        });
        assertThat(code(() -> alice.getObject(b -> b.bucket("shared").key("bobs"))))
                .isEqualTo("ok");
        bob.putObject(b -> b.bucket("shared").key("bobs-private"), RequestBody.fromString("p"));
        assertThat(code(() -> alice.getObject(b -> b.bucket("shared").key("bobs-private"))))
                .isEqualTo("403 AccessDenied");
        // The bucket owner may still delete it (WRITE on the bucket).
        assertThat(code(() -> alice.deleteObject(b -> b.bucket("shared").key("bobs-private"))))
                .isEqualTo("ok");
        // A grant to a user that does not exist, or by e-mail, is refused.
        assertThat(code(() -> alice.putBucketAcl(b -> b.bucket("shared").grantRead("id=\"nobody\""))))
                .isEqualTo("400 InvalidArgument");
        assertThat(code(() -> alice.putBucketAcl(b -> b.bucket("shared").grantRead("emailAddress=\"a@b.c\""))))
                .isEqualTo("400 UnresolvableGrantByEmailAddress");
        // A grant to a known user by header.
        alice.putBucketAcl(b -> b.bucket("shared").grantRead("id=\"bob\""));
        assertThat(code(() -> bob.listObjectsV2(b -> b.bucket("shared")))).isEqualTo("ok");
        assertThat(code(() -> bob.putObject(b -> b.bucket("shared").key("n"), RequestBody.fromString("n"))))
                .isEqualTo("403 AccessDenied");
    }

    @Test
    void authenticatedReadIsForSignedRequestsOnly() throws Exception {
        alice.createBucket(b -> b.bucket("authread").acl(BucketCannedACL.AUTHENTICATED_READ));
        assertThat(code(() -> bob.listObjectsV2(b -> b.bucket("authread")))).isEqualTo("ok");
        assertThat(anonymous("GET", "/authread", null)).isEqualTo(403);
    }

    @Test
    void bucketOwnerEnforcedDisablesAcls() {
        alice.createBucket(b -> b.bucket("enforced").objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED));
        assertThat(alice.getBucketOwnershipControls(b -> b.bucket("enforced"))
                        .ownershipControls()
                        .rules()
                        .get(0)
                        .objectOwnership())
                .isEqualTo(ObjectOwnership.BUCKET_OWNER_ENFORCED);
        assertThat(code(() -> alice.putObject(
                        b -> b.bucket("enforced").key("x").acl(ObjectCannedACL.PUBLIC_READ),
                        RequestBody.fromString("x"))))
                .isEqualTo("400 AccessControlListNotSupported");
        assertThat(code(() -> alice.putObject(
                        b -> b.bucket("enforced").key("x").acl(ObjectCannedACL.BUCKET_OWNER_FULL_CONTROL),
                        RequestBody.fromString("x"))))
                .isEqualTo("ok");
        assertThat(code(() -> alice.putBucketAcl(b -> b.bucket("enforced").acl(BucketCannedACL.PRIVATE))))
                .isEqualTo("400 AccessControlListNotSupported");
        alice.deleteBucketOwnershipControls(b -> b.bucket("enforced"));
        assertThat(code(() -> alice.getBucketOwnershipControls(b -> b.bucket("enforced"))))
                .isEqualTo("404 OwnershipControlsNotFoundError");
        // A public bucket cannot become BucketOwnerEnforced.
        alice.createBucket(b -> b.bucket("public-then-enforced").acl(BucketCannedACL.PUBLIC_READ));
        assertThat(code(() -> alice.putBucketOwnershipControls(b -> b.bucket("public-then-enforced")
                        .ownershipControls(
                                o -> o.rules(r -> r.objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED))))))
                .isEqualTo("400 InvalidBucketAclWithObjectOwnership");
    }

    /** s3-tests put_bucket_acl_grant_group_read: a document's group grants list before its user grants, as canned ones do. */
    @Test
    void aclDocumentsListGroupGrantsFirst() {
        alice.createBucket(b -> b.bucket("grouporder"));
        var owner = Grant.builder()
                .grantee(g -> g.type(Type.CANONICAL_USER).id("alice"))
                .permission(Permission.FULL_CONTROL)
                .build();
        var everyone = Grant.builder()
                .grantee(g -> g.type(Type.GROUP).uri("http://acs.amazonaws.com/groups/global/AllUsers"))
                .permission(Permission.READ)
                .build();
        alice.putBucketAcl(b -> b.bucket("grouporder")
                .accessControlPolicy(p -> p.owner(o -> o.id("alice")).grants(owner, everyone)));
        var grants = alice.getBucketAcl(b -> b.bucket("grouporder")).grants();
        assertThat(grants).hasSize(2);
        assertThat(grants.get(0).grantee().type()).isEqualTo(Type.GROUP);
        assertThat(grants.get(0).permission()).isEqualTo(Permission.READ);
        assertThat(grants.get(1).grantee().id()).isEqualTo("alice");
        assertThat(grants.get(1).grantee().displayName()).isEqualTo("Alice");
    }

    @Test
    void aclsThatAreNotBuiltAreRefusedClearly() {
        alice.createBucket(b -> b.bucket("exec"));
        assertThat(code(() -> alice.putBucketAcl(b -> b.bucket("exec").acl("aws-exec-read"))))
                .startsWith("501");
        assertThat(code(() -> alice.putBucketAcl(b -> b.bucket("exec").acl("not-an-acl"))))
                .isEqualTo("400 InvalidArgument");
        assertThat(code(() -> alice.putBucketPolicy(b -> b.bucket("exec").policy("{}"))))
                .isEqualTo("400 MalformedPolicy");
        assertThat(code(() -> alice.getBucketPolicy(b -> b.bucket("exec")))).isEqualTo("404 NoSuchBucketPolicy");
    }
}
