package dev.spillway.gateway.s3.access;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.spillway.gateway.s3.error.S3Error;
import dev.spillway.gateway.s3.error.S3Exception;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A bucket policy: the part of AWS's policy language a single-node S3 server can honour — Allow
 * and Deny statements naming principals (everyone, or this gateway's users by id, as
 * {@code arn:aws:iam::ID:root} or {@code arn:aws:iam::ACCOUNT:user/ID}), S3 actions (with
 * {@code *} and {@code ?} wildcards), resources of this bucket, and conditions on the keys in
 * {@link ConditionKeys}. Everything else is refused when the policy is put, never accepted and
 * ignored: NotPrincipal, NotAction and NotResource, principals other than {@code AWS} and
 * {@code CanonicalUser}, unknown operators, IfExists and ForAnyValue/ForAllValues forms,
 * condition keys the gateway cannot evaluate. An explicit Deny wins over every Allow; an Allow
 * grants in addition to ACLs.
 */
public record BucketPolicy(List<Statement> statements) {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** The largest policy S3 takes. */
    public static final int MAX_BYTES = 20 * 1024;

    public enum Decision {
        ALLOW,
        DENY,
        NONE
    }

    /** One condition: operator, key (lower case) and the values any of which may match. */
    public record Condition(String operator, String key, List<String> values) {}

    /**
     * One statement. {@code principals} holds user ids; {@code anyone} is a {@code *} principal.
     * Actions are lower-case patterns; resources are ARN patterns.
     */
    public record Statement(
            boolean allow,
            boolean anyone,
            Set<String> principals,
            List<String> actions,
            List<String> resources,
            List<Condition> conditions) {}

    public BucketPolicy {
        statements = List.copyOf(statements);
    }

    // ---- parsing ------------------------------------------------------------------------------

    private static S3Exception malformed(String why) {
        return new S3Exception(S3Error.MALFORMED_POLICY, why);
    }

    private static S3Exception unbuilt(String what) {
        return new S3Exception(
                S3Error.NOT_IMPLEMENTED,
                "bucket policy: " + what + " is not implemented by the Spillway gateway (the policy was not stored)");
    }

    /** Parses and checks a policy for bucket {@code bucket}; MalformedPolicy or NotImplemented naming the part. */
    public static BucketPolicy parse(byte[] doc, String bucket) throws S3Exception {
        if (doc.length == 0) {
            throw malformed("Policies must be valid JSON and the first byte must be '{'");
        }
        if (doc.length > MAX_BYTES) {
            throw malformed("Policies must be less than 20 KB: this one has " + doc.length + " bytes");
        }
        JsonNode root;
        try {
            root = JSON.readTree(doc);
        } catch (JsonProcessingException e) {
            throw malformed("Policies must be valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw malformed("Policies must be valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw malformed("Policies must be valid JSON and the first byte must be '{'");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("Version", "Id", "Statement").contains(f)) {
                throw malformed("Unknown field " + f);
            }
        }
        JsonNode version = root.path("Version");
        if (!version.isMissingNode()
                && !version.asText().equals("2012-10-17")
                && !version.asText().equals("2008-10-17")) {
            throw malformed("The policy must contain a valid version string (2012-10-17 or 2008-10-17)");
        }
        JsonNode st = root.path("Statement");
        List<JsonNode> list = new ArrayList<>();
        if (st.isObject()) {
            list.add(st);
        } else if (st.isArray()) {
            st.forEach(list::add);
        }
        if (list.isEmpty()) {
            throw malformed("Missing required field Statement");
        }
        List<Statement> out = new ArrayList<>();
        for (JsonNode s : list) {
            out.add(statement(s, bucket));
        }
        return new BucketPolicy(out);
    }

