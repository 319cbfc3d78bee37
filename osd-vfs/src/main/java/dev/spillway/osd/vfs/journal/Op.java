package dev.spillway.osd.vfs.journal;

import dev.spillway.osd.Attr;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;

/**
 * One update of a journal record. Every op is absolute ("make it so"), never relative, so that
 * replaying a record over files that already hold some of its effects — or effects of later
 * records — ends in the same state: replay is idempotent.
 */
public sealed interface Op {
    Fid fid();

    /** A fresh, empty object: leftovers of the FID go, an empty body is created. */
    record Create(Fid fid, ObjectKind kind) implements Op {}

    /**
     * A fresh object whose body is the staged file {@code staged} (forced, with its name, before
     * the record was logged): it is renamed into place; if it is already gone, it was.
     */
    record Install(Fid fid, ObjectKind kind, String staged) implements Op {}

    record Destroy(Fid fid) implements Op {}

    record Write(Fid fid, long offset, byte[] data) implements Op {}

    record Punch(Fid fid, long offset, long length) implements Op {}

    record Truncate(Fid fid, long size) implements Op {}

    record SetXattr(Fid fid, String name, byte[] value) implements Op {}

    record RemoveXattr(Fid fid, String name) implements Op {}

    /** The object's record after the transaction (size and blocks are the body's own). */
    record SetAttr(Fid fid, Attr attr) implements Op {}
}
