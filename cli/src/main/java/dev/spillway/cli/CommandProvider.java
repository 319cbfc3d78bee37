package dev.spillway.cli;

import picocli.CommandLine;

/**
 * A subcommand contributed by a module above the CLI (the benchmarks, say), found through
 * {@link java.util.ServiceLoader} under {@code META-INF/services/dev.spillway.cli.CommandProvider},
 * so that the CLI never depends on the modules that extend it.
 */
public interface CommandProvider {
    /** The subcommand's name, as typed after {@code spillway}. */
    String name();

    /** A new picocli command object (annotated with {@code @Command}). */
    Object command();

    /**
     * Adjusts the subcommand once it is added (a parent's parser settings are copied onto its
     * subcommands when they are added, so a subcommand cannot carry its own in annotations).
     */
    default void configure(CommandLine added) {}
}