    private static Statement statement(JsonNode s, String bucket) throws S3Exception {
        if (!s.isObject()) {
            throw malformed("A Statement is a JSON object");
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            switch (f) {
                case "Sid", "Effect", "Principal", "Action", "Resource", "Condition" -> {}
                case "NotPrincipal" ->
                    throw malformed(
                            "NotPrincipal is not supported by the Spillway gateway: name the principals an Allow"
                                    + " or Deny applies to with Principal");
                case "NotAction", "NotResource" -> throw unbuilt(f);
                default -> throw malformed("Unknown field " + f + " in a Statement");
            }
        }
        String effect = s.path("Effect").asText("");
        if (!effect.equals("Allow") && !effect.equals("Deny")) {
            throw malformed("Invalid effect: '" + effect + "' (Allow or Deny)");
        }
        JsonNode p = s.path("Principal");
        if (p.isMissingNode()) {
            throw malformed("Missing required field Principal");
        }
        boolean anyone = false;
        Set<String> principals = new LinkedHashSet<>();
        if (p.isTextual()) {
            if (!p.asText().equals("*")) {
                throw malformed("Invalid principal in policy: '" + p.asText() + "'");
            }
            anyone = true;
        } else if (p.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getKey().equals("AWS") && !e.getKey().equals("CanonicalUser")) {
                    throw unbuilt("principal type " + e.getKey());
                }
                for (String v : strings(e.getValue(), "Principal")) {
                    if (v.equals("*")) {
                        anyone = true;
                    } else {
                        principals.add(e.getKey().equals("AWS") ? userOf(v) : v);
                    }
                }
            }
        } else {
            throw malformed("Invalid principal in policy");
        }
        List<String> actions = new ArrayList<>();
        for (String a : strings(s.path("Action"), "Action")) {
            String l = a.toLowerCase(Locale.ROOT);
            if (!l.equals("*") && !l.startsWith("s3:")) {
                throw malformed("Policy has invalid action: '" + a + "' (S3 actions are s3:Name)");
            }
            actions.add(l);
        }
        List<String> resources = new ArrayList<>();
        for (String r : strings(s.path("Resource"), "Resource")) {
            String b = r.startsWith("arn:aws:s3:::") ? r.substring("arn:aws:s3:::".length()) : null;
            String name = b == null ? null : b.contains("/") ? b.substring(0, b.indexOf('/')) : b;
            if (name == null || !Wildcards.matches(name, bucket)) {
                throw malformed("Policy has invalid resource: '" + r + "' is not in bucket " + bucket);
            }
            resources.add(r);
        }
        List<Condition> conditions = new ArrayList<>();
        JsonNode c = s.path("Condition");
        if (!c.isMissingNode()) {
            if (!c.isObject()) {
                throw malformed("Condition is an object of operators");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = c.fields(); it.hasNext(); ) {
                var op = it.next();
                String operator = ConditionKeys.operator(op.getKey());
                if (!op.getValue().isObject()) {
                    throw malformed("Condition " + op.getKey() + " is an object of keys");
                }
                for (Iterator<Map.Entry<String, JsonNode>> kt = op.getValue().fields(); kt.hasNext(); ) {
                    var k = kt.next();
                    String key = ConditionKeys.key(k.getKey());
                    List<String> values = strings(k.getValue(), "Condition " + k.getKey());
                    ConditionKeys.checkValues(operator, key, values);
                    conditions.add(new Condition(operator, key, values));
                }
            }
        }
        return new Statement(effect.equals("Allow"), anyone, Set.copyOf(principals), actions, resources, conditions);
    }

    /** The user id an AWS principal names: an id, {@code arn:aws:iam::ID:root} or {@code arn:aws:iam::ACCOUNT:user/ID}. */
    private static String userOf(String v) throws S3Exception {
        if (!v.startsWith("arn:")) {
            return v;
        }
        String[] f = v.split(":", 6);
        if (f.length == 6 && f[0].equals("arn") && f[2].equals("iam")) {
            if (f[5].equals("root")) {
                return f[4];
            }
            if (f[5].startsWith("user/")) {
                return f[5].substring(f[5].lastIndexOf('/') + 1);
            }
        }
        throw malformed("Invalid principal in policy: '" + v + "'");
    }

    private static List<String> strings(JsonNode n, String what) throws S3Exception {
        List<String> out = new ArrayList<>();
        if (n.isTextual() || n.isNumber() || n.isBoolean()) {
            out.add(n.asText());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!(e.isTextual() || e.isNumber() || e.isBoolean())) {
                    throw malformed(what + " is a string or a list of strings");
                }
                out.add(e.asText());
            }
        }
        if (out.isEmpty()) {
            throw malformed("Missing required field " + what);
        }
        return out;
    }

    // ---- evaluation ---------------------------------------------------------------------------

    /**
     * What this policy says about {@code user} (null: anonymous) doing {@code action} (as
     * {@code s3:GetObject}) on {@code resource} (an ARN) in request context {@code context}
     * (condition keys in lower case → value): DENY if a Deny statement applies, else ALLOW if an
     * Allow statement does, else NONE (the ACLs decide).
     */
    public Decision evaluate(String user, String action, String resource, Map<String, String> context) {
        String a = action.toLowerCase(Locale.ROOT);
        boolean allowed = false;
        for (Statement s : statements) {
            if (!(s.anyone() || user != null && s.principals().contains(user))) {
                continue;
            }
            if (s.actions().stream().noneMatch(p -> Wildcards.matches(p, a))) {
                continue;
            }
            if (s.resources().stream().noneMatch(p -> Wildcards.matches(p, resource))) {
                continue;
            }
            if (!s.conditions().stream().allMatch(c -> ConditionKeys.holds(c, context))) {
                continue;
            }
            if (!s.allow()) {
                return Decision.DENY;
            }
            allowed = true;
        }
        return allowed ? Decision.ALLOW : Decision.NONE;
    }

    /**
     * Public as S3 judges it: some Allow statement grants to everyone without a condition that
     * pins who may use it (a source address range other than everything, or a user id).
     */
    public boolean isPublic() {
        return statements.stream()
                .anyMatch(
                        s -> s.allow() && s.anyone() && s.conditions().stream().noneMatch(ConditionKeys::narrows));
    }
}
