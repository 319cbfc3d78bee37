package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Attr;
import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.XattrFlag;
import org.junit.jupiter.api.Test;

/** Objects and attributes: create, getattr, setattr, destroy, data version. */
public interface AttrContract extends OsdContract {

    @Test
    default void createdDataObjectIsEmptyWithVersion() throws Exception {
        Fid f = create(ObjectKind.DATA);
        Attr a = osd().getAttr(f);
        assertThat(a.kind()).isEqualTo(ObjectKind.DATA);
        assertThat(a.size()).isZero();
        assertThat(a.dataVersion()).isPositive();
        assertThat(osd().exists(f)).isTrue();
    }

    @Test
    default void createdIndexObjectHasIndexKind() throws Exception {
        assumeCapability(Capability.INDEX);
        Fid f = create(ObjectKind.INDEX);
        assertThat(osd().getAttr(f).kind()).isEqualTo(ObjectKind.INDEX);
    }

    @Test
    default void createTwiceIsEexist() throws Exception {
        Fid f = create(ObjectKind.DATA);
        assertErrno(Errno.EEXIST, () -> create(f, ObjectKind.DATA));
    }

    @Test
    default void getAttrOfMissingIsEnoentNamingTheObject() throws Exception {
        Fid f = newFid();
        var e = assertErrno(Errno.ENOENT, () -> osd().getAttr(f));
        assertThat(e.getMessage()).contains(f.toString());
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void createTakesInitialAttributes() throws Exception {
        Fid f = newFid();
        AttrChange init = AttrChange.none()
                .mode(0100644)
                .uid(1000)
                .gid(100)
                .flags(0x10)
                .atime(1_000_000_000L)
                .mtime(2_000_000_000L)
                .ctime(3_000_000_000L);
        tx(t -> t.declareCreate(f, ObjectKind.DATA), t -> t.create(f, ObjectKind.DATA, init));
        Attr a = osd().getAttr(f);
        assertThat(a.mode()).isEqualTo(0100644);
        assertThat(a.uid()).isEqualTo(1000);
        assertThat(a.gid()).isEqualTo(100);
        assertThat(a.flags()).isEqualTo(0x10);
        assertThat(a.atime()).isEqualTo(1_000_000_000L);
        assertThat(a.mtime()).isEqualTo(2_000_000_000L);
        assertThat(a.ctime()).isEqualTo(3_000_000_000L);
    }

    @Test
    default void setAttrChangesOnlyTheMaskedFields() throws Exception {
        Fid f = newFid();
        tx(
                t -> t.declareCreate(f, ObjectKind.DATA),
                t -> t.create(
                        f, ObjectKind.DATA, AttrChange.none().mode(0600).uid(1).gid(2)));
        tx(t -> t.declareSetAttr(f), t -> t.setAttr(f, AttrChange.none().uid(42).mtime(5_000_000_000L)));
        Attr a = osd().getAttr(f);
        assertThat(a.uid()).isEqualTo(42);
        assertThat(a.mtime()).isEqualTo(5_000_000_000L);
        assertThat(a.mode()).isEqualTo(0600);
        assertThat(a.gid()).isEqualTo(2);
    }

    @Test
    default void setAttrKeepsTheDataVersion() throws Exception {
        Fid f = createData(new byte[] {1, 2, 3});
        long v = osd().getAttr(f).dataVersion();
        tx(t -> t.declareSetAttr(f), t -> t.setAttr(f, AttrChange.none().mode(0640)));
        assertThat(osd().getAttr(f).dataVersion()).isEqualTo(v);
        assertThat(osd().getAttr(f).size()).isEqualTo(3);
    }

    @Test
    default void setAttrOfMissingIsEnoent() throws Exception {
        Fid f = newFid();
        assertErrno(
                Errno.ENOENT,
                () -> tx(
                        t -> t.declareSetAttr(f),
                        t -> t.setAttr(f, AttrChange.none().uid(1))));
    }

    @Test
    default void destroyRemovesTheObject() throws Exception {
        Fid f = createData(new byte[100]);
        destroy(f);
        assertThat(osd().exists(f)).isFalse();
        assertErrno(Errno.ENOENT, () -> osd().getAttr(f));
        assertErrno(Errno.ENOENT, () -> osd().read(f, 0, java.nio.ByteBuffer.allocate(10)));
    }

    @Test
    default void destroyOfMissingIsEnoent() throws Exception {
        Fid f = newFid();
        assertErrno(Errno.ENOENT, () -> destroy(f));
    }

    @Test
    default void destroyedObjectCanBeCreatedAgainEmpty() throws Exception {
        Fid f = createData(new byte[] {9, 9, 9});
        destroy(f);
        create(f, ObjectKind.DATA);
        assertThat(osd().getAttr(f).size()).isZero();
    }

    @Test
    default void dataVersionGrowsWithEveryBodyChangeOnly() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = createData(new byte[10]);
        long v0 = osd().getAttr(f).dataVersion();
        write(f, 0, new byte[] {1});
        long v1 = osd().getAttr(f).dataVersion();
        assertThat(v1).isGreaterThan(v0);
        if (osd().capabilities().has(Capability.XATTRS)) {
            setXattr(f, "user.a", new byte[] {1}, XattrFlag.UPSERT);
            assertThat(osd().getAttr(f).dataVersion()).isEqualTo(v1);
        }
        truncate(f, 5);
        assertThat(osd().getAttr(f).dataVersion()).isGreaterThan(v1);
    }

    @Test
    default void writeMovesMtimeForward() throws Exception {
        assumeCapability(Capability.PARTIAL_WRITE);
        Fid f = newFid();
        tx(
                t -> t.declareCreate(f, ObjectKind.DATA),
                t -> t.create(f, ObjectKind.DATA, AttrChange.none().mtime(1L)));
        write(f, 0, new byte[] {1, 2});
        assertThat(osd().getAttr(f).mtime()).isGreaterThan(1L);
    }
}
