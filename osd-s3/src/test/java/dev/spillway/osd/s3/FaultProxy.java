package dev.spillway.osd.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small fault-injecting TCP proxy in front of an S3 server, on loopback, for the fault tests:
 * <ul>
 * <li>{@link #cutUploadAfter} / {@link #cutDownloadAfter}: once so many bytes went up (requests)
 * or down (responses), every connection is cut and new ones are refused — the server stopped
 * mid-upload or mid-read — until {@link #heal()};</li>
 * <li>{@link #down()}: refuse every connection (accept and close at once);</li>
 * <li>{@link #slow}: hold every chunk of every response for a while (a slow server);</li>
 * <li>{@link #throttle}: answer the next requests with {@code 503 SlowDown} (S3's throttling) and
 * {@code Connection: close}, so that each retry comes back on a new connection and is answered
 * the same way until the count runs out.</li>
 * </ul>
 * Enabling a fault drops the open connections, so pooled keep-alive connections cannot slip past
 * it. Traffic is bounded by what the test sends; the proxy stops with {@link #close()}.
 */
final class FaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong up = new AtomicLong();
    private final AtomicLong down = new AtomicLong();
    private final AtomicInteger throttled = new AtomicInteger();
    private final AtomicInteger throttleLeft = new AtomicInteger();
    private volatile long cutUp = -1;
    private volatile long cutDown = -1;
    private volatile boolean refusing;
    private volatile long delayMs;
    private volatile Runnable onCut = () -> {};
    // While set, only requests whose request line matches are throttled (others pass, on
    // connections closed after one request, so that every request is seen).
    private volatile java.util.regex.Pattern throttleOnly;
    private volatile boolean closed;

    FaultProxy(URI upstream) throws IOException {
        this.upstream = new InetSocketAddress(upstream.getHost(), upstream.getPort());
        this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("fault-proxy-accept").start(this::acceptLoop);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** Cuts everything once {@code bytes} more request bytes went through; runs {@code then} at the cut. */
    void cutUploadAfter(long bytes, Runnable then) {
        onCut = then;
        cutUp = up.get() + bytes;
        dropAll();
    }

    /** Cuts everything once {@code bytes} more response bytes went through. */
    void cutDownloadAfter(long bytes, Runnable then) {
        onCut = then;
        cutDown = down.get() + bytes;
        dropAll();
    }

    /** Refuses every connection until {@link #heal()}. */
    void down() {
        refusing = true;
        dropAll();
    }

    /** Holds each response chunk {@code ms} milliseconds. */
    void slow(long ms) {
        delayMs = ms;
        dropAll();
    }

    /** Answers the next {@code requests} requests with 503 SlowDown. */
    void throttle(int requests) {
        throttleOnly = null;
        throttleLeft.set(requests);
        dropAll();
    }

    /** Answers the next {@code requests} requests whose request line matches {@code regex} with 503. */
    void throttle(int requests, String regex) {
        throttleOnly = java.util.regex.Pattern.compile(regex);
        throttleLeft.set(requests);
        dropAll();
    }

    /** Requests answered with 503 so far. */
    int throttled() {
        return throttled.get();
    }

    /** Back to a faithful proxy. */
    void heal() {
        cutUp = -1;
        cutDown = -1;
        refusing = false;
        delayMs = 0;
        throttleLeft.set(0);
        throttleOnly = null;
    }

    private void dropAll() {
        for (Socket s : open) {
            closeQuietly(s);
        }
    }

    private void cut() {
        refusing = true;
        dropAll();
        onCut.run();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            if (refusing) {
                closeQuietly(client);
                continue;
            }
            Thread.ofVirtual().name("fault-proxy-conn").start(() -> serve(client));
        }
    }

    private void serve(Socket client) {
        open.add(client);
        try {
            InputStream cin = client.getInputStream();
            if (throttleLeft.get() > 0) {
                byte[] head = readHead(cin);
                java.util.regex.Pattern only = throttleOnly;
                String line = head == null
                        ? ""
                        : new String(head, StandardCharsets.ISO_8859_1)
                                .lines()
                                .findFirst()
                                .orElse("");
                if (head != null && (only == null || only.matcher(line).find()) && throttleLeft.getAndDecrement() > 0) {
                    answer503(client, head, cin);
                    return;
                }
                relay(client, cin, head == null ? null : closeAfter(head));
                return;
            }
            relay(client, cin, null);
        } catch (IOException e) {
            // a connection cut by a fault or by either side: nothing to do
        } finally {
            open.remove(client);
            closeQuietly(client);
        }
    }

    private void relay(Socket client, InputStream cin, byte[] already) throws IOException {
        try (Socket server = new Socket()) {
            server.connect(upstream, 5_000);
            open.add(server);
            try {
                OutputStream sout = server.getOutputStream();
                if (already != null) {
                    sout.write(already);
                    countUp(already.length);
                }
                Thread back = Thread.ofVirtual().start(() -> pump(server, client, false));
                pump(client, server, true);
                back.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                open.remove(server);
            }
        }
    }

    private void pump(Socket from, Socket to, boolean upward) {
        byte[] buf = new byte[64 << 10];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) > 0) {
                if (!upward && delayMs > 0) {
                    Thread.sleep(delayMs);
                }
                out.write(buf, 0, n);
                out.flush();
                if (upward) {
                    countUp(n);
                } else {
                    countDown(n);
                }
            }
            to.shutdownOutput();
        } catch (IOException | InterruptedException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void countUp(long n) {
        long c = cutUp;
        if (up.addAndGet(n) >= c && c >= 0) {
            cutUp = -1;
            cut();
        }
    }

    private void countDown(long n) {
        long c = cutDown;
        if (down.addAndGet(n) >= c && c >= 0) {
            cutDown = -1;
            cut();
        }
    }

    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3))
                    ? state + 1
                    : (c == '\r' ? 1 : 0);
            if (state == 4) {
                return b.toByteArray();
            }
            if (b.size() > 64 << 10) {
                return b.toByteArray();
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    /** The request head with {@code Connection: close}, so the next request comes on a new connection. */
    private static byte[] closeAfter(byte[] head) {
        String h = new String(head, StandardCharsets.ISO_8859_1);
        StringBuilder out = new StringBuilder();
        for (String line : h.split("\r\n")) {
            if (!line.isEmpty() && !line.toLowerCase(Locale.ROOT).startsWith("connection:")) {
                out.append(line).append("\r\n");
            }
        }
        out.append("Connection: close\r\n\r\n");
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void answer503(Socket client, byte[] head, InputStream cin) throws IOException {
        String h = new String(head, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        long length = 0;
        boolean expect = h.contains("\nexpect: 100-continue");
        for (String line : h.split("\r\n")) {
            if (line.startsWith("content-length:")) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        if (!expect) {
            // Swallow the body, so the client reads the answer rather than a broken pipe.
            cin.skipNBytes(length);
        }
        int n = throttled.incrementAndGet();
        String body =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
                        + "</Message><RequestId>FAULT" + n + "</RequestId></Error>";
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String resp = "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: " + b.length
                + "\r\nx-amz-request-id: FAULT" + n + "\r\nConnection: close\r\n\r\n";
        OutputStream out = client.getOutputStream();
        out.write(resp.getBytes(StandardCharsets.ISO_8859_1));
        out.write(b);
        out.flush();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing a socket a fault already broke
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        dropAll();
    }
}
