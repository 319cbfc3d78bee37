package dev.spillway.gateway.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.auth.CredentialStore.Credential;
import dev.spillway.gateway.s3.auth.CredentialStore.User;
import dev.spillway.osd.mem.MemOsd;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's features through the clients people use (Debian's packages; a missing client skips,
 * saying so): boto3 — versioning, object lock, checksums, tagging, lifecycle, ACLs and a bucket
 * policy between two users and anonymous callers, CORS, a POST upload from its presigned POST;
 * aws-cli's s3api — versioning, tagging, a bucket policy from a file, an ACL; rclone — bucket
 * versioning and old versions listed and read back.
 */
class ClientFeaturesTest {
    static final String ALICE_KEY = "ALICECLIENTKEY";
    static final String ALICE_SECRET = "alice/client/secret";
    static final String BOB_KEY = "BOBCLIENTKEY";
    static final String BOB_SECRET = "bob/client/secret";
    static GatewayFixture fx;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        fx = new GatewayFixture(
                MemOsd.create("mem0"),
                GatewayConfig.builder(),
                CredentialStore.users(List.of(
                        new Credential(ALICE_KEY, ALICE_SECRET, new User("alice", "alice"), "alice@example.com"),
                        new Credential(BOB_KEY, BOB_SECRET, new User("bob", "bob"), "bob@example.com"))));
    }

    @AfterAll
    static void stop() throws Exception {
        fx.close();
    }

    String run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(work.toFile());
        pb.environment().remove("AWS_CA_BUNDLE"); // Debian's rclone refuses an unusable bundle
        pb.environment().put("HOME", work.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + text).isZero();
        return text;
    }

    @Test
    void boto3() throws Exception {
        Path python = CliClientsTest.tool("/usr/bin/python3");
        assumeTrue(python != null, "no system /usr/bin/python3");
        Process probe = new ProcessBuilder(python.toString(), "-c", "import boto3")
                .redirectErrorStream(true)
                .start();
        probe.getInputStream().readAllBytes();
        assumeTrue(
                probe.waitFor() == 0,
                "python3-boto3 is not installed for /usr/bin/python3 (apt-get install python3-boto3)");
        Path script = work.resolve("boto3_features.py");
        try (InputStream in = getClass().getResourceAsStream("/clients/boto3_features.py")) {
            Files.write(script, in.readAllBytes());
        }
        String out = run(
                Map.of("AWS_CONFIG_FILE", "/dev/null", "AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
                python.toString(),
                script.toString(),
                fx.endpoint().toString(),
                ALICE_KEY,
                ALICE_SECRET,
                BOB_KEY,
                BOB_SECRET);
        assertThat(out).contains("boto3 features ok");
    }

    @Test
    void awscli() throws Exception {
        Path aws = CliClientsTest.tool("/usr/bin/aws");
        assumeTrue(aws != null, "awscli is not installed (apt-get install awscli); .ci/run installs it");
        Files.writeString(
                work.resolve("config"),
                "[default]\nregion = us-east-1\ns3 =\n    signature_version = s3v4\n    addressing_style = path\n");
        Map<String, String> alice = Map.of(
                "AWS_ACCESS_KEY_ID",
                ALICE_KEY,
                "AWS_SECRET_ACCESS_KEY",
                ALICE_SECRET,
                "AWS_CONFIG_FILE",
                work.resolve("config").toString(),
                "AWS_SHARED_CREDENTIALS_FILE",
                "/dev/null",
                "AWS_PAGER",
                "");
        String a = aws.toString();
        String e = fx.endpoint().toString();
        run(alice, a, "--endpoint-url", e, "s3api", "create-bucket", "--bucket", "cli-features");
        run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "put-bucket-versioning",
                "--bucket",
                "cli-features",
                "--versioning-configuration",
                "Status=Enabled");
        Files.writeString(work.resolve("v1"), "first");
        Files.writeString(work.resolve("v2"), "second");
        run(alice, a, "--endpoint-url", e, "s3", "cp", "v1", "s3://cli-features/doc");
        run(alice, a, "--endpoint-url", e, "s3", "cp", "v2", "s3://cli-features/doc");
        String versions = run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "list-object-versions",
                "--bucket",
                "cli-features",
                "--query",
                "Versions[].VersionId",
                "--output",
                "text");
        String[] ids = versions.strip().split("\\s+");
        assertThat(ids).hasSize(2);
        run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "get-object",
                "--bucket",
                "cli-features",
                "--key",
                "doc",
                "--version-id",
                ids[1],
                "old");
        assertThat(Files.readString(work.resolve("old"))).isEqualTo("first");

        run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "put-object-tagging",
                "--bucket",
                "cli-features",
                "--key",
                "doc",
                "--tagging",
                "TagSet=[{Key=k,Value=v}]");
        assertThat(run(
                        alice,
                        a,
                        "--endpoint-url",
                        e,
                        "s3api",
                        "get-object-tagging",
                        "--bucket",
                        "cli-features",
                        "--key",
                        "doc",
                        "--output",
                        "text"))
                .contains("k\tv");

        Files.writeString(work.resolve("policy.json"), """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::bob:root"},
                 "Action":["s3:GetObject","s3:ListBucket"],
                 "Resource":["arn:aws:s3:::cli-features","arn:aws:s3:::cli-features/*"]}]}""");
        run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "put-bucket-policy",
                "--bucket",
                "cli-features",
                "--policy",
                "file://policy.json");
        assertThat(run(alice, a, "--endpoint-url", e, "s3api", "get-bucket-policy", "--bucket", "cli-features"))
                .contains("arn:aws:iam::bob:root");
        Map<String, String> bob = new HashMap<>(alice);
        bob.put("AWS_ACCESS_KEY_ID", BOB_KEY);
        bob.put("AWS_SECRET_ACCESS_KEY", BOB_SECRET);
        assertThat(run(bob, a, "--endpoint-url", e, "s3", "ls", "s3://cli-features/"))
                .contains("doc");
        run(bob, a, "--endpoint-url", e, "s3", "cp", "s3://cli-features/doc", "bobs");
        assertThat(Files.readString(work.resolve("bobs"))).isEqualTo("second");
        run(alice, a, "--endpoint-url", e, "s3api", "delete-bucket-policy", "--bucket", "cli-features");
        run(
                alice,
                a,
                "--endpoint-url",
                e,
                "s3api",
                "put-object-acl",
                "--bucket",
                "cli-features",
                "--key",
                "doc",
                "--acl",
                "public-read");
        assertThat(run(
                        alice,
                        a,
                        "--endpoint-url",
                        e,
                        "s3api",
                        "get-object-acl",
                        "--bucket",
                        "cli-features",
                        "--key",
                        "doc",
                        "--output",
                        "text"))
                .contains("http://acs.amazonaws.com/groups/global/AllUsers")
                .contains("FULL_CONTROL");
    }

    @Test
    void rclone() throws Exception {
        Path rclone = CliClientsTest.tool("/usr/bin/rclone");
        assumeTrue(rclone != null, "rclone is not installed (apt-get install rclone); .ci/run installs it");
        Map<String, String> env = Map.of(
                "RCLONE_CONFIG",
                work.resolve("rclone.conf").toString(),
                "RCLONE_CONFIG_SP_TYPE",
                "s3",
                "RCLONE_CONFIG_SP_PROVIDER",
                "Other",
                "RCLONE_CONFIG_SP_ACCESS_KEY_ID",
                BOB_KEY,
                "RCLONE_CONFIG_SP_SECRET_ACCESS_KEY",
                BOB_SECRET,
                "RCLONE_CONFIG_SP_ENDPOINT",
                fx.endpoint().toString(),
                "RCLONE_CONFIG_SP_REGION",
                "us-east-1",
                "RCLONE_CONFIG_SP_FORCE_PATH_STYLE",
                "true");
        String r = rclone.toString();
        run(env, r, "mkdir", "sp:rclone-versions");
        run(env, r, "backend", "versioning", "sp:rclone-versions", "Enabled");
        assertThat(run(env, r, "backend", "versioning", "sp:rclone-versions")).contains("Enabled");
        Files.writeString(work.resolve("f.txt"), "one");
        run(env, r, "copyto", "f.txt", "sp:rclone-versions/f.txt");
        Files.writeString(work.resolve("f.txt"), "two");
        run(env, r, "copyto", "f.txt", "sp:rclone-versions/f.txt");
        List<String> names = run(env, r, "lsf", "--s3-versions", "sp:rclone-versions")
                .lines()
                .filter(l -> l.startsWith("f"))
                .toList();
        assertThat(names).hasSize(2).contains("f.txt");
        String old = names.stream().filter(n -> !n.equals("f.txt")).findFirst().orElseThrow();
        assertThat(old).matches("f-v\\d{4}-\\d{2}-\\d{2}-\\d{6}-\\d{3}\\.txt");
        assertThat(run(env, r, "cat", "--s3-versions", "sp:rclone-versions/" + old))
                .endsWith("one");
        assertThat(run(env, r, "cat", "sp:rclone-versions/f.txt")).endsWith("two");
    }
}
