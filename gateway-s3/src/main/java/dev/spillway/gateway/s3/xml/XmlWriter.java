package dev.spillway.gateway.s3.xml;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Writes S3's response documents. S3 documents are small and flat, so a builder over a
 * {@link StringBuilder} is all it takes; characters XML 1.0 cannot carry literally (control
 * characters in keys) are written as character references, as S3 does.
 */
public final class XmlWriter {
    public static final String S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final DateTimeFormatter ISO =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final StringBuilder sb = new StringBuilder(512);

    private XmlWriter() {
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    /** A document whose root element carries the S3 namespace. */
    public static XmlWriter document(String root) {
        XmlWriter w = new XmlWriter();
        w.sb.append('<').append(root).append(" xmlns=\"").append(S3_NS).append("\">");
        return w;
    }

    /** A document whose root element has no namespace (S3's {@code <Error>}). */
    public static XmlWriter plainDocument(String root) {
        XmlWriter w = new XmlWriter();
        w.sb.append('<').append(root).append('>');
        return w;
    }

    public XmlWriter start(String name) {
        sb.append('<').append(name).append('>');
        return this;
    }

    /** {@code <name a1="v1" a2="v2" ...>}: attributes as name/value pairs (values escaped). */
    public XmlWriter startWithAttributes(String name, String... attributes) {
        sb.append('<').append(name);
        for (int i = 0; i + 1 < attributes.length; i += 2) {
            sb.append(' ').append(attributes[i]).append("=\"");
            escape(attributes[i + 1]);
            sb.append('"');
        }
        sb.append('>');
        return this;
    }

    public XmlWriter end(String name) {
        sb.append("</").append(name).append('>');
        return this;
    }

    /** {@code <name>text</name>}; nothing for a null text. */
    public XmlWriter element(String name, String text) {
        if (text != null) {
            start(name);
            escape(text);
            end(name);
        }
        return this;
    }

    public XmlWriter element(String name, long value) {
        return element(name, Long.toString(value));
    }

    public XmlWriter element(String name, boolean value) {
        return element(name, Boolean.toString(value));
    }

    public XmlWriter element(String name, Instant time) {
        return element(name, ISO.format(time));
    }

    /** Adds text directly inside the root, closes it and returns the UTF-8 bytes. */
    public byte[] finishText(String text, String root) {
        escape(text);
        return finish(root);
    }

    /** Closes the root and returns the UTF-8 bytes. */
    public byte[] finish(String root) {
        end(root);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void escape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' || c == '\r' || c == 0xFFFE || c == 0xFFFF) {
                        sb.append("&#x").append(Integer.toHexString(c)).append(';');
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }

    /** S3's time format in listings. */
    public static String iso(Instant t) {
        return ISO.format(t);
    }
}
