package dev.spillway.osd.testkit.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The crash states the fault-injecting storage can leave, each checked to be reachable (over many
 * seeds) and each forbidden state checked to be unreachable: what was forced always survives.
 */
class CrashStatesTest {
    private static final FaultInjectingStorage.Features EXT4 = FaultInjectingStorage.Features.ext4();

    private static void write(Storage s, String path, byte[] b, boolean force) throws IOException {
        try (StorageFile f = s.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.wrap(b), f.size());
            if (force) {
                f.force(true);
            }
        }
    }

    private static byte[] bytes(int n, int fill) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    /** What {@code path} holds after a crash: "missing", or its length and a digest of its bytes. */
    private static String state(Storage s, String path) throws IOException {
        if (s.type(path) == Storage.EntryType.MISSING) {
            return "missing";
        }
        byte[] b = s.readFully(path);
        int ones = 0;
        int zeros = 0;
        for (byte x : b) {
            if (x == 1) {
                ones++;
            } else if (x == 0) {
                zeros++;
            }
        }
        return b.length + ":" + ones + "/" + zeros;
    }

    @Test
    void aNameMadeDurableByAFolderSyncMayShowAnEmptyOrPartlyWrittenFile() throws Exception {
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 400; seed++) {
            FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
            write(s, "a", bytes(3000, 1), false);
            s.forceDirectory("");
            Storage after = s.survivor(FaultInjectingStorage.CrashMode.NAMES_FIRST, seed);
            seen.add(state(after, "a"));
        }
        // Never missing (its folder was forced); empty, a prefix, whole, or the full size with zeros.
        assertThat(seen).doesNotContain("missing").contains("0:0/0", "3000:3000/0", "3000:0/3000");
        assertThat(seen.stream().anyMatch(x -> !x.startsWith("0:") && !x.startsWith("3000:")))
                .as("a prefix: %s", seen)
                .isTrue();
    }

    @Test
    void aNameNeverForcedMayStillBeThereAfterAJournalCommit() throws Exception {
        FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
        write(s, "b", bytes(10, 1), true);
        Storage after = s.survivor(FaultInjectingStorage.CrashMode.NAMES_FIRST, 1);
        assertThat(state(after, "b")).isEqualTo("10:10/0");
        assertThat(state(s.survivor(FaultInjectingStorage.CrashMode.DROP, 1), "b"))
                .isEqualTo("missing");
    }

    @Test
    void anUnsyncedAppendIsCutAtAnyByte() throws Exception {
        Set<Integer> lengths = new HashSet<>();
        for (int seed = 0; seed < 300; seed++) {
            FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
            write(s, "log", bytes(100, 1), true);
            s.forceDirectory("");
            write(s, "log", bytes(50, 1), false);
            byte[] b = s.survivor(FaultInjectingStorage.CrashMode.TORN, seed).readFully("log");
            assertThat(b.length).isBetween(100, 150);
            lengths.add(b.length);
        }
        assertThat(lengths).contains(100, 150).hasSizeGreaterThan(20);
    }

    @Test
    void aRenameIsDurableOrNotButNeverLosesTheFile() throws Exception {
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 200; seed++) {
            FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
            write(s, "old", bytes(20, 1), true);
            s.forceDirectory("");
            s.rename("old", "new");
            Storage after = s.survivor(FaultInjectingStorage.CrashMode.TORN, seed);
            String o = state(after, "old");
            String n = state(after, "new");
            assertThat(o.equals("missing") && n.equals("missing")).isFalse();
            seen.add(o + "|" + n);
        }
        assertThat(seen).contains("20:20/0|missing", "missing|20:20/0");
    }

    @Test
    void aMultiSectorWriteMayReachTheDiskInPieces() throws Exception {
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 200; seed++) {
            FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
            write(s, "f", bytes(4096, 0), true);
            s.forceDirectory("");
            try (StorageFile f = s.open("f", StandardOpenOption.WRITE)) {
                f.write(ByteBuffer.wrap(bytes(4096, 1)), 0);
            }
            byte[] b = s.survivor(FaultInjectingStorage.CrashMode.SECTORS, seed).readFully("f");
            StringBuilder sectors = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                // Each sector is all old or all new: sectors are atomic.
                byte first = b[i * 512];
                for (int j = 0; j < 512; j++) {
                    assertThat(b[i * 512 + j]).isEqualTo(first);
                }
                sectors.append(first);
            }
            seen.add(sectors.toString());
        }
        assertThat(seen).hasSizeGreaterThan(50);
    }

    @Test
    void whatWasForcedSurvivesEveryMode() throws Exception {
        for (FaultInjectingStorage.CrashMode mode : FaultInjectingStorage.CrashMode.values()) {
            for (int seed = 0; seed < 50; seed++) {
                FaultInjectingStorage s = new FaultInjectingStorage(EXT4);
                s.createDirectory("d");
                s.forceDirectory("");
                write(s, "d/x", bytes(5000, 1), true);
                s.forceDirectory("d");
                write(s, "d/x", bytes(700, 2), false);
                s.rename("d/x", "d/y");
                Storage after = s.survivor(mode, seed);
                byte[] b =
                        after.type("d/x") == Storage.EntryType.FILE ? after.readFully("d/x") : after.readFully("d/y");
                assertThat(b.length).as("%s seed %d", mode, seed).isBetween(5000, 5700);
                for (int i = 0; i < 5000; i++) {
                    assertThat(b[i]).as("%s seed %d byte %d", mode, seed, i).isEqualTo((byte) 1);
                }
            }
        }
    }

    @Test
    void devicesOfOneMachineCrashTogether() throws Exception {
        CrashSwitch power = new CrashSwitch(3);
        FaultInjectingStorage a = new FaultInjectingStorage(EXT4, FaultInjectingStorage.Root.FOLDER, power, "a");
        FaultInjectingStorage b = new FaultInjectingStorage(EXT4, FaultInjectingStorage.Root.FOLDER, power, "b");
        a.createDirectory("x");
        b.createDirectory("x");
        assertThatThrownBy(() -> a.createDirectory("y"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("sim:a");
        assertThatThrownBy(() -> b.createDirectory("y")).isInstanceOf(IOException.class);
        assertThat(a.crashed()).isTrue();
        assertThat(b.crashed()).isTrue();
        assertThat(power.calls()).isEqualTo(3);
    }
}
