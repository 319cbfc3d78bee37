package dev.spillway.osd.s3;

import dev.spillway.osd.Osd;
import dev.spillway.osd.OsdException;
import dev.spillway.osd.spi.OsdConfig;
import dev.spillway.osd.spi.Osds;
import dev.spillway.osd.testkit.OsdConformance;
import java.nio.file.Path;
import java.util.Map;

/**
 * The conformance suite on osd-s3 against a real S3 server. Skipped, as the capabilities say (and
 * the skip messages name): TRANSACTIONS (rollback, isolation, all-or-nothing), INDEX, PUNCH and
 * SPARSE_SEEK, PARTIAL_WRITE (writes at an offset, truncate tests). Each test's device lives
 * under its own prefix of one bucket; reopen tests remount the same prefix.
 */
abstract class S3OsdConformance extends OsdConformance {

    abstract S3Peers.Peer peer() throws Exception;

    @Override
    protected Osd open(String name, Path location, long capacity) throws OsdException {
        Map<String, Object> s;
        try {
            s = peer().settings(
                            "conformance", "conf/" + location.getParent().getFileName() + "/" + location.getFileName());
        } catch (Exception e) {
            throw new IllegalStateException("S3 peer did not start", e);
        }
        s.put("strict-declares", true);
        s.put("quota", capacity > 0 ? capacity : 1L << 30);
        return Osds.open(OsdConfig.of(name, "s3", s));
    }

    @Override
    public boolean reopenable() {
        return true;
    }
}
