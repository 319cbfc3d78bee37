package dev.spillway.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pool's access key and secret, generated on first start and stored readable by the owner
 * only (0600). The S3 gateway and the admin API both require them.
 *
 * @param accessKey the S3 access key id
 * @param secretKey the S3 secret access key
 */
public record Credentials(String accessKey, String secretKey) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final String ANY = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /** New random credentials, shaped like AWS's (20-character key id, 40-character secret). */
    public static Credentials generate(SecureRandom r) {
        StringBuilder k = new StringBuilder("SPW");
        while (k.length() < 20) {
            k.append(UPPER.charAt(r.nextInt(UPPER.length())));
        }
        StringBuilder s = new StringBuilder();
        while (s.length() < 40) {
            s.append(ANY.charAt(r.nextInt(ANY.length())));
        }
        return new Credentials(k.toString(), s.toString());
    }

    /** The credentials stored in the data folder. */
    public static Credentials load(DataDir dir) throws OsdException {
        byte[] b = dir.read(DataDir.CREDENTIALS)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT,
                        null,
                        null,
                        "no credentials file " + dir.credentials() + " (`spillway serve` creates it)"));
        return parse(dir.credentials(), b);
    }

    static Credentials parse(Path file, byte[] b) throws OsdException {
        try {
            Map<?, ?> m = JSON.readValue(b, Map.class);
            Object a = m == null ? null : m.get("accessKey");
            Object s = m == null ? null : m.get("secretKey");
            if (a == null || s == null) {
                throw new OsdException(
                        Errno.EINVAL, null, null, "credentials file " + file + " lacks accessKey or secretKey", null);
            }
            return new Credentials(a.toString(), s.toString());
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EIO,
                    null,
                    null,
                    "cannot read credentials " + file + ": " + e.getMessage()
                            + " (damaged; delete it and restart to generate new keys)",
                    e);
        }
    }

    /** Writes the file with owner-only permissions from the moment it exists. */
    public void store(DataDir dir) throws OsdException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("accessKey", accessKey);
        m.put("secretKey", secretKey);
        byte[] b;
        try {
            b = (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OsdException(Errno.EINVAL, null, null, "cannot encode credentials: " + e, e);
        }
        dir.write(DataDir.CREDENTIALS, b, Storage.Access.OWNER_ONLY);
    }

    /** Loads the credentials, generating and storing them if the file does not exist yet. */
    public static Credentials loadOrCreate(DataDir dir, boolean[] created) throws OsdException {
        var have = dir.read(DataDir.CREDENTIALS);
        if (have.isPresent()) {
            return parse(dir.credentials(), have.get());
        }
        Credentials c = generate(new SecureRandom());
        c.store(dir);
        created[0] = true;
        return c;
    }
}
