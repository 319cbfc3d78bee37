package dev.spillway.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.osd.OsdException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The credentials file: the format of a single key still reads, edits never lose each other, the server's view follows the file. */
class CredentialsFileTest {
    private static final Instant T = Instant.parse("2026-12-03T10:00:00Z");

    @TempDir
    Path tmp;

    private DataDir dir() throws OsdException {
        DataDir d = new DataDir(tmp.resolve("data"));
        d.prepare();
        return d;
    }

    @Test
    void aFileOfOneKeyIsThePoolsOwnUser() throws Exception {
        DataDir d = dir();
        Files.writeString(d.credentials(), "{\"accessKey\":\"SPWOLD\",\"secretKey\":\"s\"}\n");
        List<CredentialsFile.Entry> all = CredentialsFile.load(d);
        assertThat(all).hasSize(1);
        assertThat(all.get(0).user()).isEqualTo(CredentialStore.DEFAULT_USER);
        CredentialStore s = CredentialsFile.store(all);
        assertThat(s.secretKey("SPWOLD")).contains("s");
        assertThat(s.user("SPWOLD").id()).isEqualTo(CredentialStore.DEFAULT_USER);
        assertThat(s.firstUser().id()).isEqualTo(CredentialStore.DEFAULT_USER);
        // Adding keeps the top-level key where older readers (the admin API, scripts) look.
        CredentialsFile.add(d, "alice", null, T, new SecureRandom());
        assertThat(Credentials.load(d).accessKey()).isEqualTo("SPWOLD");
        assertThat(Files.readString(d.credentials()))
                .contains("\"users\"")
                .contains("\"created\" : \"2026-12-03T10:00:00Z\"");
    }

    @Test
    void concurrentEditsLoseNothing() throws Exception {
        DataDir d = dir();
        new Credentials("SPWOWN", "own").store(d);
        ExecutorService ex = Executors.newFixedThreadPool(4);
        try {
            List<Future<CredentialsFile.Entry>> fs = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String user = "user" + (i % 6);
                fs.add(ex.submit((Callable<CredentialsFile.Entry>)
                        () -> CredentialsFile.add(d, user, null, T, new SecureRandom())));
            }
            List<String> keys = new ArrayList<>();
            for (var f : fs) {
                keys.add(f.get().accessKey());
            }
            List<CredentialsFile.Entry> all = CredentialsFile.load(d);
            assertThat(all).hasSize(25);
            assertThat(all.stream().map(CredentialsFile.Entry::accessKey))
                    .containsAll(keys)
                    .doesNotHaveDuplicates();
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void theServersViewFollowsTheFileAndKeepsTheLastGoodOne() throws Exception {
        DataDir d = dir();
        new Credentials("SPWOWN", "own").store(d);
        FileCredentialStore s = new FileCredentialStore(d);
        assertThat(s.secretKey("SPWOWN")).contains("own");
        CredentialsFile.Entry a = CredentialsFile.add(d, "alice", "Alice@Example.com", T, new SecureRandom());
        assertThat(s.secretKey(a.accessKey())).contains(a.secretKey());
        assertThat(s.user(a.accessKey()).id()).isEqualTo("alice");
        assertThat(s.userByEmail("alice@example.COM").orElseThrow().id()).isEqualTo("alice");
        assertThat(s.userById("alice")).isPresent();
        CredentialsFile.remove(d, a.accessKey());
        assertThat(s.secretKey(a.accessKey())).isEmpty();
        // A key removed between the signature check and the owner lookup is nobody, not the first user.
        assertThat(s.user(a.accessKey())).isNull();
        CredentialsFile.Entry b = CredentialsFile.add(d, "bob", null, T, new SecureRandom());
        assertThat(s.secretKey(b.accessKey())).contains(b.secretKey());
        Files.write(d.credentials(), "{ broken".getBytes(StandardCharsets.UTF_8));
        assertThat(s.secretKey(b.accessKey())).contains(b.secretKey());
        assertThat(s.secretKey("SPWOWN")).contains("own");
        assertThatThrownBy(() -> CredentialsFile.load(d)).hasMessageContaining("cannot read credentials");
    }

    @Test
    void thePoolsOwnKeyStays() throws Exception {
        DataDir d = dir();
        new Credentials("SPWOWN", "own").store(d);
        assertThatThrownBy(() -> CredentialsFile.remove(d, "SPWOWN")).hasMessageContaining("cannot be removed");
        assertThatThrownBy(() -> CredentialsFile.add(d, "-x", null, T, new SecureRandom()))
                .hasMessageContaining("user name '-x'");
        CredentialsFile.add(d, "alice", "a@example.com", T, new SecureRandom());
        assertThatThrownBy(() -> CredentialsFile.add(d, "alice", "other@example.com", T, new SecureRandom()))
                .hasMessageContaining("has e-mail address a@example.com");
    }
}
