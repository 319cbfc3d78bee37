package dev.spillway.osd.kv;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.spi.OsdConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Shared helpers of osd-kv's own tests. */
final class KvTestSupport {
    private KvTestSupport() {}

    static OsdConfig config(String name, Path path, Object... kv) {
        Map<String, Object> s = new TreeMap<>();
        s.put("path", path.toString());
        s.put("block-cache", "8MiB");
        for (int i = 0; i < kv.length; i += 2) {
            s.put((String) kv[i], kv[i + 1]);
        }
        return OsdConfig.of(name, "kv", s);
    }

    static KvOsd open(Path path, Object... kv) throws OsdException {
        return KvOsd.open(config("kv-test", path, kv));
    }

    static void createData(KvOsd osd, Fid f, byte[] body) throws OsdException {
        try (Transaction t = osd.newTransaction()) {
            t.declareCreate(f, ObjectKind.DATA);
            t.declareWrite(f, 0, body.length);
            t.setSync(true);
            t.start();
            t.create(f, ObjectKind.DATA, AttrChange.none());
            t.write(f, 0, ByteBuffer.wrap(body));
        }
    }

    static byte[] readAll(KvOsd osd, Fid f) throws OsdException {
        byte[] out = new byte[(int) osd.getAttr(f).size()];
        ByteBuffer b = ByteBuffer.wrap(out);
        while (b.hasRemaining()) {
            if (osd.read(f, b.position(), b) == 0) {
                break;
            }
        }
        return out;
    }

    /** Deletes {@code root} and everything under it. */
    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Copies {@code from} and everything under it to {@code to}, keeping modification times. */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** Every file under {@code root}: relative path to size, mtime and SHA-256 (what "untouched" means). */
    static Map<String, String> fingerprint(Path root) {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    m.put(rel + "/", "dir");
                } else {
                    byte[] b = Files.readAllBytes(p);
                    m.put(
                            rel,
                            b.length + " " + Files.getLastModifiedTime(p).toMillis() + " "
                                    + HexFormat.of()
                                            .formatHex(MessageDigest.getInstance("SHA-256")
                                                    .digest(b)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }
}
