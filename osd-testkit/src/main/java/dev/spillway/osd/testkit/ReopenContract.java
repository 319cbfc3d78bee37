package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.XattrFlag;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What a persistent device keeps across an orderly unmount and mount. */
public interface ReopenContract extends OsdContract {

    private void assumeReopenable() {
        Assumptions.assumeTrue(reopenable(), () -> osd().backend() + " is volatile: reopen tests skipped");
    }

    @Test
    default void bodiesAndAttributesSurviveReopen() throws Exception {
        assumeReopenable();
        byte[] data = OsdContract.random(30, 300_000);
        Fid f = createData(data);
        long version = osd().getAttr(f).dataVersion();
        reopen();
        assertThat(readAll(f)).isEqualTo(data);
        assertThat(osd().getAttr(f).dataVersion()).isEqualTo(version);
    }

    @Test
    default void xattrsAndIndexesSurviveReopen() throws Exception {
        assumeReopenable();
        Fid f = create(ObjectKind.DATA);
        boolean x = osd().capabilities().has(Capability.XATTRS);
        boolean ix = osd().capabilities().has(Capability.INDEX);
        if (x) {
            setXattr(f, "user.k", new byte[] {4, 2}, XattrFlag.UPSERT);
        }
        Fid index = null;
        if (ix) {
            index = create(ObjectKind.INDEX);
            insert(index, new byte[] {1}, new byte[] {2});
        }
        reopen();
        assertThat(osd().exists(f)).isTrue();
        if (x) {
            assertThat(osd().getXattr(f, "user.k")).containsExactly(4, 2);
        }
        if (ix) {
            assertThat(osd().lookup(index, new byte[] {1}).orElseThrow()).containsExactly(2);
        }
    }

    @Test
    default void destroyedObjectsStayDestroyed() throws Exception {
        assumeReopenable();
        Fid f = createData(new byte[1000]);
        destroy(f);
        reopen();
        assertThat(osd().exists(f)).isFalse();
    }

    @Test
    default void statfsIsTheSameAfterReopen() throws Exception {
        assumeReopenable();
        withCapacity(64L << 20);
        createData(new byte[100_000]);
        osd().sync();
        var before = osd().statfs();
        reopen();
        var after = osd().statfs();
        assertThat(after.objects()).isEqualTo(before.objects());
        assertThat(after.usedBytes()).isEqualTo(before.usedBytes());
    }
}
