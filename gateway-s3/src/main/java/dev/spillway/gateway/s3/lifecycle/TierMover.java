package dev.spillway.gateway.s3.lifecycle;

import dev.spillway.osd.Fid;
import dev.spillway.osd.OsdException;

/**
 * Moves a DATA object's body to a background tier of the pool (a storage class's placement, a
 * lifecycle transition). The server implements it with the pool's migrator; a gateway over a
 * device that is not a pool has no tiers, and the placement advice xattr is all there is.
 */
@FunctionalInterface
public interface TierMover {
    /**
     * Moves (spills, or migrates from another background device) {@code body} to device
     * {@code tier}. ENOENT if the body is gone; any other failure leaves the body where it was.
     */
    void move(Fid body, String tier) throws OsdException;

    /** No tiers: nothing moves. */
    TierMover NONE = (body, tier) -> {};
}
