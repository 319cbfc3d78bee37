package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capabilities;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.ObjectKind;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The device as a whole: names, honest capabilities, listing, errors naming the device. */
public interface DeviceContract extends OsdContract {

    @Test
    default void hasANameAndABackend() {
        assertThat(osd().name()).isNotBlank();
        assertThat(osd().backend()).isNotBlank();
    }

    @Test
    default void capabilitiesAreConsistent() {
        Capabilities c = osd().capabilities();
        assertThat(Integer.bitCount(c.blockSize()))
                .as("block size is a power of two")
                .isEqualTo(1);
        assertThat(c.preferredIoSize()).isPositive();
        assertThat(c.maxObjectSize()).isGreaterThanOrEqualTo(1L << 30);
        if (c.has(Capability.XATTRS)) {
            assertThat(c.maxXattrValue()).isPositive();
            assertThat(c.maxXattrName()).isGreaterThanOrEqualTo(64);
        }
        if (c.has(Capability.INDEX)) {
            assertThat(c.maxIndexKey()).as("index keys hold at least a FID").isGreaterThanOrEqualTo(Fid.BYTES);
            assertThat(c.maxIndexValue()).isGreaterThanOrEqualTo(Fid.BYTES);
        }
        if (c.has(Capability.DURABLE_COMMIT)) {
            assertThat(c.has(Capability.TRANSACTIONS))
                    .as("durable commit callbacks need transactions")
                    .isTrue();
        }
    }

    @Test
    default void listObjectsShowsWhatWasCreated() throws Exception {
        assumeCapability(Capability.LIST_OBJECTS);
        Set<Fid> made = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            made.add(create(ObjectKind.DATA));
        }
        Fid gone = create(ObjectKind.DATA);
        destroy(gone);
        Set<Fid> listed = new HashSet<>();
        try (ObjectCursor c = osd().listObjects()) {
            while (c.next()) {
                listed.add(c.fid());
            }
        }
        assertThat(listed).containsAll(made).doesNotContain(gone);
    }

    @Test
    default void withoutListingItIsEopnotsupp() throws Exception {
        assumeLacks(Capability.LIST_OBJECTS);
        assertErrno(Errno.EOPNOTSUPP, () -> osd().listObjects().close());
    }

    @Test
    default void errorsNameTheDeviceAndTheObject() throws Exception {
        Fid f = newFid();
        var e = assertErrno(Errno.ENOENT, () -> osd().getAttr(f));
        assertThat(e.device()).isEqualTo(osd().name());
        assertThat(e.fid()).isEqualTo(f);
    }

    @Test
    default void fidsOfManyKindsAreDistinctObjects() throws Exception {
        Fid base = newFid();
        Fid v1 = base.withVersion(1);
        Fid high = new Fid(-1L, -1, -1);
        createData(new byte[0]);
        create(base, ObjectKind.DATA);
        create(v1, ObjectKind.DATA);
        create(high, ObjectKind.DATA);
        write(base, 0, new byte[] {1});
        assertThat(osd().getAttr(v1).size()).isZero();
        assertThat(osd().getAttr(high).size()).isZero();
        assertThat(osd().getAttr(base).size()).isEqualTo(1);
    }
}
