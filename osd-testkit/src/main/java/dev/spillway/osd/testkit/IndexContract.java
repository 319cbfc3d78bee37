package dev.spillway.osd.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Capability;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Transaction;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Index objects: insert, upsert, delete, lookup and ordered cursors over binary keys. */
public interface IndexContract extends OsdContract {

    private Fid index() throws Exception {
        assumeCapability(Capability.INDEX);
        return create(ObjectKind.INDEX);
    }

    private static byte[] key(String s) {
        return s.getBytes();
    }

    private List<byte[]> keys(Fid index, byte[] from) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e : entries(index, from)) {
            out.add(e.getKey());
        }
        return out;
    }

    @Test
    default void insertThenLookup() throws Exception {
        Fid ix = index();
        insert(ix, key("alpha"), key("1"));
        assertThat(osd().lookup(ix, key("alpha")))
                .hasValueSatisfying(v -> assertThat(v).isEqualTo(key("1")));
    }

    @Test
    default void lookupOfAnAbsentKeyIsEmpty() throws Exception {
        Fid ix = index();
        assertThat(osd().lookup(ix, key("nope"))).isEmpty();
    }

    @Test
    default void insertOfAPresentKeyIsEexist() throws Exception {
        Fid ix = index();
        insert(ix, key("k"), key("1"));
        assertErrno(Errno.EEXIST, () -> insert(ix, key("k"), key("2")));
        assertThat(osd().lookup(ix, key("k")).orElseThrow()).isEqualTo(key("1"));
    }

    @Test
    default void upsertReplacesOrInserts() throws Exception {
        Fid ix = index();
        upsert(ix, key("k"), key("1"));
        upsert(ix, key("k"), key("22"));
        assertThat(osd().lookup(ix, key("k")).orElseThrow()).isEqualTo(key("22"));
        assertThat(entries(ix, null)).hasSize(1);
    }

    @Test
    default void deleteRemovesTheKey() throws Exception {
        Fid ix = index();
        insert(ix, key("a"), key("1"));
        insert(ix, key("b"), key("2"));
        deleteKey(ix, key("a"));
        assertThat(osd().lookup(ix, key("a"))).isEmpty();
        assertThat(keys(ix, null)).containsExactly(key("b"));
    }

    @Test
    default void deleteOfAnAbsentKeyIsEnoent() throws Exception {
        Fid ix = index();
        assertErrno(Errno.ENOENT, () -> deleteKey(ix, key("ghost")));
    }

    @Test
    default void cursorOrdersBinaryKeysUnsigned() throws Exception {
        Fid ix = index();
        byte[][] ks = {
            OsdContract.bytes(0xff), OsdContract.bytes(0x00), OsdContract.bytes(0x80), OsdContract.bytes(0x7f),
            OsdContract.bytes(0x80, 0x00), OsdContract.bytes(0x00, 0x00), OsdContract.bytes(0x01),
                    OsdContract.bytes(0xff, 0xff)
        };
        for (byte[] k : ks) {
            insert(ix, k, k);
        }
        List<byte[]> got = keys(ix, null);
        byte[][] want = ks.clone();
        Arrays.sort(want, Arrays::compareUnsigned);
        assertThat(got).containsExactly(want);
    }

    @Test
    default void cursorStartsAtAPresentKey() throws Exception {
        Fid ix = index();
        for (String s : List.of("a", "c", "e", "g")) {
            insert(ix, key(s), key(s));
        }
        assertThat(keys(ix, key("c"))).containsExactly(key("c"), key("e"), key("g"));
    }

    @Test
    default void cursorStartsBetweenKeys() throws Exception {
        Fid ix = index();
        for (String s : List.of("a", "c", "e", "g")) {
            insert(ix, key(s), key(s));
        }
        assertThat(keys(ix, key("d"))).containsExactly(key("e"), key("g"));
        assertThat(keys(ix, key("cc"))).containsExactly(key("e"), key("g"));
    }

    @Test
    default void cursorPastTheLastKeyIsEmpty() throws Exception {
        Fid ix = index();
        insert(ix, key("a"), key("1"));
        assertThat(entries(ix, key("b"))).isEmpty();
        assertThat(entries(ix, OsdContract.bytes(0xff, 0xff, 0xff))).isEmpty();
    }

    @Test
    default void cursorFromAnEmptyKeyStartsAtTheFirst() throws Exception {
        Fid ix = index();
        insert(ix, key("m"), key("1"));
        insert(ix, key("b"), key("2"));
        assertThat(keys(ix, new byte[0])).containsExactly(key("b"), key("m"));
    }

    @Test
    default void cursorOfAnEmptyIndexIsEmpty() throws Exception {
        Fid ix = index();
        assertThat(entries(ix, null)).isEmpty();
    }

    @Test
    default void cursorReturnsValues() throws Exception {
        Fid ix = index();
        insert(ix, key("x"), OsdContract.bytes(1, 2, 3));
        var e = entries(ix, null);
        assertThat(e.get(0).getValue()).containsExactly(1, 2, 3);
    }

    @Test
    default void emptyKeyIsEinval() throws Exception {
        Fid ix = index();
        assertErrno(Errno.EINVAL, () -> insert(ix, new byte[0], key("v")));
    }

    @Test
    default void keyOverTheLimitIsE2big() throws Exception {
        Fid ix = index();
        byte[] k = new byte[osd().capabilities().maxIndexKey() + 1];
        Arrays.fill(k, (byte) 'k');
        assertErrno(Errno.E2BIG, () -> insert(ix, k, key("v")));
    }

    @Test
    default void indexValueOverTheLimitIsE2big() throws Exception {
        Fid ix = index();
        byte[] v = new byte[osd().capabilities().maxIndexValue() + 1];
        assertErrno(Errno.E2BIG, () -> insert(ix, key("k"), v));
    }

    @Test
    default void largestKeyAndValueFit() throws Exception {
        Fid ix = index();
        byte[] k = OsdContract.random(13, osd().capabilities().maxIndexKey());
        byte[] v = OsdContract.random(14, osd().capabilities().maxIndexValue());
        insert(ix, k, v);
        assertThat(osd().lookup(ix, k).orElseThrow()).isEqualTo(v);
    }

    @Test
    default void emptyIndexValueIsAValue() throws Exception {
        Fid ix = index();
        insert(ix, key("k"), new byte[0]);
        assertThat(osd().lookup(ix, key("k")).orElseThrow()).isEmpty();
    }

    @Test
    default void indexCallsOnADataObjectAreEnotdir() throws Exception {
        assumeCapability(Capability.INDEX);
        Fid f = create(ObjectKind.DATA);
        assertErrno(Errno.ENOTDIR, () -> osd().lookup(f, key("k")));
        assertErrno(Errno.ENOTDIR, () -> osd().cursor(f, null));
        assertErrno(Errno.ENOTDIR, () -> insert(f, key("k"), key("v")));
    }

    @Test
    default void indexCallsOnAMissingObjectAreEnoent() throws Exception {
        assumeCapability(Capability.INDEX);
        Fid f = newFid();
        assertErrno(Errno.ENOENT, () -> osd().lookup(f, key("k")));
        assertErrno(Errno.ENOENT, () -> insert(f, key("k"), key("v")));
    }

    @Test
    default void thousandsOfEntriesComeBackInOrder() throws Exception {
        Fid ix = index();
        int n = 5000;
        try (Transaction t = osd().newTransaction()) {
            for (int i = 0; i < n; i++) {
                t.declareInsert(ix, 4, 4);
            }
            t.start();
            for (int i = 0; i < n; i++) {
                int k = (int) ((i * 2654435761L) % n);
                t.insert(
                        ix,
                        ByteBuffer.allocate(4).putInt(k).array(),
                        ByteBuffer.allocate(4).putInt(-k).array());
            }
        }
        var all = entries(ix, null);
        assertThat(all).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(ByteBuffer.wrap(all.get(i).getKey()).getInt()).isEqualTo(i);
            assertThat(ByteBuffer.wrap(all.get(i).getValue()).getInt()).isEqualTo(-i);
        }
    }

    @Test
    default void aRecreatedIndexIsEmpty() throws Exception {
        Fid ix = index();
        insert(ix, key("a"), key("1"));
        destroy(ix);
        create(ix, ObjectKind.INDEX);
        assertThat(entries(ix, null)).isEmpty();
        assertThat(osd().lookup(ix, key("a"))).isEmpty();
    }

    @Test
    default void twoIndexesAreSeparate() throws Exception {
        Fid a = index();
        Fid b = create(ObjectKind.INDEX);
        insert(a, key("k"), key("a"));
        insert(b, key("k"), key("b"));
        insert(b, key("z"), key("b"));
        assertThat(osd().lookup(a, key("k")).orElseThrow()).isEqualTo(key("a"));
        assertThat(entries(a, null)).hasSize(1);
        assertThat(entries(b, null)).hasSize(2);
    }

    @Test
    default void withoutIndexesCreatingOneIsEopnotsupp() throws Exception {
        assumeLacks(Capability.INDEX);
        Fid f = newFid();
        assertErrno(Errno.EOPNOTSUPP, () -> create(f, ObjectKind.INDEX));
    }
}
