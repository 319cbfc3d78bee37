package dev.spillway.osd.kv;

import dev.spillway.osd.spi.storage.Storage;
import dev.spillway.osd.spi.storage.StorageFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The extent files of large bodies, in {@code extents/}, each named by its 64-bit id in hex.
 * A file is written once, by one transaction, for one object, and never changed afterwards
 * (copy-on-write): a later write to the same range goes to a new file or to inline blocks, and
 * the old file is deleted only after the metadata that stopped referencing it is durable. So a
 * reader holding an older view can always read the bytes it saw, or finds the file gone and
 * retries with a newer view.
 *
 * <p>Every file operation goes through the folder's {@link Storage} (so crash tests run it on the
 * fault-injecting storage).
 */
final class ExtentFiles implements AutoCloseable {
    /** Supplies a readable channel for an extent file id. */
    @FunctionalInterface
    interface Source {
        StorageFile channel(long fileId) throws IOException;
    }

    /**
     * A file being written by a transaction.
     *
     * @param nameDurable its directory entry is already durable (a spare file), so the commit
     *     needs no fsync of the folder for it
     */
    record Written(long id, StorageFile channel, boolean nameDurable) {}

    /** Empty files kept ready, their names fsynced, so that a commit saves the folder fsync. */
    private static final int SPARES = 4;

    private final java.util.concurrent.ConcurrentLinkedQueue<Long> spare =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.Set<Long> spareIds = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean refilling = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    private final Storage storage;
    private final AtomicLong nextId;
    // Runs the refill of spare files (a virtual thread; inline in crash tests, for determinism).
    private final Executor background;
    // Read channels of committed files, opened on first read; a freed file's is closed.
    private final ConcurrentHashMap<Long, StorageFile> readers = new ConcurrentHashMap<>();

    /** The extent files in {@link KvFolder#EXTENTS} of {@code storage} (the device's folder). */
    ExtentFiles(Storage storage, long firstId, Executor background) {
        this.storage = storage;
        this.nextId = new AtomicLong(firstId);
        this.background = background;
    }

    /** The file's path in the device's folder. */
    static String path(long id) {
        return KvFolder.EXTENTS + "/" + name(id);
    }

    /** The size of a file; NoSuchFileException if it is missing. */
    long size(long id) throws IOException {
        return storage.size(path(id));
    }

    /** True if the file exists. */
    boolean exists(long id) throws IOException {
        return storage.type(path(id)) == Storage.EntryType.FILE;
    }

    static String name(long id) {
        return String.format("%016x.ext", id);
    }

    /** The id a file name stands for, or -1 if it is not an extent file's name. */
    static long idOf(String name) {
        if (name.length() != 20 || !name.endsWith(".ext")) {
            return -1;
        }
        try {
            return Long.parseUnsignedLong(name.substring(0, 16), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A device-unique number (from the file id sequence) for {@link InodeRecord#layout()}. */
    long stamp() {
        return nextId.getAndIncrement();
    }

    Written create() throws IOException {
        Long s = spare.poll();
        refillLater();
        if (s != null) {
            spareIds.remove(s);
            return new Written(s, storage.open(path(s), StandardOpenOption.WRITE, StandardOpenOption.READ), true);
        }
        while (true) {
            long id = nextId.getAndIncrement();
            try {
                return new Written(
                        id,
                        storage.open(
                                path(id),
                                StandardOpenOption.CREATE_NEW,
                                StandardOpenOption.WRITE,
                                StandardOpenOption.READ),
                        false);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // a file a failed transaction could not delete; skip its id (the mount removes it)
            }
        }
    }

    /** Tops up the spare files in the background; spares left at a crash are orphans the mount deletes. */
    private void refillLater() {
        if (closed || spare.size() >= SPARES || !refilling.compareAndSet(false, true)) {
            return;
        }
        background.execute(() -> {
            try {
                List<Long> made = new ArrayList<>();
                while (!closed && spare.size() + made.size() < SPARES) {
                    long id = nextId.getAndIncrement();
                    storage.open(path(id), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)
                            .close();
                    made.add(id);
                }
                syncDir();
                spareIds.addAll(made);
                spare.addAll(made);
            } catch (IOException e) {
                // No spares: commits create their files and fsync the folder themselves.
            } finally {
                refilling.set(false);
            }
        });
    }

    /** Waits for a running refill, so that a listing sees no half-registered spare. */
    void awaitRefill() {
        while (refilling.get()) {
            Thread.onSpinWait();
        }
    }

    /** True for an empty spare file (not a leak). */
    boolean isSpare(long id) {
        return spareIds.contains(id);
    }

    /** A read channel for a committed file; NoSuchFileException if it is gone. */
    StorageFile reader(long id) throws IOException {
        try {
            return readers.computeIfAbsent(id, i -> {
                try {
                    return storage.open(path(i), StandardOpenOption.READ);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Deletes a file nothing references any more; a missing file is fine (a redo). */
    void delete(long id) throws IOException {
        closeReader(id);
        try {
            storage.delete(path(id));
        } catch (NoSuchFileException e) {
            // deleted before a crash, or by a previous attempt
        }
        // A reader may have reopened it between the close and the unlink.
        closeReader(id);
    }

    private void closeReader(long id) throws IOException {
        StorageFile c = readers.remove(id);
        if (c != null) {
            c.close();
        }
    }

    void syncDir() throws IOException {
        storage.forceDirectory(KvFolder.EXTENTS);
    }

    /** Ids of every extent file in the folder, and the names that are not extent files. */
    List<Long> listIds(List<String> strangers) throws IOException {
        List<Long> ids = new ArrayList<>();
        for (String n : storage.list(KvFolder.EXTENTS)) {
            long id = idOf(n);
            if (id < 0) {
                strangers.add(n);
            } else {
                ids.add(id);
            }
        }
        return ids;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        while (refilling.get()) {
            Thread.onSpinWait();
        }
        IOException first = null;
        for (Long id : List.copyOf(readers.keySet())) {
            try {
                closeReader(id);
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
