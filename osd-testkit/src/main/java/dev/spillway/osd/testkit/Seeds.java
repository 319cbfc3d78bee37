package dev.spillway.osd.testkit;

import java.util.SplittableRandom;

/** Seeds of randomized tests: printed as unsigned hex, read back the same way. */
public final class Seeds {
    private Seeds() {}

    /** Parses {@code 0x…} (unsigned, all 64 bits) or a decimal number. */
    public static long parse(String s) {
        String t = s.trim();
        if (t.startsWith("0x") || t.startsWith("0X")) {
            return Long.parseUnsignedLong(t.substring(2), 16);
        }
        return Long.parseLong(t);
    }

    /** The master seed: {@code -D<property>} if given, else a fresh random one. */
    public static long master(String property) {
        String v = System.getProperty(property);
        return v == null ? new SplittableRandom().nextLong() : parse(v);
    }

    /** The default master seed property of every randomized test. */
    public static long master() {
        return master("spillway.seed");
    }
}
