package dev.spillway.gateway.s3.auth;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.error.S3StreamException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Decodes an {@code aws-chunked} body: {@code hex-size[;chunk-signature=SIG]\r\n data \r\n} ...
 * a zero-size final chunk, then optional trailers ({@code x-amz-checksum-*}, and
 * {@code x-amz-trailer-signature} in the signed-trailer form) and an empty line.
 *
 * <p>Chunk data streams through as it arrives; a chunk's signature is checked as soon as its
 * last byte has passed, and a bad one fails the next read. That is safe because the gateway
 * writes a body under a FID no key points to yet: a body that fails here is discarded, never
 * published. A body that ends early fails with IncompleteBody.
 */
public final class AwsChunkedInputStream extends InputStream {
    private static final int MAX_LINE = 4096;
    private static final int MAX_TRAILERS = 16;

    private final InputStream in;
    private final AuthResult auth;
    private final boolean signed;
    private final boolean trailer;
    private final MessageDigest chunkHash;
    private final Map<String, String> trailers = new LinkedHashMap<>();

    private long chunkLeft;
    private String chunkSignature;
    private String previousSignature;
    private long decoded;
    private boolean started;
    private boolean done;

    public AwsChunkedInputStream(InputStream in, AuthResult auth) {
        this.in = in;
        this.auth = auth;
        this.signed = auth.payloadMode().signedChunks();
        this.trailer = auth.payloadMode().trailer();
        this.chunkHash = signed ? Hashing.sha256() : null;
        this.previousSignature = auth.seedSignature();
    }

    /** Trailing headers (lower-case names), complete once the stream returned -1. */
    public Map<String, String> trailers() {
        return trailers;
    }

    /** Decoded bytes so far. */
    public long decodedLength() {
        return decoded;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (!done && chunkLeft == 0) {
            if (started) {
                endChunk();
            }
            started = true;
            startChunk();
        }
        if (done) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, chunkLeft));
        if (n < 0) {
            throw fail(
                    S3Error.INCOMPLETE_BODY,
                    "the aws-chunked body ended inside a chunk, " + chunkLeft + " bytes short");
        }
        if (signed) {
            chunkHash.update(b, off, n);
        }
        chunkLeft -= n;
        decoded += n;
        return n;
    }

    private void startChunk() throws IOException {
        String header = line();
        int semi = header.indexOf(';');
        String hex = (semi < 0 ? header : header.substring(0, semi)).strip();
        long size;
        try {
            size = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
            throw fail(S3Error.INCOMPLETE_BODY, "bad aws-chunked chunk header '" + header + "'");
        }
        if (size < 0) {
            throw fail(S3Error.INCOMPLETE_BODY, "negative chunk size in '" + header + "'");
        }
        chunkSignature = null;
        if (semi >= 0) {
            String ext = header.substring(semi + 1).strip();
            if (ext.startsWith("chunk-signature=")) {
                chunkSignature = ext.substring("chunk-signature=".length());
            }
        }
        if (signed && chunkSignature == null) {
            throw fail(S3Error.SIGNATURE_DOES_NOT_MATCH, "chunk header '" + header + "' has no chunk-signature");
        }
        chunkLeft = size;
        if (size == 0) {
            verifyChunk();
            finish();
        }
    }

    private void endChunk() throws IOException {
        int cr = in.read();
        int lf = in.read();
        if (cr < 0 || lf < 0) {
            throw fail(S3Error.INCOMPLETE_BODY, "the aws-chunked body ended after a chunk's data");
        }
        if (cr != '\r' || lf != '\n') {
            throw fail(S3Error.INCOMPLETE_BODY, "a chunk's data is longer than its declared size");
        }
        verifyChunk();
    }

    private void verifyChunk() throws IOException {
        if (!signed) {
            return;
        }
        String sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + auth.amzDate() + "\n" + auth.scope() + "\n" + previousSignature
                + "\n" + Hashing.EMPTY_SHA256 + "\n" + Hashing.hex(chunkHash.digest());
        String expected = Hashing.hex(Hashing.hmac(auth.signingKey(), sts));
        if (!Hashing.sameSignature(expected, chunkSignature)) {
            throw fail(
                    S3Error.SIGNATURE_DOES_NOT_MATCH,
                    "the signature of the aws-chunked chunk ending at decoded byte " + decoded + " does not match");
        }
        previousSignature = expected;
    }

    private void finish() throws IOException {
        if (trailer) {
            StringBuilder canonical = new StringBuilder();
            String trailerSignature = null;
            while (true) {
                String l = line();
                if (l.isEmpty()) {
                    break;
                }
                int colon = l.indexOf(':');
                if (colon <= 0 || trailers.size() >= MAX_TRAILERS) {
                    throw fail(S3Error.INCOMPLETE_BODY, "bad trailer line '" + l + "'");
                }
                String name = l.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = l.substring(colon + 1).strip();
                if (name.equals("x-amz-trailer-signature")) {
                    trailerSignature = value;
                } else {
                    trailers.put(name, value);
                    canonical.append(name).append(':').append(value).append('\n');
                }
            }
            if (signed) {
                if (trailerSignature == null) {
                    throw fail(S3Error.SIGNATURE_DOES_NOT_MATCH, "the signed trailer has no x-amz-trailer-signature");
                }
                String sts = "AWS4-HMAC-SHA256-TRAILER\n" + auth.amzDate() + "\n" + auth.scope() + "\n"
                        + previousSignature + "\n" + Hashing.sha256Hex(canonical.toString());
                String expected = Hashing.hex(Hashing.hmac(auth.signingKey(), sts));
                if (!Hashing.sameSignature(expected, trailerSignature)) {
                    throw fail(S3Error.SIGNATURE_DOES_NOT_MATCH, "the trailer signature does not match");
                }
            }
        } else {
            // The final chunk is followed by an empty line; tolerate a client that stops right
            // after the final chunk header.
            int cr = in.read();
            if (cr >= 0) {
                int lf = in.read();
                if (cr != '\r' || lf != '\n') {
                    throw fail(S3Error.INCOMPLETE_BODY, "unexpected bytes after the final aws-chunked chunk");
                }
            }
        }
        done = true;
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder(80);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw fail(
                        S3Error.INCOMPLETE_BODY,
                        "the aws-chunked body ended after " + decoded + " decoded bytes, before its final chunk");
            }
            if (c == '\r') {
                int lf = in.read();
                if (lf != '\n') {
                    throw fail(S3Error.INCOMPLETE_BODY, "a chunk header line is not ended by CRLF");
                }
                return sb.toString();
            }
            if (sb.length() >= MAX_LINE) {
                throw fail(S3Error.INCOMPLETE_BODY, "an aws-chunked header line is longer than " + MAX_LINE + " bytes");
            }
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                // A bare LF or another control byte inside a chunk header or trailer line is not
                // framing any client writes; accepted, it let a damaged line pass (the chunk
                // signature covers the data, not the line), found by AwsChunkedFuzzTest#sdkBodies.
                throw fail(
                        S3Error.INCOMPLETE_BODY,
                        "an aws-chunked header line holds the control byte 0x" + Integer.toHexString(c));
            }
            sb.append((char) c);
        }
    }

    private static S3StreamException fail(S3Error error, String message) {
        return new S3StreamException(new S3Exception(error, message));
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
