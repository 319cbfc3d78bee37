package dev.spillway.server;

import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Listening addresses of the server: a taken port is said in words, with the flag that changes it. */
final class Ports {
    private Ports() {}

    /**
     * Fails with EADDRINUSE if {@code port} cannot be bound on {@code host} now (0, any free port,
     * is never checked). A port freed or taken after this check is caught again when it is bound.
     */
    static void checkFree(String host, int port, String what, String flag) throws OsdException {
        if (port == 0) {
            return;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(host, port));
        } catch (BindException e) {
            throw inUse(host, port, what, flag, e);
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EINVAL,
                    null,
                    null,
                    what + " cannot listen on " + host + ":" + port + ": " + e.getMessage(),
                    e);
        }
    }

    static OsdException inUse(String host, int port, String what, String flag, Throwable cause) {
        return new OsdException(
                Errno.EADDRINUSE,
                null,
                null,
                what + " cannot listen on " + host + ":" + port + ": address in use (another server?); use " + flag
                        + " PORT, or " + flag + " 0 for any free port",
                cause);
    }

    /** A bind failure anywhere in {@code e}'s causes, said as {@link #inUse}; anything else as it was. */
    static OsdException explain(OsdException e, ServerOptions o) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                String msg = e.getMessage() == null ? "" : e.getMessage();
                boolean s3 = msg.contains("S3");
                return inUse(
                        o.host(),
                        s3 ? o.s3Port() : o.adminPort(),
                        s3 ? "S3 API" : "admin API",
                        s3 ? "--s3-port" : "--admin-port",
                        e);
            }
        }
        return e;
    }
}
