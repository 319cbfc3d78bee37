package dev.spillway.osd.filter;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.CommitCallback;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.SpaceClass;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.Objects;

/** A transaction that forwards everything to another; the base for wrappers' transactions. */
public class FilterTransaction implements Transaction {
    protected final Transaction in;

    public FilterTransaction(Transaction in) {
        this.in = Objects.requireNonNull(in, "in");
    }

    public Transaction getDelegate() {
        return in;
    }

    @Override
    public long id() {
        return in.id();
    }

    @Override
    public void declareCreate(Fid fid, ObjectKind kind) throws OsdException {
        in.declareCreate(fid, kind);
    }

    @Override
    public void declareDestroy(Fid fid) throws OsdException {
        in.declareDestroy(fid);
    }

    @Override
    public void declareWrite(Fid fid, long offset, long length) throws OsdException {
        in.declareWrite(fid, offset, length);
    }

    @Override
    public void declarePunch(Fid fid, long offset, long length) throws OsdException {
        in.declarePunch(fid, offset, length);
    }

    @Override
    public void declareTruncate(Fid fid, long size) throws OsdException {
        in.declareTruncate(fid, size);
    }

    @Override
    public void declareSetAttr(Fid fid) throws OsdException {
        in.declareSetAttr(fid);
    }

    @Override
    public void declareSetXattr(Fid fid, String name, int valueLength) throws OsdException {
        in.declareSetXattr(fid, name, valueLength);
    }

    @Override
    public void declareDeleteXattr(Fid fid, String name) throws OsdException {
        in.declareDeleteXattr(fid, name);
    }

    @Override
    public void declareInsert(Fid index, int keyLength, int valueLength) throws OsdException {
        in.declareInsert(index, keyLength, valueLength);
    }

    @Override
    public void declareDelete(Fid index, int keyLength) throws OsdException {
        in.declareDelete(index, keyLength);
    }

    @Override
    public void setSync(boolean sync) {
        in.setSync(sync);
    }

    @Override
    public void continuesAccess(Fid fid) {
        in.continuesAccess(fid);
    }

    @Override
    public void bodyContinues(Fid fid) {
        in.bodyContinues(fid);
    }

    @Override
    public void setSpaceClass(SpaceClass spaceClass) throws OsdException {
        in.setSpaceClass(spaceClass);
    }

    @Override
    public void addCommitCallback(CommitCallback callback) {
        in.addCommitCallback(callback);
    }

    @Override
    public void start() throws OsdException {
        in.start();
    }

    @Override
    public void create(Fid fid, ObjectKind kind, AttrChange attrs) throws OsdException {
        in.create(fid, kind, attrs);
    }

    @Override
    public void destroy(Fid fid) throws OsdException {
        in.destroy(fid);
    }

    @Override
    public boolean destroyIfExists(Fid fid) throws OsdException {
        return in.destroyIfExists(fid);
    }

    @Override
    public void setAttr(Fid fid, AttrChange change) throws OsdException {
        in.setAttr(fid, change);
    }

    @Override
    public void write(Fid fid, long offset, ByteBuffer src) throws OsdException {
        in.write(fid, offset, src);
    }

    @Override
    public void punch(Fid fid, long offset, long length) throws OsdException {
        in.punch(fid, offset, length);
    }

    @Override
    public void truncate(Fid fid, long size) throws OsdException {
        in.truncate(fid, size);
    }

    @Override
    public void setXattr(Fid fid, String name, byte[] value, XattrFlag flag) throws OsdException {
        in.setXattr(fid, name, value, flag);
    }

    @Override
    public void deleteXattr(Fid fid, String name) throws OsdException {
        in.deleteXattr(fid, name);
    }

    @Override
    public void insert(Fid index, byte[] key, byte[] value) throws OsdException {
        in.insert(index, key, value);
    }

    @Override
    public void upsert(Fid index, byte[] key, byte[] value) throws OsdException {
        in.upsert(index, key, value);
    }

    @Override
    public void delete(Fid index, byte[] key) throws OsdException {
        in.delete(index, key);
    }

    @Override
    public void abort() {
        in.abort();
    }

    @Override
    public void stop() throws OsdException {
        in.stop();
    }

    @Override
    public void close() throws OsdException {
        in.close();
    }
}
