package dev.spillway.gateway.s3.xml;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * A parsed request document (CompleteMultipartUpload, Delete, CreateBucketConfiguration): an
 * element with its text and children, namespaces ignored. Parsed with the JDK's StAX with DTDs
 * and external entities off, so a hostile document cannot read files or expand entities.
 */
public record XmlNode(String name, String text, List<XmlNode> children) {

    private static final XMLInputFactory FACTORY = newFactory();

    private static XMLInputFactory newFactory() {
        XMLInputFactory f = XMLInputFactory.newFactory();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
        return f;
    }

    /**
     * Parses {@code doc}; anything that is not well-formed XML is MalformedXML naming
     * {@code what}.
     */
    public static XmlNode parse(byte[] doc, String what) throws S3Exception {
        if (doc.length == 0) {
            throw new S3Exception(S3Error.MALFORMED_XML, what + ": the request body is empty");
        }
        try {
            XMLStreamReader r = FACTORY.createXMLStreamReader(new ByteArrayInputStream(doc));
            try {
                while (r.hasNext()) {
                    if (r.next() == XMLStreamConstants.START_ELEMENT) {
                        return element(r, 1);
                    }
                }
                throw new S3Exception(S3Error.MALFORMED_XML, what + ": no root element");
            } finally {
                r.close();
            }
        } catch (XMLStreamException | RuntimeException e) {
            throw new S3Exception(S3Error.MALFORMED_XML, what + ": " + e.getMessage(), e);
        }
    }

    /**
     * Elements nest at most this deep. S3's request documents are 3 deep; without a limit a body
     * of nested elements (4 MiB of {@code <a>} is a million levels) overflowed the stack of the
     * recursive parse — a StackOverflowError, which no handler catches.
     */
    static final int MAX_DEPTH = 32;

    private static XmlNode element(XMLStreamReader r, int depth) throws XMLStreamException {
        String name = r.getLocalName();
        if (depth > MAX_DEPTH) {
            throw new XMLStreamException("elements nested deeper than " + MAX_DEPTH + " levels, at <" + name + ">");
        }
        StringBuilder text = new StringBuilder();
        List<XmlNode> children = new ArrayList<>();
        while (true) {
            int ev = r.next();
            switch (ev) {
                case XMLStreamConstants.START_ELEMENT -> children.add(element(r, depth + 1));
                case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE ->
                    text.append(r.getText());
                case XMLStreamConstants.END_ELEMENT -> {
                    return new XmlNode(name, text.toString(), List.copyOf(children));
                }
                case XMLStreamConstants.END_DOCUMENT ->
                    throw new XMLStreamException("unexpected end of document in <" + name + ">");
                default -> {}
            }
        }
    }

    /** Children named {@code child}. */
    public List<XmlNode> all(String child) {
        List<XmlNode> out = new ArrayList<>();
        for (XmlNode c : children) {
            if (c.name.equals(child)) {
                out.add(c);
            }
        }
        return out;
    }

    /** The trimmed text of the first child named {@code child}, or null. */
    public String childText(String child) {
        for (XmlNode c : children) {
            if (c.name.equals(child)) {
                return c.text.strip();
            }
        }
        return null;
    }

    /** The raw (untrimmed) text of the first child named {@code child}, or null: keys keep their spaces. */
    public String childRawText(String child) {
        for (XmlNode c : children) {
            if (c.name.equals(child)) {
                return c.text;
            }
        }
        return null;
    }
}
