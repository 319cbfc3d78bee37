package dev.spillway.gateway.s3.access;

import dev.spillway.gateway.s3.auth.CredentialStore;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import dev.spillway.gateway.s3.xml.XmlNode;
import dev.spillway.gateway.s3.xml.XmlWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * An access control list: grants of a permission to a user (by canonical id) or to one of S3's
 * groups (everyone; every authenticated user; log delivery). Canned ACLs are what S3 documents
 * them to expand to. A grant by e-mail address names the user with that address
 * ({@code spillway credentials add --email}); an address no user has is UnresolvableGrantByEmailAddress.
 */
public record Acl(List<Grant> grants) {
    public static final String ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
    public static final String AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    public static final String LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";
    private static final String XSI = "http://www.w3.org/2001/XMLSchema-instance";

    public enum Permission {
        READ,
        WRITE,
        READ_ACP,
        WRITE_ACP,
        FULL_CONTROL
    }

    /** A grantee: a user ({@code group} false, {@code id} its canonical id) or a group (its URI). */
    public record Grantee(boolean group, String id) {}

    public record Grant(Grantee grantee, Permission permission) {}

    public Acl {
        grants = List.copyOf(grants);
    }

    /** The canned ACLs S3 has, for a bucket or for an object. */
    public static final List<String> CANNED = List.of(
            "private",
            "public-read",
            "public-read-write",
            "authenticated-read",
            "bucket-owner-read",
            "bucket-owner-full-control",
            "log-delivery-write",
            "aws-exec-read");

    /**
     * The grants of canned ACL {@code name} for a resource owned by {@code owner} in a bucket
     * owned by {@code bucketOwner}. InvalidArgument for a name S3 does not have; NotImplemented
     * for aws-exec-read (it names EC2, which this gateway has no user for).
     */
    public static Acl canned(String name, String owner, String bucketOwner) throws S3Exception {
        // Grants to groups first, then the owner's, as S3 lists them (RGW and the suite's checks
        // too); grants to the bucket owner after the owner's.
        List<Grant> g = new ArrayList<>();
        switch (name) {
            case "private", "bucket-owner-read", "bucket-owner-full-control" -> {}
            case "public-read" -> g.add(group(ALL_USERS, Permission.READ));
            case "public-read-write" -> {
                g.add(group(ALL_USERS, Permission.READ));
                g.add(group(ALL_USERS, Permission.WRITE));
            }
            case "authenticated-read" -> g.add(group(AUTHENTICATED_USERS, Permission.READ));
            case "log-delivery-write" -> {
                g.add(group(LOG_DELIVERY, Permission.WRITE));
                g.add(group(LOG_DELIVERY, Permission.READ_ACP));
            }
            case "aws-exec-read" ->
                throw new S3Exception(
                        S3Error.NOT_IMPLEMENTED,
                        "the canned ACL aws-exec-read grants EC2 access, which the Spillway gateway does not have");
            default ->
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid canned ACL '" + name + "': one of " + CANNED);
        }
        g.add(user(owner, Permission.FULL_CONTROL));
        if (!bucketOwner.equals(owner)) {
            if (name.equals("bucket-owner-read")) {
                g.add(user(bucketOwner, Permission.READ));
            } else if (name.equals("bucket-owner-full-control")) {
                g.add(user(bucketOwner, Permission.FULL_CONTROL));
            }
        }
        return new Acl(g);
    }

    static Grant user(String id, Permission p) {
        return new Grant(new Grantee(false, id), p);
    }

    static Grant group(String uri, Permission p) {
        return new Grant(new Grantee(true, uri), p);
    }

    /**
     * What {@code userId} (null: an anonymous caller) may do by these grants. With
     * {@code ignorePublic} (PublicAccessBlock's IgnorePublicAcls), grants to everyone and to
     * every authenticated user count for nothing.
     */
    public boolean allows(String userId, Permission p, boolean ignorePublic) {
        for (Grant g : grants) {
            if (g.permission() != p && g.permission() != Permission.FULL_CONTROL) {
                continue;
            }
            Grantee e = g.grantee();
            if (!e.group()) {
                if (e.id().equals(userId)) {
                    return true;
                }
            } else if (!ignorePublic
                    && (e.id().equals(ALL_USERS) || e.id().equals(AUTHENTICATED_USERS) && userId != null)) {
                return true;
            }
        }
        return false;
    }

