package dev.spillway.pool.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spillway.osd.Errno;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a pool's YAML. Every unknown key and every impossible combination is an error naming the
 * source and the key path ({@code devices[1].roles}); nothing is guessed.
 *
 * <pre>
 * name: default
 * replicas: 1
 * write-commit: async      # or: sync 2 — acknowledge after 2 durable copies (sync 2 min 1: degrade to 1);
 *                          # or per S3 bucket/prefix: {default: async, buckets: {photos: sync 2, "logs/archive/": sync 2}}
 * devices:
 *   - name: fast
 *     backend: kv
 *     roles: [metadata, foreground, promote]
 *     settings: {path: ./data/fast, capacity: 1GiB}
 *   - name: slow
 *     backend: vfs
 *     roles: [background]
 *     settings: {path: ./data/slow}
 *   - {name: ram, backend: mem, roles: [cache]}   # optional: a read cache (durability 0)
 * policy:
 *   high-watermark: 0.80
 * space:
 *   writer-wait: 5s
 * storage-classes:          # optional: S3 storage class → the background device it lives on
 *   STANDARD_IA: slow
 * fail-after-errors: 8      # consecutive EIOs that fail a device (also per device; 0 = never)
 * </pre>
 */
public final class PoolConfigParser {
    private static final Set<String> TOP = Set.of(
            "name",
            "replicas",
            "write-commit",
            "devices",
            "policy",
            "space",
            "storage-classes",
            "striping",
            "fail-after-errors");
    private static final Set<String> STRIPE_TIER = Set.of("devices", "stripe-count", "stripe-size", "min-object-size");
    private static final Set<String> DEVICE =
            Set.of("name", "backend", "roles", "state", "durability", "settings", "fail-after-errors");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final String source;
    // Device name → its own fail-after-errors, filled as the devices are read.
    private final Map<String, Integer> failAfter = new LinkedHashMap<>();

    private PoolConfigParser(String source) {
        this.source = source;
    }

