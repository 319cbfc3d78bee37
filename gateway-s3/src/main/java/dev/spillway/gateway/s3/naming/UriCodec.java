package dev.spillway.gateway.s3.naming;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Percent-encoding as S3 and SigV4 use it. Keys are opaque bytes, so decoding yields bytes, not a
 * string: a key may be any byte sequence, also one that is not UTF-8.
 */
public final class UriCodec {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private UriCodec() {}

    /**
     * Decodes {@code %XX} escapes to bytes; other characters are taken as their UTF-8 bytes.
     * With {@code plusIsSpace} (query strings), {@code +} is a space.
     *
     * @throws IllegalArgumentException for a broken escape
     */
    public static byte[] decode(String s, boolean plusIsSpace) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated percent escape at " + i + " in '" + s + "'");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad percent escape at " + i + " in '" + s + "'");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else if (c < 0x80) {
                out.write(c);
            } else {
                int end = i + 1;
                if (Character.isHighSurrogate(c) && end < s.length()) {
                    end++;
                }
                out.writeBytes(s.substring(i, end).getBytes(StandardCharsets.UTF_8));
                i = end - 1;
            }
        }
        return out.toByteArray();
    }

    /** Decodes to a UTF-8 string (query parameter values). */
    public static String decodeString(String s, boolean plusIsSpace) {
        return new String(decode(s, plusIsSpace), StandardCharsets.UTF_8);
    }

    /**
     * SigV4's URI encoding: every byte but {@code A-Z a-z 0-9 - . _ ~} becomes {@code %XX}
     * (upper-case hex); {@code /} is kept when {@code keepSlash} (the canonical URI).
     */
    public static String encode(byte[] bytes, boolean keepSlash) {
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 'A' && c <= 'Z'
                    || c >= 'a' && c <= 'z'
                    || c >= '0' && c <= '9'
                    || c == '-'
                    || c == '.'
                    || c == '_'
                    || c == '~'
                    || c == '/' && keepSlash) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        return sb.toString();
    }

    public static String encode(String s, boolean keepSlash) {
        return encode(s.getBytes(StandardCharsets.UTF_8), keepSlash);
    }
}
