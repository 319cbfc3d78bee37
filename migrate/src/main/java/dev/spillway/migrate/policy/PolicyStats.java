package dev.spillway.migrate.policy;

/**
 * Counters of a {@link PlacementPolicy} since it was created.
 *
 * @param passesStarted times occupancy rose above the high watermark and a spill pass began
 * @param passesFinished times a pass brought occupancy to the low watermark and stopped
 * @param spillsPlanned objects handed out in spill plans
 * @param bytesPlanned their bytes
 * @param emergencies emergency plans asked for
 * @param promotions promotions admitted (trial ones included)
 * @param trialPromotions of which on probation
 * @param refusedHits refused by the nhit rule
 * @param refusedRoom refused for lack of room
 * @param refusedWouldSpill refused because the next pass would evict them (ping-pong avoided)
 * @param pingPongs objects promoted (not on trial) that the very next spill pass planned to spill
 *     again: what the promotion gate exists to prevent
 */
public record PolicyStats(
        long passesStarted,
        long passesFinished,
        long spillsPlanned,
        long bytesPlanned,
        long emergencies,
        long promotions,
        long trialPromotions,
        long refusedHits,
        long refusedRoom,
        long refusedWouldSpill,
        long pingPongs) {}
