package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The CLI's output pieces: aligned tables, progress bars with rate and ETA (on an injected clock). */
class OutputTest {
    @Test
    void tablesAlignEveryColumnAndRightAlignNumbers() {
        StringWriter w = new StringWriter();
        new Table("NAME", ">SIZE", "STATE")
                .row("fast", "16M", "rw")
                .row("a-longer-name", "252G", "evacuating")
                .print(new PrintWriter(w, true));
        assertThat(w.toString())
                .isEqualTo("NAME           SIZE  STATE\n"
                        + "fast            16M  rw\n"
                        + "a-longer-name  252G  evacuating\n");
    }

    @Test
    void aProgressBarShowsRateAndEtaFromItsClock() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        StringWriter w = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(w, true), "fsck", "objects", true, now::get);
        now.addAndGet(2_000_000_000L); // 2 s later, 500 of 2000 done: 250/s, 1500 left: 6 s
        assertThat(bar.line("walk", 500, 2000))
                .isEqualTo("fsck walk [######..................]  25% 500/2000 objects 250/s ETA 0:06");
        bar.update("walk", 500, 2000);
        now.addAndGet(6_000_000_000L);
        bar.update("walk", 2000, 2000);
        bar.finish();
        assertThat(w.toString())
                .startsWith("\rfsck walk [######")
                .contains("\rfsck walk [########################] 100% 2000/2000 objects 250/s in 0:08")
                .endsWith("\n");
    }

    @Test
    void aProgressBarThatIsOffPrintsNothing() {
        StringWriter w = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(w, true), "gc", "copies", false, System::nanoTime);
        bar.update("delete", 1, 2);
        bar.finish();
        assertThat(w.toString()).isEmpty();
        // Not on a terminal (as under the test runner), or asked not to: off.
        assertThat(ProgressBar.wanted(false, false)).isEqualTo(System.console() != null);
        assertThat(ProgressBar.wanted(true, false)).isFalse();
        assertThat(ProgressBar.wanted(false, true)).isFalse();
    }

    @Test
    void sizesAndDurationsForPeople() {
        assertThat(Human.bytes(1536, true)).isEqualTo("1.5K");
        assertThat(Human.bytes(1536, false)).isEqualTo("1536");
        assertThat(Human.size(6L << 20)).isEqualTo("6.0 MiB");
        assertThat(Human.duration(3725)).isEqualTo("1:02:05");
        assertThat(Human.age(90)).isEqualTo("90s");
        assertThat(Human.age(3 * 86400)).isEqualTo("3d");
    }
}
