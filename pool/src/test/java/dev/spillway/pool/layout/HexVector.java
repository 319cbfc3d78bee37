package dev.spillway.pool.layout;

import java.io.ByteArrayOutputStream;

/**
 * Hand-written byte vectors: one line per field, {@code OFFSET: bytes  # what they are}. The
 * offset label (hex) must equal the number of bytes before the line, so a derivation that skips
 * or doubles a field fails loudly instead of shifting everything after it.
 */
final class HexVector {
    private HexVector() {}

    static byte[] parse(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int lineNo = 0;
        for (String raw : text.split("\n")) {
            lineNo++;
            String line = raw;
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("line " + lineNo + " has no offset label: " + raw);
            }
            int label = Integer.parseInt(line.substring(0, colon).strip(), 16);
            if (label != out.size()) {
                throw new IllegalArgumentException("line " + lineNo + " is labelled 0x" + Integer.toHexString(label)
                        + " but starts at byte 0x" + Integer.toHexString(out.size()) + ": " + raw);
            }
            for (String tok : line.substring(colon + 1).strip().split("\\s+")) {
                if (tok.isEmpty()) {
                    continue;
                }
                if (tok.matches("00\\*\\d+")) { // 00*N: N zero bytes
                    int n = Integer.parseInt(tok.substring(3));
                    for (int i = 0; i < n; i++) {
                        out.write(0);
                    }
                } else if (tok.matches("ff\\*\\d+")) {
                    int n = Integer.parseInt(tok.substring(3));
                    for (int i = 0; i < n; i++) {
                        out.write(0xff);
                    }
                } else if (tok.startsWith("\"") && tok.endsWith("\"") && tok.length() >= 2) { // ASCII text
                    for (char c : tok.substring(1, tok.length() - 1).toCharArray()) {
                        out.write(c);
                    }
                } else {
                    out.write(Integer.parseInt(tok, 16));
                }
            }
        }
        return out.toByteArray();
    }

    static String dump(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.length; i += 16) {
            sb.append(String.format("%04x:", i));
            for (int j = i; j < Math.min(b.length, i + 16); j++) {
                sb.append(String.format(" %02x", b[j]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
