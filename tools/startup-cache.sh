# shellcheck shell=bash
# Sourced by ./spillway: the JVM's start-up cache for the jars in $LIB. See docs/startup.md.
#
# Needs JAVA_HOME, ROOT, LIB, CP (the class path) and JAVA_ARGS (the JVM options every start
# uses); `spillway_startup_cache ROLE` sets CACHE_ARGS to the JVM options that use the cache of
# ROLE (serve: the server; cli: every other command), or to nothing.
#
# JDK >= 25: the AOT cache (JEP 483/514/515: classes loaded and linked, method profiles), made by
# a training JVM run with -XX:AOTCacheOutput. JDK 21-24: an AppCDS dynamic archive
# (-XX:ArchiveClassesAtExit) from the same training run. One cache per role, because the JVM
# loads every class of an AOT cache as it starts: a cache holding the server's classes makes
# `spillway version` slower, not faster. The caches sit in dist/target/startup-cache/ beside the
# jars, keyed by the JDK, the jars (names, sizes, times), the JVM options and this file's format:
# any change makes new ones on the next start. If one cannot be made (its training run failed),
# each start of that role says so in one stderr line and runs without it; the next change of the
# jars or the JDK tries again. SPILLWAY_AOT=off never uses or makes one (aot or cds choose).
# The training runs in the background: a start that finds no cache for its jars starts it and
# goes on without one (one stderr line), so no start waits for it; SPILLWAY_AOT_WAIT=1 trains in
# the foreground instead (tests, benchmarks).

SPILLWAY_CACHE_FORMAT=2

# The kind of start a command is: serve (the server), long (commands that run long enough for
# the JIT to matter: bench, fsck, which may scan a whole pool offline), print (version and help:
# they load a few hundred classes, fewer than a cache would map and load at start, so they run
# without one: measured faster without in every bench startup run) or cli (every other command:
# one admin call, over in a second).
spillway_start_role() {
    case "${1:-}" in
        serve) echo serve ;;
        bench|fsck) echo long ;;
        ''|version|help|-h|--help|-V|--version) echo print ;;
        *) echo cli ;;
    esac
}

# The JVM options of a role, beside JAVA_ARGS. A cli start runs a few hundred milliseconds of
# code once: C1 alone (no C2 compiler threads, whose compilations never pay back in one short
# run) and the serial collector (no G1 worker threads and regions to set up) cut its CPU time by
# about a third. serve and long starts keep the JVM's compilers and collector: their speed is the
# data path's. serve tells Jetty how many references fill a cache line (64-byte lines, 4-byte
# compressed references): left to find out, Jetty starts the platform MBean server to ask the JVM
# whether references are compressed, 0.3-0.5 s of CPU of every serve start (docs/startup.md).
spillway_role_jvm_args() {
    case "$1" in
        cli|print) echo "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" ;;
        serve) echo "-Dorg.eclipse.jetty.util.referencesPerCacheLine=16" ;;
        *) echo "" ;;
    esac
}

spillway_cache_mode() {
    case "${SPILLWAY_AOT:-auto}" in
        off|no|false|0) echo off ;;
        aot) echo aot ;;
        cds) echo cds ;;
        *)
            if [ "$(spillway_java_major "$JAVA_HOME")" -ge 25 ]; then echo aot; else echo cds; fi ;;
    esac
}

# A digest of everything a cache depends on. The JVM checks the jars' sizes and times itself
# too, but silently runs without a cache that no longer matches; this key makes a new one.
spillway_cache_key() {
    {
        echo "format $SPILLWAY_CACHE_FORMAT $1"
        echo "java $JAVA_HOME"
        [ -r "$JAVA_HOME/release" ] && echo "$(<"$JAVA_HOME/release")"
        echo "args ${JAVA_ARGS[*]}"
        echo "cp $CP"
        # In directory order (not sorted: one program fewer per start); a new order only makes a new cache.
        find "$LIB" -maxdepth 1 -name '*.jar' -printf '%f %s %T@\n'
    } | cksum | { read -r sum _ && echo "$sum"; }
}