    /** Grants something to everyone or to every authenticated user (what PublicAccessBlock calls public). */
    public boolean isPublic() {
        return grants.stream()
                .anyMatch(g -> g.grantee().group()
                        && (g.grantee().id().equals(ALL_USERS)
                                || g.grantee().id().equals(AUTHENTICATED_USERS)));
    }

    // ---- stored form ---------------------------------------------------------------------

    /** One line per grant: {@code u|g TAB id-or-uri TAB PERMISSION}. */
    public String encode() {
        StringBuilder sb = new StringBuilder();
        for (Grant g : grants) {
            sb.append(g.grantee().group() ? 'g' : 'u')
                    .append('\t')
                    .append(g.grantee().id())
                    .append('\t')
                    .append(g.permission())
                    .append('\n');
        }
        return sb.toString();
    }

    public static Acl decode(String s) {
        List<Grant> g = new ArrayList<>();
        for (String line : s.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", 3);
            g.add(new Grant(new Grantee(f[0].equals("g"), f[1]), Permission.valueOf(f[2])));
        }
        return new Acl(g);
    }

    // ---- documents and headers -----------------------------------------------------------

    /**
     * The {@code <AccessControlPolicy>} of these grants for a resource owned by {@code owner}:
     * grants to groups first, then grants to users, each in the order they were given — the order
     * canned ACLs list in on S3, kept for documents too so a client sees one shape.
     */
    public byte[] document(CredentialStore.User owner, Function<String, String> displayName) {
        XmlWriter w = XmlWriter.document("AccessControlPolicy")
                .start("Owner")
                .element("ID", owner.id())
                .element("DisplayName", owner.displayName())
                .end("Owner")
                .start("AccessControlList");
        List<Grant> ordered = new ArrayList<>();
        grants.stream().filter(g -> g.grantee().group()).forEach(ordered::add);
        grants.stream().filter(g -> !g.grantee().group()).forEach(ordered::add);
        for (Grant g : ordered) {
            w.start("Grant");
            if (g.grantee().group()) {
                w.startWithAttributes("Grantee", "xmlns:xsi", XSI, "xsi:type", "Group")
                        .element("URI", g.grantee().id())
                        .end("Grantee");
            } else {
                w.startWithAttributes("Grantee", "xmlns:xsi", XSI, "xsi:type", "CanonicalUser")
                        .element("ID", g.grantee().id())
                        .element("DisplayName", displayName.apply(g.grantee().id()))
                        .end("Grantee");
            }
            w.element("Permission", g.permission().name()).end("Grant");
        }
        return w.end("AccessControlList").finish("AccessControlPolicy");
    }

    /**
     * Parses an {@code <AccessControlPolicy>}: MalformedXML for a document S3 would not take,
     * InvalidArgument for a grantee that is no user of this gateway,
     * UnresolvableGrantByEmailAddress for an e-mail address no user has.
     */
    public static Acl parse(byte[] doc, CredentialStore users) throws S3Exception {
        XmlNode root = XmlNode.parse(doc, "AccessControlPolicy");
        if (!root.name().equals("AccessControlPolicy")) {
            throw new S3Exception(S3Error.MALFORMED_XML, "expected <AccessControlPolicy>, got <" + root.name() + ">");
        }
        List<Grant> g = new ArrayList<>();
        for (XmlNode list : root.all("AccessControlList")) {
            for (XmlNode grant : list.all("Grant")) {
                List<XmlNode> grantees = grant.all("Grantee");
                String perm = grant.childText("Permission");
                if (grantees.size() != 1 || perm == null) {
                    throw new S3Exception(S3Error.MALFORMED_XML, "a <Grant> has one <Grantee> and a <Permission>");
                }
                g.add(new Grant(grantee(grantees.get(0), users), permission(perm)));
            }
        }
        return new Acl(g);
    }

