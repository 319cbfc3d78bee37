package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectCursor;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.StatFs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OSD conformance suite, as Lucene's {@code BaseDirectoryTestCase}: the API's contract
 * written once as tests. A backend (or pool configuration) passes it by extending this class and
 * implementing {@link #open}; tests its capabilities exclude are reported as skipped, with the
 * capability named.
 *
 * <p>The contracts, one file per concern: {@link AttrContract}, {@link XattrContract},
 * {@link BodyContract}, {@link SparseContract}, {@link IndexContract},
 * {@link TransactionContract}, {@link StatfsContract}, {@link ReserveContract}, {@link DeviceContract},
 * {@link ReopenContract}, {@link ModelContract} (randomized, against a reference model) and
 * {@link ConcurrencyContract} (many threads, checked for serializability).
 *
 * <p>After every test the device's invariants are checked: statfs is sane and every listed object
 * can be read; then it is closed, and {@link #checkClosed()} runs (a pool checks there that
 * nothing is left open on its devices, see {@link LeakCheckingOsd}).
 */
public abstract class OsdConformance
        implements AttrContract,
                XattrContract,
                BodyContract,
                SparseContract,
                IndexContract,
                TransactionContract,
                StatfsContract,
                ReserveContract,
                DeviceContract,
                ReopenContract,
                ModelContract,
                ConcurrencyContract {

    private static final AtomicInteger TEST_SEQ = new AtomicInteger();

    @TempDir
    Path tempDir;

    private Osd osd;
    private Path location;
    private long capacity;
    private final long fidSeq = 0x200000400L + TEST_SEQ.incrementAndGet();
    private final AtomicInteger fidOid = new AtomicInteger();
    private int generation;

    /**
     * Opens the backend's device named {@code name} on {@code location} (a folder that does not
     * exist yet or holds what a previous open left), with strict declare checking on.
     *
     * @param capacity about how many bytes the device may hold; 0 for the backend's test default
     */
    protected abstract Osd open(String name, Path location, long capacity) throws OsdException;

    /** True if closing and reopening keeps the contents (persistent backends). */
    @Override
    public boolean reopenable() {
        return false;
    }

    /** The name given to the device under test. */
    protected String deviceName() {
        return "conformance-" + getClass().getSimpleName();
    }

    @BeforeEach
    void openDevice() throws Exception {
        location = tempDir.resolve("osd-" + generation++);
        capacity = 0;
        osd = open(deviceName(), location, capacity);
    }

    @AfterEach
    void checkAndClose() throws Exception {
        if (osd == null) {
            return;
        }
        try {
            checkInvariants(osd);
        } finally {
            osd.close();
            osd = null;
        }
        checkClosed();
    }

    /**
     * What must hold once the device is closed after a test whose invariants held; subclasses add
     * their own (that nothing the device opened below it is left open, say).
     */
    protected void checkClosed() throws OsdException {}

    /** The invariants every device keeps between tests; subclasses add their own. */
    protected void checkInvariants(Osd device) throws OsdException {
        StatFs s = device.statfs();
        assertThat(s.device()).isNotBlank();
        assertThat(s.freeBytes()).as("free <= total").isLessThanOrEqualTo(s.totalBytes());
        assertThat(s.availableBytes()).as("available <= free").isLessThanOrEqualTo(s.freeBytes());
        assertThat(s.objects()).as("objects").isNotNegative();
        if (device.capabilities().has(Capability.LIST_OBJECTS)) {
            try (ObjectCursor c = device.listObjects()) {
                while (c.next()) {
                    Fid f = c.fid();
                    assertThat(device.getAttr(f).kind())
                            .as("listed object %s has a kind", f)
                            .isNotNull();
                }
            }
        }
    }

    @Override
    public Osd osd() {
        return osd;
    }

    @Override
    public Osd reopen() throws OsdException {
        osd.close();
        osd = open(deviceName(), location, capacity);
        return osd;
    }

    @Override
    public Osd withCapacity(long bytes) throws OsdException {
        osd.close();
        location = tempDir.resolve("osd-" + generation++);
        capacity = bytes;
        osd = open(deviceName(), location, capacity);
        return osd;
    }

    @Override
    public Fid newFid() {
        return new Fid(fidSeq, fidOid.incrementAndGet(), 0);
    }

    /** A scratch folder for backends that need one beside the device. */
    protected Path scratch(String name) throws Exception {
        return Files.createDirectories(tempDir.resolve(name));
    }
}
