package dev.spillway.cli;

import dev.spillway.osd.OsdException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command finds the pool: the data folder (default) or an explicit admin endpoint. */
public final class Target {
    @Option(
            names = "--data",
            defaultValue = "${env:SPILLWAY_DATA:-./spillway-data}",
            description =
                    "The pool's data folder (default: ${DEFAULT-VALUE}); the running server records its address there.")
    Path data;

    @Option(names = "--endpoint", description = "The admin API's URL, e.g. http://127.0.0.1:9001 (instead of --data).")
    String endpoint;

    @Option(names = "--json", description = "Print JSON instead of text (structured, for scripts).")
    boolean json;

    AdminClient client() throws OsdException {
        return AdminClient.of(data, endpoint);
    }
}
