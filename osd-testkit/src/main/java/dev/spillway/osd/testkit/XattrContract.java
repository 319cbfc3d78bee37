package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Extended attributes with Lustre's semantics: flags, size queries, ERANGE, ENODATA. */
public interface XattrContract extends OsdContract {

    private Fid xattrObject() throws Exception {
        assumeCapability(Capability.XATTRS);
        return create(ObjectKind.DATA);
    }

    @Test
    default void setThenGetReturnsTheValue() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.color", "blue".getBytes(), XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.color")).isEqualTo("blue".getBytes());
    }

    @Test
    default void emptyXattrValueIsAValue() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.empty", new byte[0], XattrFlag.CREATE);
        assertThat(osd().getXattr(f, "user.empty")).isEmpty();
        assertThat(osd().getXattr(f, "user.empty", null)).isZero();
        assertThat(osd().listXattrs(f)).contains("user.empty");
    }

    @Test
    default void largestAdvertisedValueFits() throws Exception {
        Fid f = xattrObject();
        byte[] v = OsdContract.random(7, osd().capabilities().maxXattrValue());
        setXattr(f, "user.big", v, XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.big")).isEqualTo(v);
    }

    @Test
    default void xattrValueOverTheLimitIsE2big() throws Exception {
        Fid f = xattrObject();
        byte[] v = new byte[osd().capabilities().maxXattrValue() + 1];
        assertErrno(Errno.E2BIG, () -> setXattr(f, "user.huge", v, XattrFlag.UPSERT));
        assertErrno(Errno.ENODATA, () -> osd().getXattr(f, "user.huge"));
    }

    @Test
    default void createOnAnExistingNameIsEexist() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.a", new byte[] {1}, XattrFlag.CREATE);
        assertErrno(Errno.EEXIST, () -> setXattr(f, "user.a", new byte[] {2}, XattrFlag.CREATE));
        assertThat(osd().getXattr(f, "user.a")).containsExactly(1);
    }

    @Test
    default void replaceOnAMissingNameIsEnodata() throws Exception {
        Fid f = xattrObject();
        assertErrno(Errno.ENODATA, () -> setXattr(f, "user.none", new byte[] {1}, XattrFlag.REPLACE));
        assertThat(osd().listXattrs(f)).doesNotContain("user.none");
    }

    @Test
    default void replaceOnAnExistingNameReplaces() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.a", new byte[] {1, 2, 3}, XattrFlag.UPSERT);
        setXattr(f, "user.a", new byte[] {4}, XattrFlag.REPLACE);
        assertThat(osd().getXattr(f, "user.a")).containsExactly(4);
    }

    @Test
    default void upsertOverwritesWithADifferentSize() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.a", new byte[100], XattrFlag.UPSERT);
        setXattr(f, "user.a", new byte[] {7, 7}, XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.a")).containsExactly(7, 7);
        assertThat(osd().getXattr(f, "user.a", null)).isEqualTo(2);
    }

    @Test
    default void getOfAMissingNameIsEnodata() throws Exception {
        Fid f = xattrObject();
        assertErrno(Errno.ENODATA, () -> osd().getXattr(f, "user.missing"));
        assertErrno(Errno.ENODATA, () -> osd().getXattr(f, "user.missing", null));
    }

    @Test
    default void xattrCallsOnAMissingObjectAreEnoent() throws Exception {
        assumeCapability(Capability.XATTRS);
        Fid f = newFid();
        assertErrno(Errno.ENOENT, () -> osd().getXattr(f, "user.a"));
        assertErrno(Errno.ENOENT, () -> osd().listXattrs(f));
        assertErrno(Errno.ENOENT, () -> setXattr(f, "user.a", new byte[1], XattrFlag.UPSERT));
    }

    @Test
    default void nullBufferIsASizeQuery() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.s", new byte[37], XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.s", null)).isEqualTo(37);
    }

    @Test
    default void tooSmallBufferIsErangeAndUntouched() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.s", new byte[] {1, 2, 3, 4, 5}, XattrFlag.UPSERT);
        ByteBuffer small = ByteBuffer.allocate(4);
        assertErrno(Errno.ERANGE, () -> osd().getXattr(f, "user.s", small));
        assertThat(small.position()).isZero();
    }

    @Test
    default void exactBufferReceivesTheValue() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.s", new byte[] {1, 2, 3, 4, 5}, XattrFlag.UPSERT);
        ByteBuffer exact = ByteBuffer.allocate(5);
        assertThat(osd().getXattr(f, "user.s", exact)).isEqualTo(5);
        assertThat(exact.array()).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    default void deleteRemovesTheName() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.d", new byte[] {1}, XattrFlag.UPSERT);
        deleteXattr(f, "user.d");
        assertErrno(Errno.ENODATA, () -> osd().getXattr(f, "user.d"));
        assertThat(osd().listXattrs(f)).doesNotContain("user.d");
    }

    @Test
    default void deleteOfAMissingNameIsEnodata() throws Exception {
        Fid f = xattrObject();
        assertErrno(Errno.ENODATA, () -> deleteXattr(f, "user.never"));
    }

    @Test
    default void manyNamesAreListedSorted() throws Exception {
        Fid f = xattrObject();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            names.add(String.format("user.n%03d", (i * 37) % 120));
        }
        try (var t = osd().newTransaction()) {
            for (String n : names) {
                t.declareSetXattr(f, n, 4);
            }
            t.start();
            for (String n : names) {
                t.setXattr(f, n, n.substring(n.length() - 3).getBytes(), XattrFlag.CREATE);
            }
        }
        List<String> listed = osd().listXattrs(f);
        assertThat(listed).containsAll(names).isSorted();
        assertThat(osd().getXattr(f, "user.n077")).isEqualTo("077".getBytes());
    }

    @Test
    default void nameOverTheLimitIsErange() throws Exception {
        Fid f = xattrObject();
        String longName = "user." + "x".repeat(osd().capabilities().maxXattrName());
        assertErrno(Errno.ERANGE, () -> setXattr(f, longName, new byte[1], XattrFlag.UPSERT));
    }

    @Test
    default void emptyNameIsEinval() throws Exception {
        Fid f = xattrObject();
        assertErrno(Errno.EINVAL, () -> setXattr(f, "", new byte[1], XattrFlag.UPSERT));
    }

    @Test
    default void everyByteValueRoundTrips() throws Exception {
        Fid f = xattrObject();
        byte[] v = new byte[256];
        for (int i = 0; i < 256; i++) {
            v[i] = (byte) i;
        }
        setXattr(f, "user.bin", v, XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.bin")).isEqualTo(v);
    }

    @Test
    default void indexObjectsHaveXattrsToo() throws Exception {
        assumeCapability(Capability.XATTRS);
        assumeCapability(Capability.INDEX);
        Fid f = create(ObjectKind.INDEX);
        setXattr(f, "user.kind", "bucket".getBytes(), XattrFlag.UPSERT);
        assertThat(osd().getXattr(f, "user.kind")).isEqualTo("bucket".getBytes());
    }

    @Test
    default void xattrsDieWithTheObject() throws Exception {
        Fid f = xattrObject();
        setXattr(f, "user.a", new byte[] {1}, XattrFlag.UPSERT);
        destroy(f);
        create(f, ObjectKind.DATA);
        assertThat(osd().listXattrs(f)).doesNotContain("user.a");
    }

    @Test
    default void withoutXattrsEveryCallIsEopnotsupp() throws Exception {
        assumeLacks(Capability.XATTRS);
        Fid f = create(ObjectKind.DATA);
        assertErrno(Errno.EOPNOTSUPP, () -> osd().getXattr(f, "user.a"));
        assertErrno(Errno.EOPNOTSUPP, () -> osd().listXattrs(f));
        assertErrno(Errno.EOPNOTSUPP, () -> setXattr(f, "user.a", new byte[1], XattrFlag.UPSERT));
    }
}
