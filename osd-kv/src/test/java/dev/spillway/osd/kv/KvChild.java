package dev.spillway.osd.kv;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of the multi-process tests: {@code hold PATH} mounts a device and waits to be
 * killed; {@code crash PATH SEED THREADS} runs {@link CrashWorkload} until it is killed.
 */
public final class KvChild {
    private KvChild() {}

    /** Starts a child JVM with this test classpath; its stdout is the pipe to read. */
    static Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(KvChild.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "hold" -> {
                KvOsd osd = KvTestSupport.open(Path.of(args[1]));
                System.out.println("MOUNTED");
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE);
                osd.close();
            }
            case "crash" -> CrashWorkload.runChild(Path.of(args[1]), Long.decode(args[2]), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
