package dev.spillway.pool.config;

import java.util.Locale;

/** A device's state in the pool, as bcachefs' member states. */
public enum DeviceState {
    /** In service: read and written. */
    RW,
    /** Read only: copies there are read, nothing new is placed there. */
    RO,
    /** Being emptied: every copy moves elsewhere, then the device becomes SPARE. */
    EVACUATING,
    /** Empty and unused. */
    SPARE,
    /** Failed: never read or written; its copies count as lost. */
    FAILED;

    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Copies there can be read. */
    public boolean readable() {
        return this == RW || this == RO || this == EVACUATING;
    }

    /** New copies may be placed there. */
    public boolean writable() {
        return this == RW;
    }

    public static DeviceState parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
    }
}
