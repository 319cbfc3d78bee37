package dev.spillway.osd.kv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.osd.Fid;
import dev.spillway.osd.Transaction;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync transaction's stop returns after its commit callback fired — also when it wrote
 * nothing. Found by KvPowerLossTest's sync-commit campaign (seed 0xb9510027363ac75:2:DROP, master
 * 0x62183aeeb9375986): such a transaction's callback was left to the pipeline's thread, after
 * stop had returned.
 */
class KvSyncCommitTest {
    @TempDir
    Path tmp;

    @Test
    void aSyncTransactionThatWritesNothingHasFiredItsCallbackWhenStopReturns() throws Exception {
        try (KvOsd osd = KvTestSupport.open(tmp.resolve("kv"))) {
            KvTestSupport.createData(osd, Fid.of(0x200000400L, 1), new byte[10]);
            for (int i = 0; i < 50; i++) {
                AtomicBoolean fired = new AtomicBoolean();
                try (Transaction t = osd.newTransaction()) {
                    t.setSync(true);
                    t.addCommitCallback((id, err) -> fired.set(err == null));
                    t.start();
                }
                assertThat(fired).as("round %d", i).isTrue();
            }
        }
    }
}
