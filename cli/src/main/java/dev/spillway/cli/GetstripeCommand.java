package dev.spillway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spillway getstripe OBJ}: the object's layout, as {@code lfs getstripe -v}. */
@Command(
        name = "getstripe",
        mixinStandardHelpOptions = true,
        description =
                "Print an object's layout decoded from its trusted.lov xattr, in the YAML shape of lfs getstripe -v.")
final class GetstripeCommand implements Callable<Integer> {
    @Mixin
    Target target;

    @Parameters(index = "0", paramLabel = "OBJ", description = "A FID [0x…:0x…:0x…] or bucket/key.")
    String object;

    @Option(
            names = "--raw",
            description = "Write the layout xattr's bytes exactly as stored, for other tools to decode.")
    boolean raw;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        AdminClient c = target.client();
        if (raw) {
            byte[] b = c.raw("GET", "object/layout", AdminClient.params("id", object, "raw", "1"));
            System.out.write(b);
            System.out.flush();
            return ExitCodes.OK;
        }
        JsonNode l = c.call("GET", "object/layout", AdminClient.params("id", object));
        if (target.json) {
            spec.commandLine().getOut().println(AdminClient.pretty(l));
        } else {
            spec.commandLine().getOut().print(l.path("getstripe").asText());
        }
        return ExitCodes.OK;
    }
}
