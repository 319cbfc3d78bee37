package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.cli.CliFixtures.Run;
import dev.spillway.server.Server;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.Bucket;
import software.amazon.awssdk.services.s3.model.Permission;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@code spillway credentials add|list|remove} against a running server: keys added work on the
 * next request without a restart, each user owns the buckets it makes and sees only those, other
 * users are refused until an ACL (by id or by e-mail address) grants them, a removed key is
 * refused from the next request on, and the pool's own key cannot be removed.
 */
class CredentialsCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Server server;
    private Path data;
    private final List<S3Client> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        data = tmp.resolve("data");
        server = CliFixtures.memMemServer(tmp, "creds");
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(S3Client::close);
        server.close();
    }

    private Run cli(String... args) {
        return CliFixtures.run(data, args);
    }

    private JsonNode add(String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "credentials";
        all[1] = "add";
        System.arraycopy(args, 0, all, 2, args.length);
        all[all.length - 1] = "--json";
        Run r = cli(all);
        assertThat(r.code()).as(r.err()).isZero();
        return JSON.readTree(r.out());
    }

    private S3Client s3(JsonNode key) {
        return s3(key.path("accessKey").asText(), key.path("secretKey").asText());
    }

    private S3Client s3(String accessKey, String secretKey) {
        S3Client c = S3Client.builder()
                .endpointOverride(URI.create(server.s3Endpoint()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .serviceConfiguration(
                        S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .httpClient(UrlConnectionHttpClient.create())
                .build();
        clients.add(c);
        return c;
    }

    private static S3Exception refused(Runnable r) {
        try {
            r.run();
        } catch (S3Exception e) {
            return e;
        }
        throw new AssertionError("expected an S3 error");
    }

    private static List<String> names(S3Client c) {
        return c.listBuckets().buckets().stream().map(Bucket::name).toList();
    }

    @Test
    void usersOwnTheirBucketsAndOthersAreRefusedUntilGranted() throws Exception {
        JsonNode aliceKey = add("alice", "--email", "alice@example.com");
        JsonNode bobKey = add("bob", "--email", "bob@example.com");
        assertThat(aliceKey.path("user").asText()).isEqualTo("alice");
        assertThat(aliceKey.path("accessKey").asText()).startsWith("SPW").hasSize(20);
        assertThat(aliceKey.path("secretKey").asText()).hasSize(40);
        assertThat(Files.getPosixFilePermissions(data.resolve("credentials.json")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        // No restart: the running server takes the new keys on the next request.
        S3Client alice = s3(aliceKey);
        S3Client bob = s3(bobKey);
        S3Client pool =
                s3(server.credentials().accessKey(), server.credentials().secretKey());
        alice.createBucket(b -> b.bucket("alices"));
        alice.putObject(b -> b.bucket("alices").key("k"), RequestBody.fromString("hers"));
        bob.createBucket(b -> b.bucket("bobs"));

        assertThat(alice.getBucketAcl(b -> b.bucket("alices")).owner().id()).isEqualTo("alice");
        assertThat(names(alice)).containsExactly("alices");
        assertThat(names(bob)).containsExactly("bobs");
        assertThat(names(pool)).isEmpty();

        S3Exception taken = refused(() -> bob.createBucket(b -> b.bucket("alices")));
        assertThat(taken.statusCode()).isEqualTo(409);
        assertThat(taken.awsErrorDetails().errorCode()).isEqualTo("BucketAlreadyExists");
        for (Runnable r : List.<Runnable>of(
                () -> bob.listObjectsV2(b -> b.bucket("alices")),
                () -> bob.getObjectAsBytes(b -> b.bucket("alices").key("k")),
                () -> bob.putObject(b -> b.bucket("alices").key("x"), RequestBody.fromString("his")),
                () -> bob.deleteObject(b -> b.bucket("alices").key("k")),
                () -> bob.deleteBucket(b -> b.bucket("alices")),
                () -> pool.listObjectsV2(b -> b.bucket("alices")))) {
            S3Exception e = refused(r);
            assertThat(e.statusCode()).isEqualTo(403);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("AccessDenied");
        }

        // A grant by e-mail address names bob; it lets him list, nothing more.
        alice.putBucketAcl(b ->
                b.bucket("alices").grantRead("emailAddress=bob@example.com").grantFullControl("id=alice"));
        assertThat(bob.listObjectsV2(b -> b.bucket("alices")).contents()).hasSize(1);
        assertThat(alice.getBucketAcl(b -> b.bucket("alices")).grants()).anySatisfy(g -> {
            assertThat(g.grantee().id()).isEqualTo("bob");
            assertThat(g.permission()).isEqualTo(Permission.READ);
        });
        assertThat(refused(() -> alice.putBucketAcl(
                                b -> b.bucket("alices").grantRead("emailAddress=nobody@example.com")))
                        .awsErrorDetails()
                        .errorCode())
                .isEqualTo("UnresolvableGrantByEmailAddress");
        assertThat(refused(() -> bob.putObject(b -> b.bucket("alices").key("x"), RequestBody.fromString("his")))
                        .statusCode())
                .isEqualTo(403);

        Run list = cli("credentials", "list");
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out())
                .contains(server.credentials().accessKey())
                .contains("(the pool's own key)")
                .contains(aliceKey.path("accessKey").asText())
                .contains("alice@example.com")
                .contains("bob")
                .doesNotContain(aliceKey.path("secretKey").asText());
        assertThat(cli("credentials", "list", "--secrets").out())
                .contains(aliceKey.path("secretKey").asText());

        // A removed key is refused from the next request on; bob's bucket stays his.
        Run removed = cli("credentials", "remove", bobKey.path("accessKey").asText());
        assertThat(removed.code()).as(removed.err()).isZero();
        assertThat(removed.out()).contains("bob has no key left");
        S3Exception gone = refused(() -> bob.listBuckets());
        assertThat(gone.statusCode()).isEqualTo(403);
        assertThat(gone.awsErrorDetails().errorCode()).isEqualTo("InvalidAccessKeyId");
        S3Client bobAgain = s3(add("bob"));
        assertThat(names(bobAgain)).containsExactly("bobs");
        assertThat(bobAgain.listObjectsV2(b -> b.bucket("alices")).contents()).hasSize(1);
    }

    @Test
    void badRequestsAreRefusedWithTheirReason() throws Exception {
        Run own = cli("credentials", "remove", server.credentials().accessKey());
        assertThat(own.code()).isNotZero();
        assertThat(own.err()).contains("is the pool's own").contains("cannot be removed");
        Run unknown = cli("credentials", "remove", "SPWNOSUCHKEY");
        assertThat(unknown.code()).isNotZero();
        assertThat(unknown.err()).contains("no access key SPWNOSUCHKEY").contains("credentials list");
        Run badName = cli("credentials", "add", "Bad Name!");
        assertThat(badName.code()).isNotZero();
        assertThat(badName.err()).contains("user name 'Bad Name!'");
        add("carol", "--email", "carol@example.com");
        Run taken = cli("credentials", "add", "dave", "--email", "carol@example.com");
        assertThat(taken.code()).isNotZero();
        assertThat(taken.err()).contains("belongs to user carol");
        Run remote = cli("credentials", "add", "erin", "--endpoint", "http://127.0.0.1:1");
        assertThat(remote.code()).isNotZero();
        assertThat(remote.err()).contains("run them on the server's host with --data");
        // A second key of a user keeps its e-mail address; both keys work.
        JsonNode second = add("carol");
        assertThat(second.path("email").asText()).isEqualTo("carol@example.com");
        s3(second).createBucket(b -> b.bucket("carols"));
        // The pool's own key still prints as before.
        Run env = cli("credentials", "--env");
        assertThat(env.out())
                .contains("export AWS_ACCESS_KEY_ID=" + server.credentials().accessKey());
    }
}
