package dev.spillway.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One metric of a benchmark, printed as the JSON line of shared/BENCHMARKS.md:
 * {@code {"benchmark", "metric", "value", "baseline", "ratio", "unit", "goal", "params"}}.
 * {@code ratio} is oriented so that higher is better; {@code goal} restates the target, e.g.
 * {@code ">= 0.90"}; {@code met} says whether the ratio reached it.
 */
public record BenchResult(
        String benchmark,
        String metric,
        double value,
        double baseline,
        double ratio,
        String unit,
        String goal,
        Map<String, Object> params) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A metric where more is better (throughput): ratio = value / baseline. */
    public static BenchResult higherIsBetter(
            String benchmark,
            String metric,
            double value,
            double baseline,
            String unit,
            String goal,
            Map<String, Object> params) {
        return new BenchResult(benchmark, metric, value, baseline, value / baseline, unit, goal, params);
    }

    /** A metric where less is better (latency, time): ratio = baseline / value. */
    public static BenchResult lowerIsBetter(
            String benchmark,
            String metric,
            double value,
            double baseline,
            String unit,
            String goal,
            Map<String, Object> params) {
        return new BenchResult(benchmark, metric, value, baseline, baseline / value, unit, goal, params);
    }

    /**
     * The goal of a line that only reports a figure (no goal of its own; another line carries
     * the goal): its JSON says {@code "met": null} and its text "no goal", never MET or MISSED.
     */
    public static final String NO_GOAL = "none";

    /** Whether this line has a goal to meet (its goal is not {@link #NO_GOAL}...). */
    public boolean hasGoal() {
        return !goal.trim().startsWith(NO_GOAL);
    }

    /** True if the ratio satisfies the goal ({@code ">= X"}, {@code "> X"}, {@code "<= X"}, {@code "< X"}). */
    public boolean met() {
        String g = goal.trim();
        String[] parts = g.split("\\s+", 2);
        if (parts.length != 2) {
            return false;
        }
        double x = Double.parseDouble(parts[1]);
        return switch (parts[0]) {
            case ">=" -> ratio >= x;
            case ">" -> ratio > x;
            case "<=" -> ratio <= x;
            case "<" -> ratio < x;
            default -> false;
        };
    }

    /** The JSON line. */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", benchmark);
        m.put("metric", metric);
        m.put("value", round(value));
        m.put("baseline", round(baseline));
        m.put("ratio", round(ratio));
        m.put("unit", unit);
        m.put("goal", goal);
        m.put("met", hasGoal() ? met() : null);
        m.put("params", params);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double round(double d) {
        return Math.round(d * 1000.0) / 1000.0;
    }

    /** One human line. */
    public String toText() {
        return String.format(
                "%-14s %-28s %12.3f vs baseline %12.3f %-8s ratio %.3f (goal %s) %s",
                benchmark,
                metric,
                value,
                baseline,
                unit,
                ratio,
                goal,
                !hasGoal() ? "(no goal)" : met() ? "MET" : "MISSED");
    }
}
