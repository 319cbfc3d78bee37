package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.cli.CliFixtures.Run;
import dev.spillway.server.Server;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * What the CLI says when something is wrong: one {@code spillway:} prefix, the errno once, the
 * object and the device, the cause and what to do — never an HTTP parameter's name. Malformed
 * FIDs are usage errors (exit 2) with or without a server, never looked up as bucket/key; an
 * operation on one body asked of a multipart object names the part FIDs to ask for.
 */
class MessagesCliTest {
    private static final Pattern ERRNO = Pattern.compile("\\bE[A-Z0-9]{2,}\\b");

    @TempDir
    Path tmp;

    private Server server;
    private Path data;

    @BeforeEach
    void start() throws Exception {
        data = tmp.resolve("data");
        server = CliFixtures.memMemServer(tmp, "msgtest");
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private Run cli(String... args) {
        return cli(data, args);
    }

    private static Run cli(Path data, String... args) {
        return CliFixtures.run(data, args);
    }

    /** One line, one prefix, one errno. */
    private static void oneLineOneErrno(Run r) {
        String e = r.err().strip();
        assertThat(e).as("stderr").doesNotContain("\n").startsWith("spillway: ");
        assertThat(e.indexOf("spillway:", 1)).as("one prefix in: %s", e).isEqualTo(-1);
        Matcher m = ERRNO.matcher(e);
        List<String> errnos = new ArrayList<>();
        while (m.find()) {
            errnos.add(m.group());
        }
        assertThat(errnos).as("errnos in: %s", e).hasSize(1);
        assertThat(e).doesNotContain("Exception").doesNotContain("parameter");
    }

    private S3Client s3() throws Exception {
        return ServeChild.s3(
                data, new ObjectMapper().readTree(data.resolve("endpoint.json").toFile()));
    }

    @Test
    void malformedFidsAreUsageErrorsNamingTheFormWanted() {
        for (String bad : new String[] {
            "[0xZZ:0x1:0x0]", "[0x300000400:0x1:0x0", "0x300000400:0x1:0x0]", "0xZZ:0x1:0x0", "300000400:1:0", "[a/b]"
        }) {
            for (String[] cmd : new String[][] {{"getstripe", bad}, {"getstripe", "--raw", bad}, {"spill", bad}}) {
                Run r = cli(cmd);
                assertThat(r.code())
                        .as("%s: %s", String.join(" ", cmd), r.err())
                        .isEqualTo(ExitCodes.USAGE);
                oneLineOneErrno(r);
                assertThat(r.err())
                        .contains("EINVAL")
                        .contains("'" + bad + "'")
                        .contains("[0xSEQ:0xOID:0xVER]")
                        .doesNotContain("bucket '");
            }
        }
        assertThat(cli("getstripe", "[0x300000400:0x1:0x0").err()).contains("no closing ']'");
        assertThat(cli("getstripe", "0x300000400:0x1:0x0]").err()).contains("no opening '['");
        Run empty = cli("getstripe", "");
        assertThat(empty.code()).isEqualTo(ExitCodes.USAGE);
        oneLineOneErrno(empty);
        assertThat(empty.err()).contains("no object given");
        Run noKey = cli("promote", "bucket/");
        assertThat(noKey.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(noKey.err()).contains("no key");
    }

    @Test
    void aMalformedFidIsAUsageErrorWithoutAServer() throws Exception {
        server.close();
        server = null;
        Path none = tmp.resolve("nothing-here");
        Run bad = cli(none, "getstripe", "[0xZZ:0x1:0x0]");
        assertThat(bad.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err()).startsWith("spillway: EINVAL: malformed FID '[0xZZ:0x1:0x0]'");
        // A well-formed one gets as far as looking for the server, and says how to start one.
        Run good = cli(none, "getstripe", "[0x300000400:0x1:0x0]");
        assertThat(good.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(good.err()).contains("no running server").contains("spillway serve");
    }

    @Test
    void aBucketMayLookLikeHexAndAFidWithoutBracketsIsAFid() throws Exception {
        try (S3Client s3 = s3()) {
            s3.createBucket(b -> b.bucket("0xdata"));
            s3.putObject(b -> b.bucket("0xdata").key("a:b"), RequestBody.fromString("hello"));
        }
        Run byName = cli("getstripe", "0xdata/a:b");
        assertThat(byName.code()).as(byName.err()).isZero();
        String fid = byName.out().split("\\s+")[1];
        assertThat(fid).startsWith("[0x");
        Run bare = cli("getstripe", fid.substring(1, fid.length() - 1));
        assertThat(bare.code()).as(bare.err()).isZero();
        assertThat(bare.out()).contains(fid);
    }

    @Test
    void aMissingObjectSaysWhereItWasLookedForAndHowToFindOne() throws Exception {
        Run fid = cli("getstripe", "[0x300000400:0x777:0x0]");
        assertThat(fid.code()).isEqualTo(ExitCodes.FAILURE);
        oneLineOneErrno(fid);
        assertThat(fid.err())
                .startsWith("spillway: [0x300000400:0x777:0x0]: ENOENT: no such object in pool 'msgtest'")
                .contains("getstripe BUCKET/KEY");
        Run bucket = cli("spill", "nobucket/x");
        oneLineOneErrno(bucket);
        assertThat(bucket.err()).contains("no bucket 'nobucket'").contains("aws s3 ls");
    }

    @Test
    void aMultipartObjectNamesThePartFidsToAskFor() throws Exception {
        List<String> partFids = new ArrayList<>();
        try (S3Client s3 = s3()) {
            s3.createBucket(b -> b.bucket("mpu"));
            String upload =
                    s3.createMultipartUpload(b -> b.bucket("mpu").key("big")).uploadId();
            List<CompletedPart> parts = new ArrayList<>();
            for (int n = 1; n <= 2; n++) {
                int part = n;
                String etag = s3.uploadPart(
                                b -> b.bucket("mpu").key("big").uploadId(upload).partNumber(part),
                                RequestBody.fromBytes(new byte[part == 1 ? 5 << 20 : 1000]))
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(part).eTag(etag).build());
            }
            s3.completeMultipartUpload(
                    b -> b.bucket("mpu").key("big").uploadId(upload).multipartUpload(m -> m.parts(parts)));
        }
        var layout = new ObjectMapper()
                .readTree(cli("getstripe", "--json", "mpu/big").out());
        layout.path("parts").forEach(p -> partFids.add(p.path("fid").asText()));
        assertThat(partFids).hasSize(2);

        Run raw = cli("getstripe", "--raw", "mpu/big");
        assertThat(raw.code()).isEqualTo(ExitCodes.FAILURE);
        oneLineOneErrno(raw);
        assertThat(raw.err())
                .contains("mpu/big is a multipart object of 2 parts")
                .contains("`spillway getstripe --raw " + partFids.get(0) + "` (part 1, bytes [0, 5242880))")
                .contains("`spillway getstripe --raw " + partFids.get(1) + "` (part 2, bytes [5242880, 5243880))");
        // Each part's byte range in the object, as its extent: in the JSON, the summary and -v.
        assertThat(layout.path("parts").get(1).path("start").asLong()).isEqualTo(5 << 20);
        assertThat(layout.path("parts").get(1).path("end").asLong()).isEqualTo((5 << 20) + 1000);
        Run summary = cli("getstripe", "-v", "mpu/big");
        assertThat(summary.code()).as(summary.err()).isZero();
        assertThat(summary.out())
                .contains("[0, 5242880)")
                .contains("[5242880, 5243880)")
                .contains("# part 2: " + partFids.get(1) + ", bytes [5242880, 5243880) of the object");
        // Each part's raw layout is there to be read (the bytes go to the process's stdout).
        Run part = cli("getstripe", "--raw", partFids.get(0));
        assertThat(part.code()).as(part.err()).isZero();
        assertThat(part.err()).isEmpty();

        Run spill = cli("spill", "mpu/big", "--to", "slow");
        assertThat(spill.code()).isEqualTo(ExitCodes.FAILURE);
        oneLineOneErrno(spill);
        assertThat(spill.err()).contains("`spillway spill --to slow " + partFids.get(0) + "` (part 1, ");
        Run split = cli("mirror", "split", "mpu/big", "-d", "2");
        assertThat(split.err()).contains("`spillway mirror split -d 2 " + partFids.get(1) + "` (part 2, ");
    }

    @Test
    void objectOperationsSayWhatIsThereAndWhatToDo() throws Exception {
        try (S3Client s3 = s3()) {
            s3.createBucket(b -> b.bucket("bkt"));
            s3.putObject(b -> b.bucket("bkt").key("obj"), RequestBody.fromBytes(new byte[100_000]));
        }
        Run split = cli("mirror", "split", "bkt/obj", "-d", "7");
        assertThat(split.code()).isEqualTo(ExitCodes.FAILURE);
        oneLineOneErrno(split);
        assertThat(split.err())
                .contains("no mirror 7 of bkt/obj (mirrors: ")
                .contains(" on fast")
                .contains("`spillway getstripe bkt/obj`");

        assertThat(cli("spill", "bkt/obj").code()).isZero();
        // Spilled already: a second spill finds the copy and has nothing to do, instead of
        // saying there is no room.
        Run again = cli("spill", "bkt/obj");
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(again.out()).contains("nothing to do");

        assertThat(cli("promote", "bkt/obj").code()).isZero();
        assertThat(cli("device", "set-state", "slow", "ro").code()).isZero();
        Run noRoom = cli("spill", "bkt/obj");
        assertThat(noRoom.code()).isEqualTo(ExitCodes.FAILURE);
        oneLineOneErrno(noRoom);
        assertThat(noRoom.err())
                .contains("ENOSPC")
                .contains("no spill device can take a copy: slow (ro")
                .contains("spillway device set-state NAME rw");

        Run missingTo = cli("migrate", "bkt/obj", "--from", "fast", "--to", "nosuch");
        oneLineOneErrno(missingTo);
        assertThat(missingTo.err()).contains("no device 'nosuch' (devices: fast, slow)");
    }
}
