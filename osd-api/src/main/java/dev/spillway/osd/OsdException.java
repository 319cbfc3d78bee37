package dev.spillway.osd;

import java.util.Objects;

/**
 * The one checked exception of the OSD API. It carries an {@link Errno} and a message that
 * names the device, the object (when there is one) and the cause, in that order, for example
 * {@code osd-kv "fast": [0x200000400:0x1:0x0]: write at 4096: ENOSPC: 12 bytes free}.
 *
 * <p>Errors are thrown, never logged and swallowed. The edges (the S3 gateway, the CLI) map
 * the errno to their own codes in one table each.
 */
public class OsdException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Errno errno;
    private final String device;
    private final Fid fid;
    private final String detail;

    /**
     * @param errno the code
     * @param device the device's name, or null when no device is involved (bad configuration)
     * @param fid the object concerned, or null
     * @param detail what was being done and why it failed
     * @param cause the underlying exception, or null
     */
    public OsdException(Errno errno, String device, Fid fid, String detail, Throwable cause) {
        super(format(errno, device, fid, detail), cause);
        this.errno = Objects.requireNonNull(errno, "errno");
        this.device = device;
        this.fid = fid;
        this.detail = detail;
    }

    public OsdException(Errno errno, String device, Fid fid, String detail) {
        this(errno, device, fid, detail, null);
    }

    public OsdException(Errno errno, String device, String detail) {
        this(errno, device, null, detail, null);
    }

    private static String format(Errno errno, String device, Fid fid, String detail) {
        StringBuilder sb = new StringBuilder();
        if (device != null) {
            sb.append(device).append(": ");
        }
        if (fid != null) {
            sb.append(fid).append(": ");
        }
        sb.append(errno.name());
        if (detail != null && !detail.isEmpty()) {
            sb.append(": ").append(detail);
        }
        return sb.toString();
    }

    /** The errno-like code. */
    public Errno errno() {
        return errno;
    }

    /** The device's name, or null. */
    public String device() {
        return device;
    }

    /** The object concerned, or null. */
    public Fid fid() {
        return fid;
    }

    /** What was being done and why it failed, without the device and object prefix. */
    public String detail() {
        return detail;
    }

    /**
     * This error as seen through a stacking device named {@code outer} (a pool): same code and
     * object, the message names both devices. Returns this exception if it already names
     * {@code outer}.
     */
    public OsdException via(String outer) {
        if (outer.equals(device)) {
            return this;
        }
        return new OsdException(errno, outer, fid, (device != null ? "on " + device + ": " : "") + detail, this);
    }

    /** True if this exception carries {@code code}. */
    public boolean is(Errno code) {
        return errno == code;
    }
}
