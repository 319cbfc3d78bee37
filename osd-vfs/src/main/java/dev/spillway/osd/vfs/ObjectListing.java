package dev.spillway.osd.vfs;

import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.storage.StorageErrors;
import java.io.IOException;
import java.util.Collections;
import java.util.Iterator;

/**
 * {@link VfsOsd#listObjects()}: walks {@code objects/} lazily, one hash directory at a time,
 * naming every object that has a record (in xattr-record devices a getxattr per body; weakly consistent: objects created or destroyed while
 * it runs may or may not appear).
 */
final class ObjectListing implements ObjectCursor {
    private final VfsOsd osd;
    private final Iterator<String> dirs;
    private Iterator<String> files = Collections.emptyIterator();
    private String dir;
    private Fid current;

    ObjectListing(VfsOsd osd) throws OsdException {
        this.osd = osd;
        try {
            dirs = osd.storage().list(ObjectIndex.OBJECTS).iterator();
        } catch (IOException e) {
            throw StorageErrors.toOsd(osd.name(), null, "list objects", e);
        }
    }

    @Override
    public boolean next() throws OsdException {
        osd.ensureOpen();
        try {
            while (true) {
                while (files.hasNext()) {
                    Fid f = osd.store().listed(dir, files.next());
                    if (f != null) {
                        current = f;
                        return true;
                    }
                }
                if (!dirs.hasNext()) {
                    current = null;
                    return false;
                }
                dir = ObjectIndex.OBJECTS + "/" + dirs.next();
                files = osd.storage().list(dir).iterator();
            }
        } catch (IOException e) {
            throw StorageErrors.toOsd(osd.name(), null, "list objects", e);
        }
    }

    @Override
    public Fid fid() {
        return current;
    }

    @Override
    public void close() {}
}
