package dev.spillway.server;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Changes one device's {@code capacity:} in a pool YAML the way a person would: that line only,
 * comments and layout kept, written durably (temporary file, fsync, rename, fsync of the folder),
 * so that a capacity changed while the server runs is the one the next start reads.
 */
final class PoolYamlEdit {
    private static final Pattern NAME = Pattern.compile("^(\\s*)(-\\s+)?name:\\s*['\"]?([^'\"#\\s]+)['\"]?\\s*(#.*)?$");
    private static final Pattern CAPACITY = Pattern.compile("^(\\s*)capacity:\\s*([^#]*?)\\s*(#.*)?$");
    private static final Pattern SETTINGS = Pattern.compile("^(\\s*)settings:\\s*(#.*)?$");

    private PoolYamlEdit() {}

    /**
     * Sets device {@code device}'s capacity to {@code value} in {@code yaml}'s text.
     *
     * @return the new text, or null if the device's block or its {@code settings:} mapping was not
     *     found in the block form this edit understands (flow-style {@code {...}} settings, say)
     */
    static String withCapacity(String yaml, String device, String value) {
        List<String> lines = new ArrayList<>(List.of(yaml.split("\n", -1)));
        int start = -1;
        int indent = -1;
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = NAME.matcher(lines.get(i));
            if (m.matches() && m.group(2) != null && m.group(3).equals(device)) {
                start = i;
                indent = m.group(1).length();
                break;
            }
        }
        if (start < 0) {
            return null;
        }
        int settings = -1;
        for (int i = start + 1; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank() || l.strip().startsWith("#")) {
                continue;
            }
            int ind = l.length() - l.stripLeading().length();
            if (ind <= indent) {
                break; // the next device, or the next top-level key
            }
            Matcher c = CAPACITY.matcher(l);
            if (c.matches() && settings >= 0) {
                lines.set(i, c.group(1) + "capacity: " + value + (c.group(3) != null ? " " + c.group(3) : ""));
                return String.join("\n", lines);
            }
            if (SETTINGS.matcher(l).matches()) {
                settings = i;
            }
        }
        if (settings < 0) {
            return null;
        }
        Matcher s = SETTINGS.matcher(lines.get(settings));
        s.matches();
        lines.add(settings + 1, s.group(1) + "  capacity: " + value);
        return String.join("\n", lines);
    }
}
