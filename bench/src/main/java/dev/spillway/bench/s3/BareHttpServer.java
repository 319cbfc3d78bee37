package dev.spillway.bench.s3;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Executors;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The <em>bare HTTP</em> anchor of {@code bench s3}: the least a server on the gateway's HTTP
 * library (Jetty 12 core handlers, virtual threads, the same output buffer) can do with a body.
 * A PUT writes the request body to a file as it arrives (Jetty's own buffers handed to the
 * {@link FileChannel}, no copy) and forces it before answering 200; a GET sends a file through
 * direct buffers. No parsing, no authentication, no checksum, no metadata: whatever an S3 server
 * spends beyond this is its own overhead. The path names a file in one folder ({@code /} becomes
 * {@code _}); a PUT stores the body as received (an aws-chunked body with its framing).
 */
final class BareHttpServer implements AutoCloseable {
    private static final int CHUNK = 1 << 20;

    private final Server server;
    private final ServerConnector connector;
    private final Path root;

    private BareHttpServer(Path root) {
        this.root = root;
        QueuedThreadPool pool = new QueuedThreadPool();
        pool.setName("bare-http");
        pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setOutputBufferSize(256 << 10);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                try {
                    serve(request, response);
                    callback.succeeded();
                } catch (Throwable e) {
                    callback.failed(e);
                }
                return true;
            }
        });
    }

    static BareHttpServer start(Path root) throws Exception {
        BareHttpServer s = new BareHttpServer(Files.createDirectories(root));
        s.server.start();
        return s;
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    /** The file a path names (where a GET finds what the benchmark put there). */
    Path file(String path) {
        String name = path.replace('/', '_');
        return root.resolve(name.isEmpty() ? "_" : name);
    }

    private void serve(Request request, Response response) throws IOException {
        Path f = file(Request.getPathInContext(request).substring(1));
        switch (request.getMethod()) {
            case "PUT" -> {
                try (FileChannel ch = FileChannel.open(
                        f, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    receive(request, ch);
                    ch.force(true);
                }
                response.setStatus(200);
                response.getHeaders().put("Content-Length", "0");
                write(response, true, ByteBuffer.allocate(0));
            }
            case "GET" -> {
                if (!Files.isRegularFile(f)) {
                    response.setStatus(404);
                    response.getHeaders().put("Content-Length", "0");
                    write(response, true, ByteBuffer.allocate(0));
                    return;
                }
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    long size = ch.size();
                    response.setStatus(200);
                    response.getHeaders().put("Content-Type", "binary/octet-stream");
                    response.getHeaders().put("Content-Length", Long.toString(size));
                    ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.max(1, Math.min(CHUNK, size)));
                    long sent = 0;
                    do {
                        buf.clear();
                        while (buf.hasRemaining() && ch.read(buf) > 0) {
                            // fill the chunk
                        }
                        buf.flip();
                        sent += buf.remaining();
                        write(response, sent >= size, buf);
                    } while (sent < size);
                }
            }
            case "DELETE" -> {
                Files.deleteIfExists(f);
                response.setStatus(204);
                write(response, true, ByteBuffer.allocate(0));
            }
            default -> {
                response.setStatus(405);
                response.getHeaders().put("Content-Length", "0");
                write(response, true, ByteBuffer.allocate(0));
            }
        }
    }

    /** Writes every chunk of the request body to {@code ch} as Jetty hands it over. */
    private static void receive(Request request, FileChannel ch) throws IOException {
        while (true) {
            Content.Chunk c = request.read();
            if (c == null) {
                try (Blocker.Runnable r = Blocker.runnable()) {
                    request.demand(r);
                    r.block();
                }
                continue;
            }
            try {
                if (Content.Chunk.isFailure(c)) {
                    throw new IOException("request body failed", c.getFailure());
                }
                ByteBuffer b = c.getByteBuffer();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } finally {
                c.release();
            }
            if (c.isLast()) {
                return;
            }
        }
    }

    private static void write(Response response, boolean last, ByteBuffer b) throws IOException {
        try (Blocker.Callback cb = Blocker.callback()) {
            response.write(last, b, cb);
            cb.block();
        }
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
