/**
 * What every fuzz target of the project shares (the targets themselves are Jazzer
 * {@code @FuzzTest}s in each module's test tree, next to the decoder they fuzz; see
 * {@code docs/fuzzing.md}): the seed corpus kept in the source tree and checked against the
 * generator that made it ({@link dev.spillway.osd.testkit.fuzz.SeedCorpus}), and the bound on
 * what one decode may allocate ({@link dev.spillway.osd.testkit.fuzz.AllocationBound}).
 */
package dev.spillway.osd.testkit.fuzz;
