package dev.spillway.gateway.s3.http;

import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.xml.XmlWriter;
import dev.spillway.osd.OsdException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

/** Writes one S3 response through Jetty, blocking (the handler runs on a virtual thread). */
public final class S3Response {
    private long retryAfterSeconds = 1;
    private final Response response;
    private final boolean head;
    private boolean done;
    // Headers every answer carries, an error too (CORS): re-applied after error() clears the rest.
    private final Map<String, String> kept = new LinkedHashMap<>();

    S3Response(Response response, boolean head) {
        this.response = response;
        this.head = head;
    }

    public void header(String name, String value) {
        if (value != null) {
            response.getHeaders().put(name, value);
        }
    }

    /** A header that stays on the response even if it ends in an error (the CORS headers). */
    public void keep(String name, String value) {
        kept.put(name, value);
        header(name, value);
    }

    public boolean committed() {
        return done || response.isCommitted();
    }

    /** A status with no body. */
    public void empty(int status) throws IOException {
        response.setStatus(status);
        if (status != 304 && status != 204) {
            response.getHeaders().put("Content-Length", "0");
        }
        finish(new byte[0]);
    }

    /** An XML document. */
    public void xml(int status, byte[] doc) throws IOException {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/xml");
        response.getHeaders().put("Content-Length", Long.toString(doc.length));
        finish(head ? new byte[0] : doc);
    }

    /** A JSON document (GetBucketPolicy). */
    public void json(int status, byte[] doc) throws IOException {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json");
        response.getHeaders().put("Content-Length", Long.toString(doc.length));
        finish(head ? new byte[0] : doc);
    }

    /** Fills a body's chunks (see {@link #send}). */
    @FunctionalInterface
    public interface Body {
        /**
         * Reads the body into {@code chunk} a piece at a time, handing each piece to {@code out}
         * (which has sent it when it returns, so the chunk can be refilled); {@code last} on the
         * final piece.
         */
        void writeTo(ByteBuffer chunk, Chunks out) throws IOException, OsdException, S3Exception;
    }

    /** Where a {@link Body} hands its pieces. */
    @FunctionalInterface
    public interface Chunks {
        void write(ByteBuffer data, boolean last) throws IOException;
    }

    /**
     * A body of {@code length} bytes sent from a direct buffer of Jetty's pool (at least
     * {@code chunk} bytes, reused across requests): the body is read into it and written to the
     * connection without a copy through the heap, each write blocking until sent (the handler
     * runs on a virtual thread). Until the body's first write nothing is committed: an exception
     * before it is answered as any other.
     */
    public void send(int status, long length, int chunk, Body body) throws IOException, OsdException, S3Exception {
        response.setStatus(status);
        response.getHeaders().put("Content-Length", Long.toString(length));
        RetainableByteBuffer pooled =
                response.getRequest().getComponents().getByteBufferPool().acquire(chunk, true);
        try {
            body.writeTo(pooled.getByteBuffer(), (data, last) -> {
                done = true;
                try (Blocker.Callback cb = Blocker.callback()) {
                    response.write(last, data, cb);
                    cb.block();
                }
            });
        } finally {
            pooled.release();
        }
    }

    /** Headers only, for HEAD of an object: the length is that of the body a GET would send. */
    public void headOnly(int status, long length) throws IOException {
        response.setStatus(status);
        response.getHeaders().put("Content-Length", Long.toString(length));
        finish(new byte[0]);
    }

    /** The seconds a 503 answer tells the client to wait before retrying ({@code Retry-After}). */
    public void retryAfter(long seconds) {
        this.retryAfterSeconds = seconds;
    }

    /** The S3 error document (status only for HEAD, which has no body). */
    public void error(S3Exception e, String resource, String requestId) throws IOException {
        String date = response.getHeaders().get("Date");
        String server = response.getHeaders().get("Server");
        response.getHeaders().clear();
        header("x-amz-request-id", requestId);
        header("Date", date);
        header("Server", server);
        for (var h : kept.entrySet()) {
            header(h.getKey(), h.getValue());
        }
        for (var h : e.headers().entrySet()) {
            header(h.getKey(), h.getValue());
        }
        if (e.error().status() == 503) {
            // SlowDown (a full fast tier) and ServiceUnavailable: when to come back.
            header("Retry-After", Long.toString(Math.max(1, retryAfterSeconds)));
        }
        if (e.error().status() == 304) {
            empty(304);
            return;
        }
        byte[] doc = XmlWriter.plainDocument("Error")
                .element("Code", e.error().code())
                .element("Message", e.getMessage())
                .element("Resource", resource)
                .element("RequestId", requestId)
                .finish("Error");
        xml(e.error().status(), doc);
    }

    private void finish(byte[] body) throws IOException {
        done = true;
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            if (body.length > 0) {
                out.write(body);
            }
        }
    }
}