    public static PoolConfig parse(Path file) throws OsdException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new OsdException(
                    Errno.ENOENT, null, null, "pool config " + file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    public static PoolConfig parse(String yaml, String source) throws OsdException {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (IOException e) {
            throw new OsdException(
                    Errno.EINVAL, null, null, "pool config " + source + ": not valid YAML: " + e.getMessage(), e);
        }
        return new PoolConfigParser(source).read(root);
    }

    private OsdException bad(String path, String why) {
        return new OsdException(Errno.EINVAL, null, "pool config " + source + ": " + path + ": " + why);
    }

    private void onlyKnown(JsonNode node, String path, Set<String> known) throws OsdException {
        Iterator<String> it = node.fieldNames();
        while (it.hasNext()) {
            String k = it.next();
            if (!known.contains(k)) {
                throw bad(
                        path.isEmpty() ? k : path + "." + k,
                        "unknown key (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    private String text(JsonNode node, String path, String def) throws OsdException {
        if (node == null || node.isNull()) {
            if (def == null) {
                throw bad(path, "required");
            }
            return def;
        }
        if (!node.isValueNode()) {
            throw bad(path, "must be a single value");
        }
        return node.asText();
    }

    private int integer(JsonNode node, String path, int def) throws OsdException {
        if (node == null || node.isNull()) {
            return def;
        }
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            throw bad(path, "must be an integer, got '" + node.asText() + "'");
        }
        return node.asInt();
    }

    /**
     * A key written without a value ({@code capacity:}) is YAML null, which the immutable maps
     * of the configuration cannot hold: it was a NullPointerException out of the parser (found by
     * {@code PoolConfigFuzzTest}); it is the user's mistake, so an error naming the key.
     */
    private void noNullValues(Map<String, Object> m, String path) throws OsdException {
        for (var e : m.entrySet()) {
            if (e.getValue() == null) {
                throw bad(path + "." + e.getKey(), "has no value (write one, or leave the key out)");
            }
        }
    }

    private PoolConfig read(JsonNode root) throws OsdException {
        if (root == null || !root.isObject()) {
            throw bad("(top)", "a pool configuration is a mapping with keys " + new TreeSet<>(TOP));
        }
        onlyKnown(root, "", TOP);
        String name = text(root.get("name"), "name", "pool");
        int replicas = integer(root.get("replicas"), "replicas", 1);
        if (replicas < 1) {
            throw bad("replicas", "must be at least 1, got " + replicas);
        }
        JsonNode devs = root.get("devices");
        if (devs == null || !devs.isArray() || devs.isEmpty()) {
            throw bad("devices", "a list of at least one device is required");
        }
        List<DeviceConfig> devices = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < devs.size(); i++) {
            DeviceConfig d = device(devs.get(i), i);
            if (!names.add(d.name())) {
                throw bad("devices[" + i + "].name", "duplicate device name '" + d.name() + "'");
            }
            devices.add(d);
        }
        long metadata = devices.stream().filter(d -> d.has(Role.METADATA)).count();
        if (metadata != 1) {
            throw bad("devices", "exactly one device must have role metadata, found " + metadata);
        }
        if (devices.stream().noneMatch(d -> d.has(Role.FOREGROUND))) {
            throw bad("devices", "no device has role foreground: writes would have nowhere to land");
        }
        long durable = devices.stream().filter(d -> d.durability() > 0).count();
        if (replicas > durable) {
            throw bad(
                    "replicas",
                    replicas + " copies cannot sit on distinct devices: only " + durable + " durable device(s)");
        }
        Map<String, Object> policy = new LinkedHashMap<>();
        JsonNode p = root.get("policy");
        if (p != null && !p.isNull()) {
            if (!p.isObject()) {
                throw bad("policy", "must be a mapping");
            }
            policy = YAML.convertValue(p, Map.class);
            noNullValues(policy, "policy");
        }
        SpaceConfig space = SpaceConfig.defaults();
        JsonNode sp = root.get("space");
        if (sp != null && !sp.isNull()) {
            if (!sp.isObject()) {
                throw bad("space", "must be a mapping");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = YAML.convertValue(sp, Map.class);
            space = SpaceConfig.parse(m, source);
        }
        Map<String, String> classes = new LinkedHashMap<>();
        JsonNode sc = root.get("storage-classes");
        if (sc != null && !sc.isNull()) {
            if (!sc.isObject()) {
                throw bad("storage-classes", "must be a mapping of storage class to background device");
            }
            Iterator<String> it = sc.fieldNames();
            while (it.hasNext()) {
                String cls = it.next();
                String path = "storage-classes." + cls;
                if (!cls.matches("[A-Z][A-Z0-9_]{0,63}")) {
                    throw bad(path, "a storage class is upper case letters, digits and '_' (STANDARD_IA)");
                }
                String dev = text(sc.get(cls), path, null);
                if (devices.stream().noneMatch(d -> d.name().equals(dev) && d.has(Role.BACKGROUND))) {
                    throw bad(path, "'" + dev + "' is not a background device of this pool");
                }
                classes.put(cls, dev);
            }
        }
        WriteCommit wc = WriteCommit.ASYNC;
        Map<String, WriteCommit> rules = new LinkedHashMap<>();
        JsonNode w = root.get("write-commit");
        if (w != null && !w.isNull()) {
            if (w.isObject()) {
                // {default: async, buckets: {photos: sync 2, "logs/archive/": sync 2 min 1}}
                onlyKnown(w, "write-commit", Set.of("default", "buckets"));
                JsonNode def = w.get("default");
                if (def != null && !def.isNull()) {
                    wc = writeCommit(def, "write-commit.default", replicas, durable);
                }
                JsonNode bs = w.get("buckets");
                if (bs != null && !bs.isNull()) {
                    if (!bs.isObject()) {
                        throw bad(
                                "write-commit.buckets",
                                "must be a mapping of bucket (or bucket/prefix) to policy, e.g. {photos: sync 2}");
                    }
                    Iterator<String> it = bs.fieldNames();
                    while (it.hasNext()) {
                        String rule = it.next();
                        String path = "write-commit.buckets." + rule;
                        if (!rule.matches(BUCKET_RULE)) {
                            throw bad(
                                    path,
                                    "a rule is an S3 bucket name (3-63 of a-z, 0-9, '.', '-'), optionally followed"
                                            + " by '/' and a key prefix: photos, logs/archive/");
                        }
                        rules.put(rule, writeCommit(bs.get(rule), path, replicas, durable));
                    }
                }
            } else {
                wc = writeCommit(w, "write-commit", replicas, durable);
            }
        }
        int failAfterErrors =
                integer(root.get("fail-after-errors"), "fail-after-errors", FailureConfig.DEFAULT_FAIL_AFTER_ERRORS);
        if (failAfterErrors < 0) {
            throw bad("fail-after-errors", "must be >= 0 (0: only the admin fails a device)");
        }
        List<StripeTier> striping = striping(root.get("striping"), devices);
        return new PoolConfig(
                name,
                replicas,
                devices,
                policy,
                space,
                classes,
                wc,
                striping,
                new FailureConfig(failAfterErrors, failAfter),
                rules);
    }

    /** A bucket name as S3 allows it (lower case), optionally "/" and a key prefix. */
    private static final String BUCKET_RULE = "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?";

    private WriteCommit writeCommit(JsonNode node, String path, int replicas, long durable) throws OsdException {
        WriteCommit wc;
        try {
            wc = WriteCommit.parse(text(node, path, null));
        } catch (IllegalArgumentException e) {
            throw bad(path, e.getMessage());
        }
        if (wc.copies() > durable) {
            throw bad(
                    path,
                    "'" + wc + "' asks for " + wc.copies() + " durable copies, but the pool has only " + durable
                            + " durable device(s)");
        }
        if (wc.copies() > replicas) {
            throw bad(
                    path,
                    "'" + wc + "' acknowledges " + wc.copies() + " copies but replicas is " + replicas
                            + ": set replicas: " + wc.copies()
                            + " too, so that the daemon keeps (and restores) what"
                            + " the write made");
        }
        return wc;
    }

    private List<StripeTier> striping(JsonNode node, List<DeviceConfig> devices) throws OsdException {
        List<StripeTier> tiers = new ArrayList<>();
        if (node == null || node.isNull()) {
            return tiers;
        }
        if (!node.isArray()) {
            throw bad("striping", "must be a list of tiers, each with devices, stripe-count and stripe-size");
        }
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String path = "striping[" + i + "]";
            JsonNode t = node.get(i);
            if (!t.isObject()) {
                throw bad(path, "a tier is a mapping with keys " + new TreeSet<>(STRIPE_TIER));
            }
            onlyKnown(t, path, STRIPE_TIER);
            JsonNode ds = t.get("devices");
            if (ds == null || !ds.isArray() || ds.size() < 2) {
                throw bad(path + ".devices", "a list of at least two background devices is required");
            }
            List<String> names = new ArrayList<>();
            for (int j = 0; j < ds.size(); j++) {
                String dp = path + ".devices[" + j + "]";
                String dev = text(ds.get(j), dp, null);
                DeviceConfig d = devices.stream()
                        .filter(x -> x.name().equals(dev))
                        .findFirst()
                        .orElseThrow(() -> bad(dp, "'" + dev + "' is not a device of this pool"));
                if (!d.has(Role.BACKGROUND)) {
                    throw bad(dp, "'" + dev + "' is not a background device: only spill copies are striped");
                }
                if (!taken.add(dev)) {
                    throw bad(dp, "'" + dev + "' is listed twice (a device belongs to at most one striping tier)");
                }
                names.add(dev);
            }
            int count = integer(t.get("stripe-count"), path + ".stripe-count", 0);
            if (count < 2 || count > names.size()) {
                throw bad(
                        path + ".stripe-count",
                        (t.get("stripe-count") == null ? "required" : "is " + count) + ": must be 2.." + names.size()
                                + " (one stripe per device of the tier)");
            }
            long size = bytes(t.get("stripe-size"), path + ".stripe-size", -1);
            if (size < 0) {
                throw bad(path + ".stripe-size", "required (a power of two from 64KiB to 1GiB, e.g. 4MiB)");
            }
            if (Long.bitCount(size) != 1 || size < StripeTier.MIN_STRIPE_SIZE || size > StripeTier.MAX_STRIPE_SIZE) {
                throw bad(
                        path + ".stripe-size",
                        size + " bytes: must be a power of two from 64KiB (Lustre's LOV_MIN_STRIPE_SIZE) to" + " 1GiB");
            }
            long min = bytes(t.get("min-object-size"), path + ".min-object-size", 0);
            tiers.add(new StripeTier(names, count, (int) size, min));
        }
        return tiers;
    }

    private long bytes(JsonNode node, String path, long def) throws OsdException {
        if (node == null || node.isNull()) {
            return def;
        }
        if (!node.isValueNode()) {
            throw bad(path, "must be a single value (a size such as 4MiB)");
        }
        try {
            long v = OsdConfig.parseBytes(node.asText());
            if (v < 0) {
                throw new IllegalArgumentException("must not be negative: '" + node.asText() + "'");
            }
            return v;
        } catch (IllegalArgumentException e) {
            throw bad(path, e.getMessage());
        }
    }

    private DeviceConfig device(JsonNode n, int i) throws OsdException {
        String path = "devices[" + i + "]";
        if (n == null || !n.isObject()) {
            throw bad(path, "a device is a mapping with keys " + new TreeSet<>(DEVICE));
        }
        onlyKnown(n, path, DEVICE);
        String name = text(n.get("name"), path + ".name", null);
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw bad(path + ".name", "'" + name + "' must be 1-64 characters of letters, digits, '.', '_', '-'");
        }
        String backend = text(n.get("backend"), path + ".backend", null);
        EnumSet<Role> roles = EnumSet.noneOf(Role.class);
        JsonNode r = n.get("roles");
        if (r == null || !r.isArray() || r.isEmpty()) {
            throw bad(
                    path + ".roles", "a list of roles is required (metadata, foreground, background, promote, cache)");
        }
        for (int j = 0; j < r.size(); j++) {
            String s = r.get(j).asText();
            try {
                roles.add(Role.valueOf(s.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw bad(
                        path + ".roles[" + j + "]",
                        "unknown role '" + s + "' (metadata, foreground, background, promote, cache)");
            }
        }
        if (roles.contains(Role.BACKGROUND) && (roles.contains(Role.METADATA) || roles.contains(Role.FOREGROUND))) {
            throw bad(path + ".roles", "a background (spill) device cannot also be metadata or foreground");
        }
        if (roles.contains(Role.FOREGROUND) && !roles.contains(Role.METADATA)) {
            throw bad(
                    path + ".roles",
                    "a foreground device other than the metadata device is not supported yet: give it role metadata too");
        }
        if (roles.contains(Role.CACHE) && roles.size() > 1) {
            throw bad(
                    path + ".roles",
                    "a cache device holds promoted copies only and cannot also be "
                            + String.join(
                                    ", ",
                                    roles.stream()
                                            .filter(x -> x != Role.CACHE)
                                            .map(Role::yamlName)
                                            .toList())
                            + ": give '" + name + "' the role cache alone, or drop cache");
        }
        DeviceState state;
        String st = text(n.get("state"), path + ".state", "rw");
        try {
            state = DeviceState.parse(st);
        } catch (IllegalArgumentException e) {
            throw bad(path + ".state", "unknown state '" + st + "' (rw, ro, evacuating, spare, failed)");
        }
        boolean cache = roles.contains(Role.CACHE);
        int durability = integer(n.get("durability"), path + ".durability", cache ? 0 : 1);
        if (durability < 0) {
            throw bad(path + ".durability", "must be >= 0");
        }
        if (cache && durability != 0) {
            throw bad(
                    path + ".durability",
                    "a cache device has durability 0 (its copies never count toward replicas), got " + durability
                            + ": leave durability out, or make '" + name + "' a background device");
        }
        if (n.has("fail-after-errors")) {
            int f = integer(n.get("fail-after-errors"), path + ".fail-after-errors", 0);
            if (f < 0) {
                throw bad(path + ".fail-after-errors", "must be >= 0 (0: only the admin fails this device)");
            }
            failAfter.put(name, f);
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        JsonNode s = n.get("settings");
        if (s != null && !s.isNull()) {
            if (!s.isObject()) {
                throw bad(path + ".settings", "must be a mapping");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = YAML.convertValue(s, Map.class);
            noNullValues(m, path + ".settings");
            settings.putAll(m);
        }
        return new DeviceConfig(i, name, backend, roles, state, durability, settings);
    }
}
