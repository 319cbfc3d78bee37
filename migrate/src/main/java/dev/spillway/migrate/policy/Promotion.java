package dev.spillway.migrate.policy;

/** The policy's answer for one read from a spill device. */
public enum Promotion {
    /** Copy it to the fast tier. */
    PROMOTE,
    /** Copy it to the fast tier on trial (probation): it goes first unless it is read again there. */
    PROMOTE_ON_TRIAL,
    /** Not read often enough within the window yet (the nhit rule). */
    TOO_FEW_HITS,
    /** The fast tier is too full (above the promotion ceiling once it is added). */
    NO_ROOM,
    /** The next spill pass would evict it again: promoting it would ping-pong. */
    WOULD_SPILL_NEXT,
    /** It may not live on the fast tier through the policy (INDEX, pinned, unknown, already resident). */
    NOT_ELIGIBLE;

    public boolean admitted() {
        return this == PROMOTE || this == PROMOTE_ON_TRIAL;
    }
}
