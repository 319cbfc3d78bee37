package dev.spillway.gateway.s3.post;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.io.Content;

/**
 * Reads a browser POST upload's {@code multipart/form-data} body as S3 does: the form fields up
 * to the {@code file} field, then the file's bytes as a stream (fields after the file are
 * ignored). Jetty's multipart parser does the format; this turns its callbacks into a pull over
 * the request body, on the request's own thread, so the file streams into the store without
 * being buffered whole (in memory or in a temporary file).
 */
final class FormReader {
    /** S3's limit on the form fields before the file: 20 KB; a little more for the encoding. */
    static final int MAX_FIELDS_BYTES = 64 << 10;

    private final InputStream in;
    private final MultiPart.Parser parser;
    private final byte[] buf = new byte[64 << 10];
    private final Map<String, String> fields = new LinkedHashMap<>();
    private final ArrayDeque<byte[]> fileChunks = new ArrayDeque<>();

    private String partName;
    private String partFileName;
    private ByteArrayOutputStream partValue;
    private boolean inFile;
    private boolean fileStarted;
    private boolean fileEnded;
    private boolean complete;
    private boolean eof;
    private String fileName;
    private int fieldBytes;
    private S3Exception failure;

    FormReader(InputStream in, String boundary) {
        this.in = in;
        this.parser = new MultiPart.Parser(boundary, new Listener());
    }

    /** The form's fields before the file, names as sent (S3 matches them case-insensitively). */
    Map<String, String> fields() {
        return fields;
    }

    /** The file field's file name ("" if it had none), or null if the form has no file field. */
    String fileName() {
        return fileName;
    }

    /** Reads the fields, up to the start of the file field (or the end of the form). */
    void readFields() throws S3Exception {
        while (!fileStarted && !complete) {
            feed();
        }
    }

    /** The file's bytes, until its part ends; only after {@link #readFields()} found it. */
    InputStream file() {
        return new InputStream() {
            private byte[] current;
            private int pos;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (current == null || pos == current.length) {
                    current = fileChunks.poll();
                    pos = 0;
                    if (current != null) {
                        continue;
                    }
                    if (fileEnded) {
                        return -1;
                    }
                    if (complete || eof) {
                        throw new S3StreamException(
                                new S3Exception(S3Error.INCOMPLETE_BODY, "the form ended inside its file field"));
                    }
                    try {
                        feed();
                    } catch (S3Exception e) {
                        throw new S3StreamException(e);
                    }
                }
                int n = Math.min(len, current.length - pos);
                System.arraycopy(current, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    private void feed() throws S3Exception {
        if (failure != null) {
            throw failure;
        }
        if (eof) {
            throw new S3Exception(S3Error.MALFORMED_POST_REQUEST, "the form ended before its closing boundary");
        }
        int n;
        try {
            n = in.read(buf);
        } catch (IOException e) {
            throw new S3Exception(S3Error.INCOMPLETE_BODY, "the form body ended early: " + e.getMessage(), e);
        }
        if (n < 0) {
            eof = true;
            parser.parse(Content.Chunk.EOF);
        } else {
            parser.parse(Content.Chunk.from(ByteBuffer.wrap(buf, 0, n), false));
        }
        if (failure != null) {
            throw failure;
        }
    }

    private final class Listener implements MultiPart.Parser.Listener {
        @Override
        public void onPartBegin() {
            partName = null;
            partFileName = null;
            partValue = new ByteArrayOutputStream();
        }

        @Override
        public void onPartHeader(String name, String value) {
            if (name.equalsIgnoreCase("Content-Disposition")) {
                for (String p : value.split(";")) {
                    String t = p.strip();
                    int eq = t.indexOf('=');
                    if (eq < 0) {
                        continue;
                    }
                    String k = t.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                    String v = t.substring(eq + 1).strip();
                    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                        v = v.substring(1, v.length() - 1);
                    }
                    if (k.equals("name")) {
                        partName = v;
                    } else if (k.equals("filename")) {
                        partFileName = v;
                    }
                }
            }
        }

        @Override
        public void onPartHeaders() {
            if (fileName == null && partName != null && partName.equalsIgnoreCase("file")) {
                inFile = true;
                fileStarted = true;
                fileName = partFileName == null ? "" : partFileName;
            }
        }

        @Override
        public void onPartContent(Content.Chunk chunk) {
            ByteBuffer b = chunk.getByteBuffer();
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            if (inFile) {
                if (copy.length > 0) {
                    fileChunks.add(copy);
                }
            } else if (!fileStarted && partValue != null) {
                fieldBytes += copy.length;
                if (fieldBytes > MAX_FIELDS_BYTES) {
                    failure = new S3Exception(
                            S3Error.MAX_POST_PRE_DATA_LENGTH_EXCEEDED,
                            "Your POST request fields preceding the upload file were too large (over "
                                    + MAX_FIELDS_BYTES + " bytes)");
                    return;
                }
                partValue.write(copy, 0, copy.length);
            }
        }

        @Override
        public void onPartEnd() {
            if (inFile) {
                inFile = false;
                fileEnded = true;
            } else if (!fileStarted && partName != null) {
                fields.putIfAbsent(partName, partValue.toString(StandardCharsets.UTF_8));
            }
        }

        @Override
        public void onComplete() {
            complete = true;
        }

        @Override
        public void onFailure(Throwable t) {
            failure = new S3Exception(
                    S3Error.MALFORMED_POST_REQUEST,
                    "The body of your POST request is not well-formed multipart/form-data: " + t.getMessage());
        }
    }
}
