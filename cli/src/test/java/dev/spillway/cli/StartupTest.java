package dev.spillway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** What the start-up shortcuts must not change: command names, help, logging. */
class StartupTest {
    @Test
    void everyBuiltInIsRegisteredUnderItsOwnCommandName() {
        for (String name : SpillwayCommand.BUILT_IN) {
            Command c = SpillwayCommand.newBuiltIn(name).getClass().getAnnotation(Command.class);
            assertThat(c).as(name).isNotNull();
            assertThat(c.name()).isEqualTo(name);
        }
        assertThat(SpillwayCommand.newBuiltIn("no-such-command")).isNull();
    }

    @Test
    void aNamedCommandGetsATreeOfThatCommandOnlyAndEverythingElseTheWholeTree() {
        CommandLine one = SpillwayCommand.commandLine("version", "--json");
        assertThat(one.getSubcommands().keySet()).containsExactly("version");
        CommandLine all = SpillwayCommand.commandLine("--help");
        assertThat(all.getSubcommands().keySet())
                .containsAll(SpillwayCommand.BUILT_IN)
                .contains("help");
        assertThat(SpillwayCommand.commandLine().getSubcommands().keySet())
                .isEqualTo(all.getSubcommands().keySet());
        assertThat(SpillwayCommand.commandLine("no-such-command")
                        .getSubcommands()
                        .keySet())
                .isEqualTo(all.getSubcommands().keySet());
    }

    @Test
    void loggingIsConfiguredInCodeOnStderrAtWarnByDefault() {
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getAppender("STDERR")).isInstanceOf(ConsoleAppender.class);
        assertThat(((ConsoleAppender<?>) root.getAppender("STDERR")).getTarget())
                .isEqualTo("System.err");
        assertThat(root.getLevel()).isEqualTo(LogConfigurator.level(System.getenv("SPILLWAY_LOG_LEVEL")));
    }

    @Test
    void logLevelComesFromItsNameInAnyCaseAndFallsBackToWarn() {
        assertThat(LogConfigurator.level(null)).isEqualTo(Level.WARN);
        assertThat(LogConfigurator.level("")).isEqualTo(Level.WARN);
        assertThat(LogConfigurator.level("debug")).isEqualTo(Level.DEBUG);
        assertThat(LogConfigurator.level(" INFO ")).isEqualTo(Level.INFO);
        assertThat(LogConfigurator.level("loud")).isEqualTo(Level.WARN);
    }
}
