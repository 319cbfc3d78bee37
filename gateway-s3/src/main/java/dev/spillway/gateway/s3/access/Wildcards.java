package dev.spillway.gateway.s3.access;

/** IAM's wildcards: {@code *} any run of characters (also none, also {@code /}), {@code ?} one character. */
final class Wildcards {
    private Wildcards() {}

    /** True if {@code text} matches {@code pattern} whole (case-sensitive; callers fold case where IAM does). */
    static boolean matches(String pattern, String text) {
        // Iterative glob match with one backtrack point: linear for patterns of one '*', and
        // never recursive, so a hostile policy cannot blow the stack.
        int p = 0;
        int t = 0;
        int star = -1;
        int mark = 0;
        while (t < text.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(t))) {
                p++;
                t++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = t;
            } else if (star >= 0) {
                p = star + 1;
                t = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
