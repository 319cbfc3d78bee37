package dev.spillway.migrate.heat;

/**
 * One band of the heat distribution: the objects whose heat now lies in {@code [low, high)}
 * accesses (decayed), split by where their body is. What the status page draws as "what is hot,
 * what is cold".
 *
 * @param low the band's lowest heat (0 for the coldest band)
 * @param high the band's highest heat (exclusive; positive infinity for the hottest band)
 * @param residentObjects objects with their body on the fast tier (probation included)
 * @param residentBytes their bytes
 * @param spilledObjects objects whose body is only on spill devices
 * @param spilledBytes their bytes
 */
public record HeatBand(
        double low, double high, long residentObjects, long residentBytes, long spilledObjects, long spilledBytes) {}
