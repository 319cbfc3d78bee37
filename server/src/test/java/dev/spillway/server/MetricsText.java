package dev.spillway.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the Prometheus text format, as far as the tests need. */
final class MetricsText {
    private MetricsText() {}

    /** The value of the first sample of {@code name} (exact name, any labels). */
    static double value(String text, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$")
                .matcher(text);
        if (!m.find()) {
            throw new AssertionError("no sample of " + name + " in:\n" + text);
        }
        return Double.parseDouble(m.group(2));
    }

    /** The value of {@code name{labels}} (labels exactly as exported, e.g. {@code device="fast"}). */
    static double value(String text, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$")
                .matcher(text);
        if (!m.find()) {
            throw new AssertionError("no sample " + name + "{" + labels + "} in:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    /** Family name -> its HELP text, TYPE. */
    static Map<String, String[]> families(String text) {
        Map<String, String[]> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] p = line.substring(7).split(" ", 2);
                out.computeIfAbsent(p[0], k -> new String[2])[0] = p.length > 1 ? p[1] : "";
            } else if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ", 2);
                out.computeIfAbsent(p[0], k -> new String[2])[1] = p[1];
            }
        }
        return out;
    }

    /** Every sample name (before labels). */
    static Set<String> sampleNames(String text) {
        Set<String> out = new TreeSet<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                if (end < 0) {
                    end = line.indexOf(' ');
                }
                out.add(line.substring(0, end));
            }
        }
        return out;
    }
}
