package dev.spillway.migrate.daemon;

import dev.spillway.migrate.heat.Candidate;
import dev.spillway.migrate.heat.HeatBand;
import java.util.List;

/**
 * The heat of the pool as an operator reads it: how objects and bytes spread over heat bands,
 * and which resident objects the next spill pass would take first.
 *
 * @param bands the distribution, coldest band first
 * @param nextToSpill the coldest spill candidates, coldest first
 * @param spillableBytes bytes of resident objects that may be spilled
 * @param bytesAboveLowWatermark what a spill pass would move now (0 below the high watermark)
 */
public record HeatReport(
        List<HeatBand> bands, List<Candidate> nextToSpill, long spillableBytes, long bytesAboveLowWatermark) {}
