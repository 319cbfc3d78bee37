package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.IndexCursor;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;

/**
 * The fixture every contract of the conformance suite is written against, and the helpers they
 * share. {@link OsdConformance} implements it; a backend's test supplies the device.
 */
public interface OsdContract {

    /** The device under test. */
    Osd osd();

    /**
     * Closes the device and opens it again on the same storage. Only for backends whose
     * {@link OsdConformance#reopenable()} is true; others skip the tests that need it.
     */
    Osd reopen() throws OsdException;

    /** Replaces the device with a fresh one whose capacity is about {@code bytes}. */
    Osd withCapacity(long bytes) throws OsdException;

    /** True if the backend can be closed and reopened with its contents. */
    boolean reopenable();

    /** A FID no other test call has used. */
    Fid newFid();

    /**
     * How many random sequences {@link ModelContract} runs: {@code -Dspillway.model.sequences}
     * or 1,000. A configuration whose every transaction costs disk syncs may run fewer (it says
     * so in its class), while the fast ones keep the thousand.
     */
    default int modelSequences() {
        return Integer.getInteger("spillway.model.sequences", 1000);
    }

    // ---- assumptions -----------------------------------------------------------------------

    default void assumeCapability(Capability c) {
        Assumptions.assumeTrue(
                osd().capabilities().has(c), () -> osd().backend() + " does not advertise " + c + ": test skipped");
    }

    default void assumeLacks(Capability c) {
        Assumptions.assumeFalse(
                osd().capabilities().has(c),
                () -> osd().backend() + " advertises " + c + ": the lacking-capability test does not apply");
    }

    // ---- assertions ------------------------------------------------------------------------

    @FunctionalInterface
    interface OsdCall {
        void run() throws Exception;
    }

    /** Asserts {@code call} throws an OsdException with {@code errno} whose message names the device. */
    default OsdException assertErrno(Errno errno, OsdCall call) {
        try {
            call.run();
        } catch (OsdException e) {
            assertThat(e.errno()).as("errno of: %s", e.getMessage()).isEqualTo(errno);
            assertThat(e.getMessage()).as("the message names the device").contains(osd().name());
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected OsdException " + errno + ", got " + e, e);
        }
        return fail("expected OsdException " + errno + ", nothing was thrown");
    }

    // ---- one-update transactions -------------------------------------------------------------

    @FunctionalInterface
    interface TxBody {
        void run(Transaction tx) throws OsdException;
    }

    /** Runs {@code declare}, start, {@code updates}, stop. */
    default void tx(TxBody declare, TxBody updates) throws OsdException {
        try (Transaction tx = osd().newTransaction()) {
            declare.run(tx);
            tx.start();
            updates.run(tx);
        }
    }

    default Fid create(ObjectKind kind) throws OsdException {
        Fid f = newFid();
        create(f, kind);
        return f;
    }

    default void create(Fid f, ObjectKind kind) throws OsdException {
        tx(t -> t.declareCreate(f, kind), t -> t.create(f, kind, AttrChange.none()));
    }

    default Fid createData(byte[] body) throws OsdException {
        Fid f = newFid();
        tx(
                t -> {
                    t.declareCreate(f, ObjectKind.DATA);
                    t.declareWrite(f, 0, body.length);
                },
                t -> {
                    t.create(f, ObjectKind.DATA, AttrChange.none());
                    if (body.length > 0) {
                        t.write(f, 0, ByteBuffer.wrap(body));
                    }
                });
        return f;
    }

    default void write(Fid f, long offset, byte[] data) throws OsdException {
        tx(t -> t.declareWrite(f, offset, data.length), t -> t.write(f, offset, ByteBuffer.wrap(data)));
    }

    default void punch(Fid f, long offset, long length) throws OsdException {
        tx(t -> t.declarePunch(f, offset, length), t -> t.punch(f, offset, length));
    }

    default void truncate(Fid f, long size) throws OsdException {
        tx(t -> t.declareTruncate(f, size), t -> t.truncate(f, size));
    }

    default void destroy(Fid f) throws OsdException {
        tx(t -> t.declareDestroy(f), t -> t.destroy(f));
    }

    default void setXattr(Fid f, String name, byte[] value, XattrFlag flag) throws OsdException {
        tx(t -> t.declareSetXattr(f, name, value.length), t -> t.setXattr(f, name, value, flag));
    }

    default void deleteXattr(Fid f, String name) throws OsdException {
        tx(t -> t.declareDeleteXattr(f, name), t -> t.deleteXattr(f, name));
    }

    default void insert(Fid index, byte[] key, byte[] value) throws OsdException {
        tx(t -> t.declareInsert(index, key.length, value.length), t -> t.insert(index, key, value));
    }

    default void upsert(Fid index, byte[] key, byte[] value) throws OsdException {
        tx(t -> t.declareInsert(index, key.length, value.length), t -> t.upsert(index, key, value));
    }

    default void deleteKey(Fid index, byte[] key) throws OsdException {
        tx(t -> t.declareDelete(index, key.length), t -> t.delete(index, key));
    }

    // ---- reads -------------------------------------------------------------------------------

    /** The whole body, read in calls of {@code chunk} bytes. */
    default byte[] readAll(Fid f, int chunk) throws OsdException {
        long size = osd().getAttr(f).size();
        byte[] out = new byte[Math.toIntExact(size)];
        int pos = 0;
        while (pos < out.length) {
            ByteBuffer b = ByteBuffer.wrap(out, pos, Math.min(chunk, out.length - pos));
            int n = osd().read(f, pos, b);
            assertThat(n).as("read at %d of %d", pos, size).isPositive();
            pos += n;
        }
        ByteBuffer tail = ByteBuffer.allocate(16);
        assertThat(osd().read(f, size, tail)).as("read at the end").isZero();
        return out;
    }

    default byte[] readAll(Fid f) throws OsdException {
        return readAll(f, 1 << 20);
    }

    default byte[] read(Fid f, long offset, int length) throws OsdException {
        ByteBuffer b = ByteBuffer.allocate(length);
        int n = osd().read(f, offset, b);
        byte[] out = new byte[n];
        b.flip().get(out);
        return out;
    }

    /** Every entry of an index, in cursor order. */
    default List<Map.Entry<byte[], byte[]>> entries(Fid index, byte[] from) throws OsdException {
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        try (IndexCursor c = osd().cursor(index, from)) {
            while (c.next()) {
                out.add(Map.entry(c.key(), c.value()));
            }
        }
        return out;
    }

    static byte[] random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
