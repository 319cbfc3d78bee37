package dev.spillway.osd.vfs;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import dev.spillway.osd.spi.storage.StoragePaths;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The files and directories changed since they were last forced: what {@code sync()} (journal
 * off) and a checkpoint (journal on) must force. An entry is removed before it is forced, so a
 * change racing with the force marks it again and is forced next time; a failed force puts it
 * back and fails the caller.
 *
 * <p>Directories are forced after files and the staging directory last: a body renamed from
 * staging into the object tree must never have its old name made durable gone while its new
 * name is not yet durable.
 */
final class DirtySet {
    // How many files are forced at once: fsyncs issued together share the filesystem's journal
    // commits, and a small file's commit hides behind a large one's writeback. 1 = in order.
    private final int threads;
    private final Set<String> files = ConcurrentHashMap.newKeySet();
    // Files whose inode metadata (xattrs) changed: forced with fsync, not fdatasync, which
    // would not flush an xattr-only change.
    private final Set<String> inodes = ConcurrentHashMap.newKeySet();
    private final Set<String> dirs = ConcurrentHashMap.newKeySet();
    // Object directories that received a body renamed out of staging and are not yet forced.
    private final Set<String> installTargets = ConcurrentHashMap.newKeySet();

    /** Handles already open (the object files' cache), through which a file can be forced without an open of its own. */
    interface OpenHandles {
        /** Forces {@code path} through an open handle of it; false if none is open. */
        boolean force(String path, boolean metadata) throws IOException;
    }

    private volatile OpenHandles open;

    DirtySet(int threads) {
        this.threads = Math.max(1, threads);
    }

    /** Forces files through {@code handles} where they have one open (fsync is per file, not per descriptor). */
    void useHandles(OpenHandles handles) {
        this.open = handles;
    }

    void file(String path) {
        files.add(path);
    }

    void inode(String path) {
        inodes.add(path);
    }

    void dir(String path) {
        dirs.add(path);
    }

    /** {@code dir} received a body renamed out of staging. */
    void installedInto(String dir) {
        installTargets.add(dir);
        dirs.add(dir);
        dirs.add(DeviceLayout.STAGING);
    }

    /**
     * Forces the staging directory (new staged bodies must be durable before their record),
     * first forcing every directory a staged body was renamed into (and {@code objects/}, which
     * may hold a new such directory): otherwise the old name's removal could become durable
     * while the new name is not, and the body would be lost.
     */
    void forceStaging(Storage s) throws IOException {
        if (!installTargets.isEmpty() && dirs.remove(ObjectIndex.OBJECTS)) {
            // A target directory may be new itself: its name in objects/ must be durable too.
            try {
                s.forceDirectory(ObjectIndex.OBJECTS);
            } catch (IOException | RuntimeException e) {
                dirs.add(ObjectIndex.OBJECTS);
                throw e;
            }
        }
        for (String d : new ArrayList<>(installTargets)) {
            if (installTargets.remove(d)) {
                try {
                    s.forceDirectory(d);
                } catch (IOException | RuntimeException e) {
                    installTargets.add(d);
                    throw e;
                }
            }
        }
        s.forceDirectory(DeviceLayout.STAGING);
    }

    boolean isEmpty() {
        return files.isEmpty() && inodes.isEmpty() && dirs.isEmpty();
    }

    /** Forces everything dirty now. */
    void forceAll(Storage s) throws IOException {
        List<String> all = new ArrayList<>(files);
        all.addAll(inodes);
        force(s, all, new ArrayList<>(dirs));
    }

    /** Forces these files and, of these directories, the ones that are dirty. */
    void force(Storage s, Collection<String> someFiles, Collection<String> someDirs) throws IOException {
        List<String[]> work = new ArrayList<>();
        for (String f : withFilesNamedIn(someFiles, someDirs)) {
            boolean inode = inodes.remove(f);
            boolean data = files.remove(f);
            if (inode || data) {
                work.add(new String[] {f, inode ? "inode" : "", data ? "data" : ""});
            }
        }
        IOException failed = null;
        if (threads == 1 || work.size() < 2) {
            for (String[] w : work) {
                failed = forceOne(s, w, failed);
            }
        } else {
            java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(threads);
            List<Thread> running = new ArrayList<>();
            IOException[] errors = new IOException[work.size()];
            for (int i = 0; i < work.size(); i++) {
                String[] w = work.get(i);
                int at = i;
                permits.acquireUninterruptibly();
                running.add(Thread.ofVirtual().start(() -> {
                    try {
                        errors[at] = forceOne(s, w, null);
                    } finally {
                        permits.release();
                    }
                }));
            }
            for (Thread t : running) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while forcing files");
                }
            }
            for (IOException e : errors) {
                if (e != null && failed == null) {
                    failed = e;
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        List<String> order = new ArrayList<>();
        List<String> last = new ArrayList<>();
        for (String d : someDirs) {
            (d.startsWith(DeviceLayout.STAGING) ? last : order).add(d);
        }
        order.sort(null);
        order.addAll(last);
        for (String d : order) {
            installTargets.remove(d);
            if (dirs.remove(d)) {
                try {
                    s.forceDirectory(d);
                } catch (NoSuchFileException e) {
                    // removed since: nothing left to make durable in it
                } catch (IOException | RuntimeException e) {
                    dirs.add(d);
                    throw e;
                }
            }
        }
    }

    /**
     * {@code someFiles} and every dirty file named in one of the dirty {@code someDirs}: the fsync
     * of a directory makes every name in it durable, so the content of each file named there must
     * be durable first — else a crash shows the name with an empty or torn file (a spill copy's
     * record made durable by the sync of another copy that shares its directory).
     */
    private Collection<String> withFilesNamedIn(Collection<String> someFiles, Collection<String> someDirs) {
        Set<String> forcing = new java.util.LinkedHashSet<>(someFiles);
        Set<String> dirtyDirs = new java.util.HashSet<>();
        for (String d : someDirs) {
            if (dirs.contains(d)) {
                dirtyDirs.add(d);
            }
        }
        if (!dirtyDirs.isEmpty()) {
            for (Set<String> dirty : List.of(files, inodes)) {
                for (String f : dirty) {
                    if (dirtyDirs.contains(StoragePaths.parent(f))) {
                        forcing.add(f);
                    }
                }
            }
        }
        return forcing;
    }

    /** Forces one file; on failure marks it dirty again and returns the error (the first one kept). */
    private IOException forceOne(Storage s, String[] w, IOException earlier) {
        boolean inode = !w[1].isEmpty();
        boolean data = !w[2].isEmpty();
        try {
            forceFile(s, w[0], inode);
            return earlier;
        } catch (IOException | RuntimeException e) {
            if (inode) {
                inodes.add(w[0]);
            }
            if (data) {
                files.add(w[0]);
            }
            IOException io = e instanceof IOException x ? x : new IOException(e);
            return earlier != null ? earlier : io;
        }
    }

    private void forceFile(Storage s, String path, boolean metadata) throws IOException {
        OpenHandles h = open;
        if (h != null && h.force(path, metadata)) {
            return;
        }
        StorageFile f;
        try {
            f = s.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return; // deleted since; its directory's force makes that durable
        }
        try (f) {
            f.force(metadata);
        }
    }
}
