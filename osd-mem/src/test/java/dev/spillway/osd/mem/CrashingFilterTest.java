package dev.spillway.osd.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.osd.AttrChange;
import dev.spillway.osd.Fid;
import dev.spillway.osd.ObjectKind;
import dev.spillway.osd.Osd;
import dev.spillway.osd.Transaction;
import dev.spillway.osd.XattrFlag;
import dev.spillway.osd.testkit.fault.CrashSwitch;
import dev.spillway.osd.testkit.fault.CrashingOsd;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * A filter's methods that {@link Osd} defines on top of others run through the filter: after a
 * crash point, {@code exists}, {@code sync(Fid)} and the buffer {@code getXattr} fail like every
 * other call, instead of reaching the device behind the crash. Before issue 14, FilterOsd
 * forwarded them to the inner device, and {@code exists} answered from it after the crash.
 */
class CrashingFilterTest {
    @Test
    void defaultMethodsSeeTheCrashPoint() throws Exception {
        MemOsd mem = MemOsd.create("m");
        Fid f = new Fid(0x200000400L, 1, 0);
        try (Transaction tx = mem.newTransaction()) {
            tx.declareCreate(f, ObjectKind.DATA);
            tx.declareSetXattr(f, "user.a", 1);
            tx.start();
            tx.create(f, ObjectKind.DATA, AttrChange.none());
            tx.setXattr(f, "user.a", new byte[] {7}, XattrFlag.UPSERT);
        }
        CrashSwitch sw = new CrashSwitch(1);
        Osd crashing = new CrashingOsd(mem, sw);
        assertThatThrownBy(() -> crashing.getAttr(f)).isInstanceOf(CrashSwitch.SimulatedCrash.class);
        assertThat(sw.crashed()).isTrue();
        assertThatThrownBy(() -> crashing.exists(f)).isInstanceOf(CrashSwitch.SimulatedCrash.class);
        assertThatThrownBy(() -> crashing.sync(f)).isInstanceOf(CrashSwitch.SimulatedCrash.class);
        assertThatThrownBy(() -> crashing.getXattr(f, "user.a", ByteBuffer.allocate(8)))
                .isInstanceOf(CrashSwitch.SimulatedCrash.class);
        // The device itself is fine: only the filter is down.
        assertThat(mem.exists(f)).isTrue();
    }
}