    private static Grantee grantee(XmlNode e, CredentialStore users) throws S3Exception {
        String id = e.childText("ID");
        String uri = e.childText("URI");
        String email = e.childText("EmailAddress");
        if (email != null) {
            return byEmail(email, users);
        }
        if (id != null) {
            return knownUser(id, users);
        }
        if (uri != null) {
            return knownGroup(uri);
        }
        throw new S3Exception(S3Error.MALFORMED_XML, "a <Grantee> names an ID, a URI or an EmailAddress");
    }

    private static Grantee knownUser(String id, CredentialStore users) throws S3Exception {
        if (users.userById(id).isEmpty()) {
            throw new S3Exception(
                    S3Error.INVALID_ARGUMENT, "Invalid id: the grantee '" + id + "' is no user of this gateway");
        }
        return new Grantee(false, id);
    }

    private static Grantee knownGroup(String uri) throws S3Exception {
        if (!uri.equals(ALL_USERS) && !uri.equals(AUTHENTICATED_USERS) && !uri.equals(LOG_DELIVERY)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid group uri '" + uri + "'");
        }
        return new Grantee(true, uri);
    }

    /** A grant by e-mail address names the user with that address (S3 keeps it as a grant to the user's id). */
    private static Grantee byEmail(String email, CredentialStore users) throws S3Exception {
        return users.userByEmail(email)
                .map(u -> new Grantee(false, u.id()))
                .orElseThrow(() -> new S3Exception(
                        S3Error.UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS,
                        "The e-mail address you provided does not match any account on record: " + email
                                + " (`spillway credentials add USER --email ADDRESS` gives a user one)"));
    }

    private static Permission permission(String p) throws S3Exception {
        try {
            return Permission.valueOf(p.strip());
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.MALFORMED_XML, "unknown permission '" + p + "'");
        }
    }

    private static final List<String[]> GRANT_HEADERS = List.of(
            new String[] {"x-amz-grant-read", "READ"},
            new String[] {"x-amz-grant-write", "WRITE"},
            new String[] {"x-amz-grant-read-acp", "READ_ACP"},
            new String[] {"x-amz-grant-write-acp", "WRITE_ACP"},
            new String[] {"x-amz-grant-full-control", "FULL_CONTROL"});

    /** True if a request carries any x-amz-grant-* header. */
    public static boolean hasGrantHeaders(Function<String, String> header) {
        return GRANT_HEADERS.stream().anyMatch(h -> header.apply(h[0]) != null);
    }

    /**
     * The grants named by x-amz-grant-* headers ({@code id="…"}, {@code uri="…"},
     * {@code emailAddress="…"}, comma-separated), with the owner's FULL_CONTROL first.
     */
    public static Acl fromHeaders(Function<String, String> header, String owner, CredentialStore users)
            throws S3Exception {
        List<Grant> g = new ArrayList<>();
        g.add(user(owner, Permission.FULL_CONTROL));
        for (String[] h : GRANT_HEADERS) {
            String v = header.apply(h[0]);
            if (v == null) {
                continue;
            }
            for (String part : v.split(",")) {
                String p = part.strip();
                int eq = p.indexOf('=');
                if (eq < 0) {
                    throw new S3Exception(S3Error.INVALID_ARGUMENT, h[0] + ": '" + p + "' is not key=\"value\"");
                }
                String k = p.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String val = p.substring(eq + 1).strip().replace("\"", "");
                Grantee e = switch (k) {
                    case "id" -> knownUser(val, users);
                    case "uri" -> knownGroup(val);
                    case "emailaddress" -> byEmail(val, users);
                    default ->
                        throw new S3Exception(S3Error.INVALID_ARGUMENT, h[0] + ": unknown grantee type '" + k + "'");
                };
                g.add(new Grant(e, Permission.valueOf(h[1])));
            }
        }
        return new Acl(g);
    }
}
