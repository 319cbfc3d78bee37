package dev.spillway.osd.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.testkit.fault.FaultInjectingStorage;
import dev.spillway.osd.testkit.fault.WriteRefusingStorage;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link OverlayStorage} against a model: the same random writes, punches, truncates, renames,
 * deletes and xattr changes made through an overlay (over a storage that refuses any change) and
 * on a plain storage read back alike, and the base is never touched.
 */
class OverlayStorageTest {
    private static final int BLOCK = 4096;

    private static void write(Storage s, String path, long at, byte[] data) throws Exception {
        try (StorageFile f = s.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.wrap(data), at);
        }
    }

    private static byte[] content(Storage s, String path) throws Exception {
        try (StorageFile f = s.open(path, StandardOpenOption.READ)) {
            byte[] out = new byte[(int) f.size()];
            ByteBuffer b = ByteBuffer.wrap(out);
            // Odd-sized reads at odd offsets, to cross extents.
            while (b.hasRemaining()) {
                int n = Math.min(b.remaining(), 1 + b.position() % 3001);
                ByteBuffer part = ByteBuffer.allocate(n);
                assertThat(f.read(part, b.position())).isPositive();
                b.put(part.flip());
            }
            return out;
        }
    }

    private static FaultInjectingStorage base() throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(FaultInjectingStorage.Features.ext4());
        s.createDirectory("d");
        for (int i = 0; i < 3; i++) {
            s.open("d/f" + i, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                    .close();
            byte[] b = new byte[20_000 + 7 * i];
            new Random(i).nextBytes(b);
            write(s, "d/f" + i, 0, b);
            s.setXattr("d/f" + i, "x", new byte[] {(byte) i});
        }
        return s;
    }

    @Test
    void randomChangesReadBackAsOnAPlainStorageAndLeaveTheBaseAlone() throws Exception {
        for (long seed = 1; seed <= 40; seed++) {
            FaultInjectingStorage model = base();
            FaultInjectingStorage under = base();
            WriteRefusingStorage guard = new WriteRefusingStorage(under);
            OverlayStorage o = new OverlayStorage(guard, BLOCK);
            Random r = new Random(seed);
            for (int step = 0; step < 60; step++) {
                String p = "d/f" + r.nextInt(4);
                boolean exists = model.type(p) == Storage.EntryType.FILE;
                switch (r.nextInt(8)) {
                    case 0, 1, 2 -> {
                        if (exists) {
                            byte[] d = new byte[1 + r.nextInt(9000)];
                            r.nextBytes(d);
                            long at = r.nextInt(30_000);
                            write(model, p, at, d);
                            write(o, p, at, d);
                        }
                    }
                    case 3 -> {
                        if (exists) {
                            long at = r.nextInt(25_000);
                            long len = 1 + r.nextInt(10_000);
                            for (Storage s : List.of(model, o)) {
                                try (StorageFile f = s.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                                    f.punch(at, len);
                                }
                            }
                        }
                    }
                    case 4 -> {
                        if (exists) {
                            long size = r.nextInt(30_000);
                            for (Storage s : List.of(model, o)) {
                                try (StorageFile f = s.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                                    f.truncate(size);
                                }
                            }
                        }
                    }
                    case 5 -> {
                        String to = "d/f" + r.nextInt(4);
                        if (exists && !to.equals(p)) {
                            model.rename(p, to);
                            o.rename(p, to);
                        }
                    }
                    case 6 -> {
                        assertThat(o.deleteIfExists(p)).isEqualTo(model.deleteIfExists(p));
                        if (r.nextBoolean()) {
                            model.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                                    .close();
                            o.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                                    .close();
                        }
                    }
                    default -> {
                        if (exists) {
                            byte[] v = {(byte) r.nextInt()};
                            if (r.nextBoolean()) {
                                model.setXattr(p, "y", v);
                                o.setXattr(p, "y", v);
                            } else {
                                assertThat(o.removeXattr(p, "x")).isEqualTo(model.removeXattr(p, "x"));
                            }
                        }
                    }
                }
                assertThat(o.list("d")).as("seed %d step %d", seed, step).isEqualTo(model.list("d"));
                for (String n : model.list("d")) {
                    String q = "d/" + n;
                    assertThat(content(o, q))
                            .as("seed %d step %d: %s", seed, step, q)
                            .isEqualTo(content(model, q));
                    assertThat(o.listXattrs(q)).isEqualTo(model.listXattrs(q));
                    for (String x : model.listXattrs(q)) {
                        assertThat(o.getXattr(q, x).orElseThrow())
                                .isEqualTo(model.getXattr(q, x).orElseThrow());
                    }
                }
            }
            assertThat(guard.attempts()).isEmpty();
            FaultInjectingStorage untouched = base();
            for (int i = 0; i < 3; i++) {
                assertThat(Arrays.equals(content(under, "d/f" + i), content(untouched, "d/f" + i)))
                        .isTrue();
            }
        }
    }

    @Test
    void namesBehaveAsOnAFilesystem() throws Exception {
        OverlayStorage o = new OverlayStorage(new WriteRefusingStorage(base()), BLOCK);
        assertThatThrownBy(() -> o.open("d/f0", StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThatThrownBy(() -> o.open("d/none", StandardOpenOption.READ)).isInstanceOf(NoSuchFileException.class);
        assertThatThrownBy(() -> o.open("e/new", StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
                .isInstanceOf(NoSuchFileException.class);
        o.createDirectory("e");
        o.open("e/new", StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        assertThat(o.list("")).contains("d", "e");
        assertThatThrownBy(() -> o.delete("e")).isInstanceOf(java.nio.file.DirectoryNotEmptyException.class);
        o.rename("d/f1", "e/moved");
        assertThat(o.type("d/f1")).isEqualTo(Storage.EntryType.MISSING);
        assertThat(o.getXattr("e/moved", "x").orElseThrow()).containsExactly(1);
        assertThat(o.list("e")).containsExactly("moved", "new");
        assertThat(o.allocatedBytes("e/new")).isZero();
    }
}
