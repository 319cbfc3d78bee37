package dev.spillway.server;

import dev.spillway.gateway.s3.S3Gateway;
import dev.spillway.gateway.s3.object.StorageClasses;
import dev.spillway.osd.Errno;
import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;
import dev.spillway.pool.PoolOsd;
import dev.spillway.pool.config.DeviceConfig;
import dev.spillway.pool.config.PoolConfig;
import dev.spillway.pool.device.PoolDevice;
import dev.spillway.pool.meta.Copy;
import dev.spillway.pool.meta.PoolObject;
import dev.spillway.pool.ops.MoveResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Puts the S3 gateway's storage classes on the pool's tiers: which background device each class
 * lives on (the pool's {@code storage-classes}, or by default the first background device for
 * the infrequent-access classes and the last for the archive ones), and the mover the gateway's
 * due work uses for placements and lifecycle transitions (a spill from the fast tier, or a
 * migration from another background device).
 */
final class S3Tiering {
    /** Classes of infrequent access: by default on the first (fastest) background device. */
    static final List<String> INFREQUENT =
            List.of("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "REDUCED_REDUNDANCY");

    /** Archive classes: by default on the last background device. */
    static final List<String> ARCHIVE = List.of("GLACIER_IR", "GLACIER", "DEEP_ARCHIVE");

    private S3Tiering() {}

    /**
     * The class → device mapping of a pool: its {@code storage-classes} (every name must be a
     * class S3 has), or the default; empty for a pool without background devices (every write is
     * STANDARD then).
     */
    static Map<String, String> mapping(PoolConfig cfg) throws OsdException {
        if (!cfg.storageClasses().isEmpty()) {
            for (String c : cfg.storageClasses().keySet()) {
                if (c.equals("STANDARD") || !StorageClasses.KNOWN.contains(c)) {
                    throw new OsdException(
                            Errno.EINVAL,
                            null,
                            null,
                            "pool " + cfg.name() + ": storage-classes." + c + ": not an S3 storage class besides"
                                    + " STANDARD (one of " + new TreeSet<>(StorageClasses.KNOWN) + ")");
                }
            }
            return cfg.storageClasses();
        }
        List<DeviceConfig> bg = cfg.background();
        Map<String, String> m = new LinkedHashMap<>();
        if (bg.isEmpty()) {
            return m;
        }
        INFREQUENT.forEach(c -> m.put(c, bg.get(0).name()));
        ARCHIVE.forEach(c -> m.put(c, bg.get(bg.size() - 1).name()));
        return m;
    }

    /**
     * The pool's {@code write-commit.buckets} as the gateway takes them: bucket or bucket/prefix
     * → the policy it sets as each new body's {@code spillway.write-commit} xattr.
     */
    static Map<String, String> writeCommitRules(PoolConfig cfg) {
        Map<String, String> m = new LinkedHashMap<>();
        cfg.writeCommitBuckets().forEach((rule, wc) -> m.put(rule, wc.toString()));
        return m;
    }

    static void wire(S3Gateway gateway, PoolOsd pool) throws OsdException {
        gateway.namespace().storageClassTiers(mapping(pool.config()));
        // Not tiering, but the same kind of wiring: the gateway passes a bucket's policy down.
        gateway.namespace().writeCommitRules(writeCommitRules(pool.config()));
        gateway.dueWork().mover((body, tier) -> move(pool, body, tier));
    }

    /** Moves {@code fid}'s body to device {@code tier}: a spill if it is on the fast tier, else a migration. */
    static void move(PoolOsd pool, Fid fid, String tier) throws OsdException {
        PoolDevice target = pool.device(tier)
                .orElseThrow(() -> new OsdException(
                        Errno.ENOENT, pool.name(), fid, "storage class tier '" + tier + "' is no device of the pool"));
        PoolObject o = pool.requireObject(fid);
        if (o.on(target.index()).isPresent() && !o.resident(pool.metadataIndex())) {
            return; // already there
        }
        MoveResult r;
        if (o.resident(pool.metadataIndex())) {
            r = pool.migrator().spill(fid, target);
        } else {
            Copy from = o.inSync().stream()
                    .filter(c -> c.device() != target.index())
                    .findFirst()
                    .orElse(null);
            if (from == null) {
                return;
            }
            r = pool.migrator().migrate(fid, pool.device(from.device()), target);
        }
        if (r instanceof MoveResult.Refused) {
            throw new OsdException(
                    Errno.EAGAIN, pool.name(), fid, "cannot move to storage class tier " + tier + ": " + r.detail());
        }
    }
}
