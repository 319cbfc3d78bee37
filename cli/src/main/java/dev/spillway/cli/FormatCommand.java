package dev.spillway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.server.Credentials;
import dev.spillway.server.DataDir;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spillway format}: creates a pool (offline) without serving it. */
@Command(
        name = "format",
        mixinStandardHelpOptions = true,
        description =
                "Create a pool in --data (the default pool, or --config) and its credentials, without serving it. "
                        + "An existing pool is mounted and checked, never reformatted.")
final class FormatCommand implements Callable<Integer> {
    @Option(
            names = "--data",
            defaultValue = "${env:SPILLWAY_DATA:-./spillway-data}",
            description = "Data folder (default: ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--config", description = "A pool YAML instead of the default pool.")
    Path config;

    @picocli.CommandLine.Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DataDir dir = new DataDir(data);
        try (Offline o = Offline.open(dir, config, "format", true)) {
            boolean[] created = {false};
            Credentials.loadOrCreate(dir, created);
            if (json) {
                var n = new ObjectMapper().createObjectNode();
                n.put("pool", o.pool.name());
                n.put("data", dir.root().toString());
                n.put("devices", o.pool.devices().size());
                n.put("credentialsCreated", created[0]);
                n.put("recovery", String.valueOf(o.pool.recoveryReport()));
                spec.commandLine().getOut().println(AdminClient.pretty(n));
            } else {
                spec.commandLine()
                        .getOut()
                        .printf(
                                "pool '%s' ready in %s (%d devices; %s)%s%n",
                                o.pool.name(),
                                dir.root(),
                                o.pool.devices().size(),
                                o.pool.recoveryReport(),
                                created[0] ? "; credentials: `spillway credentials`" : "");
            }
        }
        return ExitCodes.OK;
    }
}
