package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.server.Credentials;
import dev.spillway.server.CredentialsFile;
import dev.spillway.server.CredentialsFile.Entry;
import dev.spillway.server.DataDir;
import java.io.PrintWriter;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code spillway credentials}: the pool's own key (the admin API's and the CLI's; user
 * {@code spillway}) and, with {@code add|list|remove}, the S3 users' keys. Each user owns the
 * buckets it creates; other users reach them only where an ACL grants it. The subcommands edit
 * the data folder's credentials file, which the running server re-reads on its next request.
 */
@Command(
        name = "credentials",
        mixinStandardHelpOptions = true,
        description = {
            "Print the pool's access key, secret and endpoints; --env prints shell export lines.",
            "add|list|remove manage the S3 users' access keys (each user owns the buckets it creates)."
        },
        subcommands = {CredentialsCommand.Add.class, CredentialsCommand.ListKeys.class, CredentialsCommand.Remove.class
        })
final class CredentialsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    Target target;

    @Option(
            names = "--env",
            description = "As export lines: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SPILLWAY_S3_ENDPOINT.")
    boolean env;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DataDir dir = new DataDir(target.data);
        Credentials c = Credentials.load(dir);
        String s3 = s3Endpoint(dir);
        String admin = null;
        var found = dir.readEndpoint();
        if (found.isPresent()) {
            admin = found.get().path("admin").asText(null);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (env) {
            exports(out, c.accessKey(), c.secretKey(), s3);
        } else if (target.json) {
            ObjectNode n = JSON.createObjectNode();
            n.put("accessKey", c.accessKey());
            n.put("secretKey", c.secretKey());
            n.put("s3", s3);
            n.put("admin", admin);
            out.println(AdminClient.pretty(n));
        } else {
            out.println("access key: " + c.accessKey());
            out.println("secret key: " + c.secretKey());
            out.println("S3 endpoint: " + (s3 == null ? "(server not running)" : s3));
            out.println("admin endpoint: " + (admin == null ? "(server not running)" : admin));
        }
        return ExitCodes.OK;
    }

    private static String s3Endpoint(DataDir dir) throws OsdException {
        var found = dir.readEndpoint();
        if (found.isEmpty()) {
            return null;
        }
        JsonNode e = found.get();
        return e.path("s3").isNull() ? null : e.path("s3").asText(null);
    }

    private static void exports(PrintWriter out, String accessKey, String secretKey, String s3) {
        out.println("export AWS_ACCESS_KEY_ID=" + accessKey);
        out.println("export AWS_SECRET_ACCESS_KEY=" + secretKey);
        out.println("export AWS_DEFAULT_REGION=us-east-1");
        if (s3 != null) {
            out.println("export SPILLWAY_S3_ENDPOINT=" + s3);
            out.println("export AWS_ENDPOINT_URL=" + s3);
        }
    }

    /** The subcommands edit a local file: a remote admin endpoint cannot stand in for it. */
    private static DataDir local(Target target) throws OsdException {
        if (target.endpoint != null) {
            throw new OsdException(
                    Errno.EINVAL,
                    null,
                    null,
                    "credentials add|list|remove edit the data folder's credentials file: run them on the server's"
                            + " host with --data, not --endpoint",
                    null);
        }
        return new DataDir(target.data);
    }

    private static ObjectNode json(Entry e, boolean secret) {
        ObjectNode n = JSON.createObjectNode();
        n.put("accessKey", e.accessKey());
        if (secret) {
            n.put("secretKey", e.secretKey());
        }
        n.put("user", e.user());
        n.put("email", e.email());
        n.put("created", e.created() == null ? null : e.created().toString());
        return n;
    }

    @Command(
            name = "add",
            mixinStandardHelpOptions = true,
            description = {
                "Make a new access key for USER (a new user, or another key of a user, for rotation) and print it.",
                "The running server accepts it from its next request; USER owns the buckets it creates."
            })
    static final class Add implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "USER", description = "The user (its S3 canonical id): a-z 0-9 . _ -")
        String user;

        @Option(names = "--email", description = "The user's e-mail address (ACL grants by e-mail name it).")
        String email;

        @Option(names = "--env", description = "Print export lines for the new key instead.")
        boolean env;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            DataDir dir = local(target);
            Entry e = CredentialsFile.add(dir, user, email, Instant.now(), new SecureRandom());
            PrintWriter out = spec.commandLine().getOut();
            if (env) {
                exports(out, e.accessKey(), e.secretKey(), s3Endpoint(dir));
            } else if (target.json) {
                out.println(AdminClient.pretty(json(e, true)));
            } else {
                out.println("user: " + e.user() + (e.email() == null ? "" : " <" + e.email() + ">"));
                out.println("access key: " + e.accessKey());
                out.println("secret key: " + e.secretKey());
                out.println("(stored in " + dir.credentials() + ", mode 0600; a running server takes it"
                        + " from its next request)");
            }
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "List every access key with its user (the pool's own key first); secrets with --secrets.")
    static final class ListKeys implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--secrets", description = "Show the secret keys too.")
        boolean secrets;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            List<Entry> all = CredentialsFile.load(local(target));
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                ArrayNode a = JSON.createArrayNode();
                all.forEach(e -> a.add(json(e, secrets)));
                out.println(AdminClient.pretty(a));
                return ExitCodes.OK;
            }
            Table t = secrets
                    ? new Table("ACCESS KEY", "SECRET KEY", "USER", "E-MAIL", "CREATED")
                    : new Table("ACCESS KEY", "USER", "E-MAIL", "CREATED");
            for (int i = 0; i < all.size(); i++) {
                Entry e = all.get(i);
                String created = i == 0
                        ? "(the pool's own key)"
                        : e.created() == null ? "-" : e.created().toString();
                String email = e.email() == null ? "-" : e.email();
                if (secrets) {
                    t.row(e.accessKey(), e.secretKey(), e.user(), email, created);
                } else {
                    t.row(e.accessKey(), e.user(), email, created);
                }
            }
            t.print(out);
            return ExitCodes.OK;
        }
    }

    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            description = {
                "Remove an access key; the running server refuses it from its next request.",
                "The user's buckets and objects stay the user's (a new key with `credentials add USER` reaches them)."
            })
    static final class Remove implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", paramLabel = "ACCESS_KEY", description = "The access key to remove.")
        String accessKey;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            DataDir dir = local(target);
            Entry e = CredentialsFile.remove(dir, accessKey);
            boolean left =
                    CredentialsFile.load(dir).stream().anyMatch(x -> x.user().equals(e.user()));
            PrintWriter out = spec.commandLine().getOut();
            if (target.json) {
                ObjectNode n = json(e, false);
                n.put("userHasKeysLeft", left);
                out.println(AdminClient.pretty(n));
            } else {
                out.println("removed access key " + e.accessKey() + " of user " + e.user()
                        + (left
                                ? ""
                                : "; " + e.user() + " has no key left: its buckets and objects stay its own"
                                        + " (`spillway credentials add " + e.user() + "` makes a new key for them)"));
            }
            return ExitCodes.OK;
        }
    }
}
