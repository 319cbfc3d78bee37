package dev.spillway.gateway.s3.cors;

import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A bucket's CORS configuration: rules of allowed origins (each with at most one {@code *}
 * wildcard), methods, request headers ({@code *} wildcards too), headers exposed to the browser
 * and how long a browser may cache a preflight. The first rule that matches a request decides,
 * as S3 does.
 */
public record CorsConfiguration(List<Rule> rules) {
    /** S3's limit on rules in one configuration. */
    public static final int MAX_RULES = 100;

    private static final Set<String> METHODS = Set.of("GET", "PUT", "POST", "DELETE", "HEAD");

    public record Rule(
            String id,
            List<String> origins,
            List<String> methods,
            List<String> headers,
            List<String> expose,
            Integer maxAgeSeconds) {
        public Rule {
            origins = List.copyOf(origins);
            methods = List.copyOf(methods);
            headers = List.copyOf(headers);
            expose = List.copyOf(expose);
        }

        /** The rule allows {@code origin} asking for {@code method} with {@code requestHeaders}. */
        public boolean matches(String origin, String method, List<String> requestHeaders) {
            if (origin == null || !methods.contains(method)) {
                return false;
            }
            if (origins.stream().noneMatch(o -> wildcard(o, origin))) {
                return false;
            }
            for (String h : requestHeaders) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (headers.stream().noneMatch(a -> wildcard(a.toLowerCase(Locale.ROOT), lower))) {
                    return false;
                }
            }
            return true;
        }

        /** The Access-Control-Allow-Origin value: {@code *} for a rule open to any origin. */
        public String allowOrigin(String origin) {
            return origins.contains("*") ? "*" : origin;
        }
    }

    public CorsConfiguration {
        rules = List.copyOf(rules);
    }

    /** A pattern with at most one {@code *} (any run of characters) against a value. */
    static boolean wildcard(String pattern, String value) {
        int star = pattern.indexOf('*');
        if (star < 0) {
            return pattern.equals(value);
        }
        String prefix = pattern.substring(0, star);
        String suffix = pattern.substring(star + 1);
        return value.length() >= prefix.length() + suffix.length()
                && value.startsWith(prefix)
                && value.endsWith(suffix);
    }

    /** The first rule matching, or null. */
    public Rule match(String origin, String method, List<String> requestHeaders) {
        for (Rule r : rules) {
            if (r.matches(origin, method, requestHeaders)) {
                return r;
            }
        }
        return null;
    }

    /**
     * Parses a {@code <CORSConfiguration>}: MalformedXML for what S3 would not take (no rule, a
     * rule without an origin or a method, more than 100 rules), InvalidRequest for an unknown
     * method or an origin with more than one wildcard.
     */
    public static CorsConfiguration parse(byte[] doc) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "CORSConfiguration");
        if (!root.name().equals("CORSConfiguration")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <CORSConfiguration>, got <" + root.name() + ">");
        }
        List<XmlNode> rs = root.all("CORSRule");
        if (rs.isEmpty() || rs.size() > MAX_RULES) {
            throw new S3Exception(
                    S3Error.MALFORMED_XML, "a CORS configuration has 1 to " + MAX_RULES + " rules, got " + rs.size());
        }
        List<Rule> rules = new ArrayList<>();
        for (XmlNode r : rs) {
            List<String> origins = texts(r, "AllowedOrigin");
            List<String> methods = texts(r, "AllowedMethod");
            if (origins.isEmpty() || methods.isEmpty()) {
                throw new S3Exception(
                        S3Error.MALFORMED_XML, "a <CORSRule> needs at least one AllowedOrigin and one AllowedMethod");
            }
            for (String m : methods) {
                if (!METHODS.contains(m)) {
                    throw new S3Exception(
                            S3Error.INVALID_REQUEST,
                            "Found unsupported HTTP method in CORS config. Unsupported method is " + m);
                }
            }
            for (String o : origins) {
                if (o.indexOf('*') != o.lastIndexOf('*')) {
                    throw new S3Exception(
                            S3Error.INVALID_REQUEST,
                            "AllowedOrigin \"" + o + "\" can not have more than one wildcard.");
                }
            }
            List<String> headers = texts(r, "AllowedHeader");
            for (String h : headers) {
                if (h.indexOf('*') != h.lastIndexOf('*')) {
                    throw new S3Exception(
                            S3Error.INVALID_REQUEST,
                            "AllowedHeader \"" + h + "\" can not have more than one wildcard.");
                }
            }
            String age = r.childText("MaxAgeSeconds");
            Integer maxAge = null;
            if (age != null) {
                try {
                    maxAge = Integer.parseInt(age);
                } catch (NumberFormatException e) {
                    throw new S3Exception(S3Error.MALFORMED_XML, "MaxAgeSeconds '" + age + "' is not a number");
                }
            }
            rules.add(new Rule(r.childText("ID"), origins, methods, headers, texts(r, "ExposeHeader"), maxAge));
        }
        return new CorsConfiguration(rules);
    }

    private static List<String> texts(XmlNode n, String child) {
        List<String> out = new ArrayList<>();
        for (XmlNode c : n.all(child)) {
            out.add(c.text().strip());
        }
        return out;
    }

    /** The document as stored and as GetBucketCors answers it. */
    public byte[] document() {
        XmlWriter w = XmlWriter.document("CORSConfiguration");
        for (Rule r : rules) {
            w.start("CORSRule").element("ID", r.id());
            r.headers().forEach(h -> w.element("AllowedHeader", h));
            r.methods().forEach(m -> w.element("AllowedMethod", m));
            r.origins().forEach(o -> w.element("AllowedOrigin", o));
            r.expose().forEach(e -> w.element("ExposeHeader", e));
            if (r.maxAgeSeconds() != null) {
                w.element("MaxAgeSeconds", r.maxAgeSeconds());
            }
            w.end("CORSRule");
        }
        return w.finish("CORSConfiguration");
    }
}
