package dev.spillway.gateway.s3;

import dev.spillway.osd.mem.MemOsd;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Run by {@link FiveGibMultipartTest} in a child JVM with a small heap: a 5 GiB multipart upload
 * (80 parts of 64 MiB) and a 5 GiB GET through the gateway, bodies streamed from and checked
 * against {@link PatternOsd#pattern}. Exit 0 and "ok" on success.
 */
public final class FiveGibMain {
    static final long PART = 64L << 20;
    static final int PARTS = 80;

    /** Generates the pattern of one part without holding it. */
    static final class PatternStream extends InputStream {
        private final long size;
        private long pos;

        PatternStream(long size) {
            this.size = size;
        }

        @Override
        public int read() {
            return pos < size ? PatternOsd.pattern(pos++) & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            for (int i = 0; i < n; i++) {
                b[off + i] = PatternOsd.pattern(pos++);
            }
            return n;
        }
    }

    public static void main(String[] args) throws Exception {
        try (GatewayFixture fx =
                new GatewayFixture(new PatternOsd(MemOsd.create("pattern")), GatewayConfig.builder())) {
            RawS3 raw = new RawS3(fx.endpoint(), GatewayFixture.ACCESS_KEY, GatewayFixture.SECRET_KEY);
            check(raw.send(raw.sign("PUT", "/big", Map.of(), new byte[0], RawS3.Form.SIGNED)));
            RawS3.Response init =
                    check(raw.send(raw.sign("POST", "/big/five?uploads", Map.of(), new byte[0], RawS3.Form.SIGNED)));
            Matcher m = Pattern.compile("<UploadId>(.*?)</UploadId>").matcher(init.body());
            if (!m.find()) {
                throw new IllegalStateException("no upload id in " + init.body());
            }
            String id = m.group(1);
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<String> etags = new ArrayList<>();
            for (int p = 1; p <= PARTS; p++) {
                // Signed with UNSIGNED-PAYLOAD (the signer never reads the body), streamed by the JDK client.
                RawS3.Signed s = raw.sign(
                        "PUT",
                        "/big/five?partNumber=" + p + "&uploadId=" + id,
                        Map.of("Content-Length", Long.toString(PART)),
                        new byte[0],
                        RawS3.Form.UNSIGNED);
                HttpRequest.Builder b = HttpRequest.newBuilder(s.request().getUri())
                        .PUT(HttpRequest.BodyPublishers.fromPublisher(
                                HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(PART)), PART));
                s.request().forEachHeader((n, vs) -> {
                    if (!n.equalsIgnoreCase("host") && !n.equalsIgnoreCase("content-length")) {
                        vs.forEach(v -> b.header(n, v));
                    }
                });
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException(
                            "part " + p + ": " + r.statusCode() + " " + r.body().replace("\n", " "));
                }
                etags.add(r.headers().firstValue("ETag").orElseThrow());
            }
            StringBuilder xml = new StringBuilder("<CompleteMultipartUpload>");
            for (int p = 1; p <= PARTS; p++) {
                xml.append("<Part><PartNumber>")
                        .append(p)
                        .append("</PartNumber><ETag>")
                        .append(etags.get(p - 1))
                        .append("</ETag></Part>");
            }
            xml.append("</CompleteMultipartUpload>");
            RawS3.Response done = check(raw.send(raw.sign(
                    "POST",
                    "/big/five?uploadId=" + id,
                    Map.of(),
                    xml.toString().getBytes(StandardCharsets.UTF_8),
                    RawS3.Form.SIGNED)));
            if (!done.body().contains("-" + PARTS + "&quot;</ETag>")
                    && !done.body().contains("-" + PARTS + "\"</ETag>")) {
                throw new IllegalStateException("unexpected complete result " + done.body());
            }
            RawS3.Signed get = raw.sign("GET", "/big/five", Map.of(), new byte[0], RawS3.Form.SIGNED);
            HttpRequest.Builder gb =
                    HttpRequest.newBuilder(get.request().getUri()).GET();
            get.request().forEachHeader((n, vs) -> {
                if (!n.equalsIgnoreCase("host")) {
                    vs.forEach(v -> gb.header(n, v));
                }
            });
            HttpResponse<InputStream> r = http.send(gb.build(), HttpResponse.BodyHandlers.ofInputStream());
            long total = 0;
            try (InputStream in = r.body()) {
                byte[] buf = new byte[1 << 20];
                int n;
                while ((n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        long partOffset = (total + i) % PART;
                        if (buf[i] != PatternOsd.pattern(partOffset)) {
                            throw new IllegalStateException("GET byte " + (total + i) + " differs");
                        }
                    }
                    total += n;
                }
            }
            if (r.statusCode() != 200 || total != PART * PARTS) {
                throw new IllegalStateException("GET returned " + r.statusCode() + " and " + total + " bytes");
            }
            var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            System.out.println("ok: 5 GiB up and down, heap max " + (heap.getMax() >> 20) + " MiB, used now "
                    + (heap.getUsed() >> 20) + " MiB");
        }
    }

    static RawS3.Response check(RawS3.Response r) throws IOException {
        if (r.status() != 200) {
            throw new IOException("HTTP " + r.status() + ": " + r.body());
        }
        return r;
    }
}
