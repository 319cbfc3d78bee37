# shellcheck shell=bash
# Sourced by ./spillway, ./run-tests and .ci/run: sets JAVA_HOME to a JDK >= 21.
# Order: $JAVA_HOME if it is new enough, then the usual install folders (newest first),
# then the java on PATH. Fails with a message naming what it tried.

spillway_java_major() {
    # The major version of the JDK at $1, or 0.
    local home=$1 v="" line
    if [ -r "$home/release" ]; then
        # Read with bash alone: this runs at every start of ./spillway.
        while IFS= read -r line || [ -n "$line" ]; do
            case "$line" in JAVA_VERSION=\"*) v=${line#JAVA_VERSION=\"}; v=${v%%\"*}; break ;; esac
        done <"$home/release"
    fi
    if [ -z "$v" ] && [ -x "$home/bin/java" ]; then
        v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    fi
    v=${v#1.}
    v=${v%%[.+-]*}
    case "$v" in ''|*[!0-9]*) echo 0 ;; *) echo "$v" ;; esac
}

spillway_find_java() {
    local want=21 best="" best_major=0 cand major tried=""
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
        major=$(spillway_java_major "$JAVA_HOME")
        if [ "$major" -ge "$want" ]; then
            export JAVA_HOME
            return 0
        fi
        tried="$tried JAVA_HOME=$JAVA_HOME($major)"
    fi
    for cand in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /usr/local/lib/jvm/* \
                "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
        [ -x "$cand/bin/javac" ] || continue
        major=$(spillway_java_major "$cand")
        tried="$tried $cand($major)"
        if [ "$major" -ge "$want" ] && [ "$major" -gt "$best_major" ]; then
            best=$cand
            best_major=$major
        fi
    done
    if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
        cand=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
        major=$(spillway_java_major "$cand")
        tried="$tried PATH:$cand($major)"
        if [ "$major" -ge "$want" ]; then
            best=$cand
        fi
    fi
    if [ -z "$best" ]; then
        echo "spillway: no JDK >= $want found (tried:${tried:- nothing}). Install one (e.g. apt-get install openjdk-21-jdk-headless) or set JAVA_HOME." >&2
        return 1
    fi
    export JAVA_HOME=$best
}