# The contents of a small file, or nothing (without running cat: this runs at every start).
spillway_read() {
    [ -r "$1" ] && echo "$(<"$1")"
    return 0
}

# Makes a cache by a training run (under a lock: one launcher trains while the others wait).
spillway_cache_build() {
    local role=$1 mode=$2 key=$3 dir=$4 file=$5
    (
        if [ "${SPILLWAY_CACHE_LOCKED:-0}" != 1 ]; then
            exec 8>"$dir/.lock"
            flock 8
        fi
        [ "$(spillway_read "$file.key")" = "$key" ] && [ -s "$file" ] && exit 0
        [ "$(spillway_read "$file.failed")" = "$key" ] && exit 0
        echo "spillway: making the $role start-up cache for these jars (once per build; a minute or so)..." >&2
        local tmp="$file.tmp.$$" scratch out
        rm -f "$file".*tmp.* "$file.key"
        scratch=$(mktemp -d "$dir/training.XXXXXX")
        if [ "$mode" = aot ]; then
            out=(-XX:AOTCacheOutput="$tmp")
        else
            out=(-XX:ArchiveClassesAtExit="$tmp")
        fi
        if timeout 600 "$JAVA_HOME/bin/java" "${JAVA_ARGS[@]}" "${out[@]}" -cp "$CP" \
                dev.spillway.bench.startup.StartupTraining "$role" "$scratch/run" >"$file.training.log" 2>&1 \
                && [ -s "$tmp" ]; then
            sync "$tmp" 2>/dev/null || true
            mv -f "$tmp" "$file"
            echo "$key" >"$file.key.tmp.$$"
            mv -f "$file.key.tmp.$$" "$file.key"
            rm -f "$file.failed"
        else
            rm -f "$tmp"
            echo "$key" >"$file.failed"
        fi
        rm -rf "$scratch"
    )
}

spillway_startup_cache() {
    local role=$1 mode key dir file
    mode=$(spillway_cache_mode)
    [ "$mode" = off ] && return 0
    dir="$ROOT/dist/target/startup-cache"
    file="$dir/spillway-$role.$mode"
    [ -d "$dir" ] || mkdir -p "$dir" 2>/dev/null || return 0
    key=$(spillway_cache_key "$role $mode")
    if [ "$(spillway_read "$file.key")" != "$key" ] || [ ! -s "$file" ]; then
        if [ "$(spillway_read "$file.failed")" != "$key" ]; then
            if [ "${SPILLWAY_AOT_WAIT:-0}" = 1 ]; then
                spillway_cache_build "$role" "$mode" "$key" "$dir" "$file" || true
            else
                # No start waits for a training run (minutes on a busy 2-core machine): it runs
                # detached, under the cache's lock, and this start goes on without a cache.
                # The lock is taken here and handed to the background run (an inherited open file
                # keeps it), so whoever sees it free starts the one training run.
                exec 7>"$dir/.lock"
                if flock -n 7; then
                    echo "spillway: making the $role start-up cache in the background for the next starts (this one runs without it; log: $file.training.log)" >&2
                    (
                        trap '' HUP
                        SPILLWAY_CACHE_LOCKED=1 spillway_cache_build "$role" "$mode" "$key" "$dir" "$file" 2>/dev/null || true
                    ) </dev/null >/dev/null 2>&1 &
                    disown 2>/dev/null || true
                fi
                exec 7>&-
                return 0
            fi
        fi
        if [ "$(spillway_read "$file.key")" != "$key" ] || [ ! -s "$file" ]; then
            echo "spillway: starting without the start-up cache (its training run failed: see $file.training.log; SPILLWAY_AOT=off starts without it quietly)" >&2
            return 0
        fi
    fi
    # The JVM's own messages about a cache it cannot map (several lines each) are silenced: it then
    # starts without the cache, which is what the launcher would do anyway.
    if [ "$mode" = aot ]; then
        CACHE_ARGS=(-XX:AOTCache="$file" -Xlog:aot=off -Xlog:cds=off)
    else
        CACHE_ARGS=(-XX:SharedArchiveFile="$file" -Xlog:cds=off)
    fi
}
