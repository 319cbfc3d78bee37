package dev.spillway.bench;

import java.util.List;

/**
 * One benchmark, reachable as {@code ./spillway bench NAME}, registered under
 * {@code META-INF/services/dev.spillway.bench.Benchmark}. Per shared/BENCHMARKS.md it measures
 * Spillway and a baseline in the same run, alternating them, and reports ratios oriented so that
 * higher is better; it never hides a missed goal.
 */
public interface Benchmark {
    /** The name typed after {@code spillway bench}. */
    String name();

    /** One line: what is measured against what, and the goal. */
    String description();

    /** Runs at the size the goal names, or smaller with {@link BenchOptions#quick()}. */
    List<BenchResult> run(BenchOptions options) throws Exception;
}
