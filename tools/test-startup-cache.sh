#!/usr/bin/env bash
# Checks tools/startup-cache.sh (the launcher's start-up cache) with a stub JVM: which cache a
# start uses, that the jars, the JDK or the mode make a new one, that a failed training run is
# retried only when the jars change and costs each start exactly one stderr line, and that
# SPILLWAY_AOT=off uses none. No timing. Run by StartupCacheScriptTest (bench); exit 0 = pass.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A fake JDK: bin/java records each training run and writes the cache it is asked for, unless
# STUB_FAIL is set.
mkdir -p "$T/jdk/bin" "$T/root/dist/target/lib"
echo 'JAVA_VERSION="25.0.3"' >"$T/jdk/release"
cat >"$T/jdk/bin/java" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$STUB_LOG"
for a in "$@"; do
    case "$a" in
        -XX:AOTCacheOutput=*|-XX:ArchiveClassesAtExit=*)
            [ -n "${STUB_FAIL:-}" ] && { echo "training failed" >&2; exit 1; }
            echo cache >"${a#*=}" ;;
    esac
done
STUB
chmod +x "$T/jdk/bin/java"
echo a >"$T/root/dist/target/lib/a.jar"
echo b >"$T/root/dist/target/lib/b.jar"
export STUB_LOG="$T/stub.log"
# Checks 1-7 train in the foreground; check 8 the default, in the background.
export SPILLWAY_AOT_WAIT=1
: >"$STUB_LOG"
. "$HERE/find-java.sh"
. "$HERE/startup-cache.sh"

# One launcher start: sets CACHE_ARGS (printed), stderr to $T/err.
start() {
    (
        JAVA_HOME="$T/jdk" ROOT="$T/root" LIB="$T/root/dist/target/lib"
        JAVA_ARGS=(--enable-native-access=ALL-UNNAMED)
        CP=$(printf '%s:' "$LIB"/*.jar)
        CACHE_ARGS=()
        spillway_startup_cache "$1"
        echo "${CACHE_ARGS[*]}"
    ) 2>"$T/err"
}
trainings() { grep -c StartupTraining "$STUB_LOG" || true; }
C="$T/root/dist/target/startup-cache"

# 1. The first start trains and uses the cache; the next one only uses it.
out=$(start cli)
[ "$out" = "-XX:AOTCache=$C/spillway-cli.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "first start: '$out'"
[ "$(trainings)" = 1 ] || fail "first start: $(trainings) training runs"
grep -q "StartupTraining cli" "$STUB_LOG" || fail "the cli cache was not trained as cli"
out=$(start cli)
[ "$out" = "-XX:AOTCache=$C/spillway-cli.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "second start: '$out'"
[ "$(trainings)" = 1 ] || fail "the second start trained again"
[ ! -s "$T/err" ] || fail "a start with a good cache wrote to stderr: $(cat "$T/err")"

# 2. serve has its own cache.
out=$(start serve)
[ "$out" = "-XX:AOTCache=$C/spillway-serve.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "serve: '$out'"
[ "$(trainings)" = 2 ] || fail "serve: no training of its own"
grep -q "StartupTraining serve" "$STUB_LOG" || fail "the serve cache was not trained as serve"

# 3. A changed jar, a new jar, a new JDK each make a new cache.
echo a2 >"$T/root/dist/target/lib/a.jar"
start cli >/dev/null
[ "$(trainings)" = 3 ] || fail "a changed jar did not make a new cache"
echo c >"$T/root/dist/target/lib/c.jar"
out=$(start cli)
[ "$(trainings)" = 4 ] || fail "a new jar did not make a new cache"
echo 'JAVA_VERSION="25.0.4"' >"$T/jdk/release"
start cli >/dev/null
[ "$(trainings)" = 5 ] || fail "a new JDK did not make a new cache"

# 4. SPILLWAY_AOT=off: no cache, no training, not a word.
out=$(SPILLWAY_AOT=off start cli)
[ -z "$out" ] || fail "SPILLWAY_AOT=off still used '$out'"
[ "$(trainings)" = 5 ] || fail "SPILLWAY_AOT=off trained"
[ ! -s "$T/err" ] || fail "SPILLWAY_AOT=off wrote to stderr"

# 5. A failed training run: no cache, one stderr line per start, no retry until the jars change.
echo a3 >"$T/root/dist/target/lib/a.jar"
out=$(STUB_FAIL=1 start cli)
[ -z "$out" ] || fail "a failed training still gave '$out'"
[ "$(trainings)" = 6 ] || fail "the failing training did not run"
[ "$(grep -vc 'making the' "$T/err")" = 1 ] || fail "fallback: expected one line, got: $(cat "$T/err")"
grep -q "starting without the start-up cache" "$T/err" || fail "fallback line: $(cat "$T/err")"
[ ! -e "$C/spillway-cli.aot.key" ] || fail "a failed training left a key for a cache that is not there"
out=$(start cli)
[ -z "$out" ] || fail "after a failure, a start used '$out'"
[ "$(trainings)" = 6 ] || fail "a failed training was retried without any change"
[ "$(wc -l <"$T/err")" = 1 ] || fail "later start after a failure: expected one line, got: $(cat "$T/err")"
echo a4 >"$T/root/dist/target/lib/a.jar"
out=$(start cli)
[ "$(trainings)" = 7 ] || fail "new jars did not retry the training"
[ "$out" = "-XX:AOTCache=$C/spillway-cli.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "after the retry: '$out'"

# 6. A cache file gone missing (key still there) is made again.
rm -f "$C/spillway-cli.aot"
out=$(start cli)
[ "$(trainings)" = 8 ] || fail "a missing cache was not made again"
[ "$out" = "-XX:AOTCache=$C/spillway-cli.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "missing cache: '$out'"

# 7. AppCDS: asked for, or on a JDK older than 25.
out=$(SPILLWAY_AOT=cds start cli)
[ "$out" = "-XX:SharedArchiveFile=$C/spillway-cli.cds -Xlog:cds=off" ] || fail "cds: '$out'"
grep -q -- "-XX:ArchiveClassesAtExit=$C/spillway-cli.cds.tmp" "$STUB_LOG" || fail "cds was not trained with ArchiveClassesAtExit"
echo 'JAVA_VERSION="21.0.5"' >"$T/jdk/release"
out=$(start cli)
[ "$out" = "-XX:SharedArchiveFile=$C/spillway-cli.cds -Xlog:cds=off" ] || fail "JDK 21: '$out'"
[ -z "$(ls "$C" | grep tmp || true)" ] || fail "temporary files left: $(ls "$C")"

# 8. The default: the start that finds no cache does not wait for the training run; it starts it
# in the background, says so in one line and runs without a cache; a later start uses it.
echo 'JAVA_VERSION="25.0.5"' >"$T/jdk/release"
before=$(trainings)
out=$(SPILLWAY_AOT_WAIT=0 start cli)
[ -z "$out" ] || fail "background: the start that began the training used '$out'"
grep -q "in the background" "$T/err" || fail "background: no line said so: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "background: expected one line, got: $(cat "$T/err")"
# Wait for the background run: it holds the cache's lock until the cache is in place.
( exec 8>"$C/.lock"; flock 8 )
[ "$(trainings)" = $((before + 1)) ] || fail "background: $(( $(trainings) - before )) training runs"
out=$(SPILLWAY_AOT_WAIT=0 start cli)
[ "$out" = "-XX:AOTCache=$C/spillway-cli.aot -Xlog:aot=off -Xlog:cds=off" ] || fail "after the background run: '$out'"
[ ! -s "$T/err" ] || fail "after the background run, a start wrote: $(cat "$T/err")"

# 9. Each kind of start: serve (but for one Jetty property) and the long commands keep the JVM's defaults, every other command
# runs C1-only with the serial collector (and the launcher uses a cache for serve and cli only).
for c in serve:serve bench:long fsck:long version:print --help:print :print df:cli jobs:cli; do
    [ "$(spillway_start_role "${c%%:*}")" = "${c#*:}" ] || fail "role of '${c%%:*}': $(spillway_start_role "${c%%:*}")"
done
[ "$(spillway_role_jvm_args serve)" = "-Dorg.eclipse.jetty.util.referencesPerCacheLine=16" ] \
    || fail "serve: $(spillway_role_jvm_args serve)"
[ -z "$(spillway_role_jvm_args long)" ] || fail "long got JVM options: $(spillway_role_jvm_args long)"
[ "$(spillway_role_jvm_args cli)" = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" ] || fail "cli: $(spillway_role_jvm_args cli)"
[ "$(spillway_role_jvm_args print)" = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" ] || fail "print: $(spillway_role_jvm_args print)"

# 10. With the real JDK (when there is one >= 25): a start still runs, with nothing on stderr, when
# its cache is missing, corrupt (garbage under a valid key) or stale (made for other jars than the
# ones now there, under a valid key). The JVM refuses such a cache and starts without it.
REAL=${SPILLWAY_TEST_JAVA_HOME:-${JAVA_HOME:-}}
if [ -n "$REAL" ] && [ -x "$REAL/bin/javac" ] && [ "$(spillway_java_major "$REAL")" -ge 25 ]; then
    R="$T/real"
    mkdir -p "$R/src" "$R/root/dist/target/lib"
    hello() { # hello WORD: the jar's Main prints WORD
        printf 'public class Main { public static void main(String[] a) { System.out.println("%s"); } }\n' "$1" >"$R/src/Main.java"
        "$REAL/bin/javac" -d "$R/classes" "$R/src/Main.java"
        "$REAL/bin/jar" cf "$R/root/dist/target/lib/app.jar" -C "$R/classes" Main.class
    }
    real_start() { # real_start: runs Main through the cache the launcher picks; stdout, stderr in $T/err
        (
            JAVA_HOME="$REAL" ROOT="$R/root" LIB="$R/root/dist/target/lib"
            JAVA_ARGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
            CP=$(printf '%s:' "$LIB"/*.jar)
            CP=${CP%:}
            CACHE_ARGS=()
            SPILLWAY_AOT_WAIT=0 spillway_startup_cache cli 2>/dev/null
            "$REAL/bin/java" "${JAVA_ARGS[@]}" "${CACHE_ARGS[@]}" -cp "$CP" Main
        ) 2>"$T/err"
    }
    real_cache() { # the cache a training of the jar now there makes, under the launcher's key
        (
            JAVA_HOME="$REAL" LIB="$R/root/dist/target/lib"
            JAVA_ARGS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
            CP=$(printf '%s:' "$LIB"/*.jar)
            CP=${CP%:}
            C2="$R/root/dist/target/startup-cache"
            mkdir -p "$C2"
            "$REAL/bin/java" "${JAVA_ARGS[@]}" -XX:AOTCacheOutput="$C2/spillway-cli.aot" -cp "$CP" Main >/dev/null 2>&1
            spillway_cache_key "cli aot" >"$C2/spillway-cli.aot.key"
        )
    }
    RC="$R/root/dist/target/startup-cache"
    hello one
    # Missing: the start goes on without one (and starts a training run, which fails here: no
    # StartupTraining in this jar; it must not matter).
    [ "$(real_start)" = one ] || fail "real JVM, no cache: $(cat "$T/err")"
    ( exec 8>"$RC/.lock"; flock 8 )
    rm -rf "$RC"
    real_cache
    [ -s "$RC/spillway-cli.aot" ] || fail "the real JVM made no AOT cache"
    [ "$(real_start)" = one ] || fail "real JVM, good cache: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "real JVM, good cache, stderr: $(cat "$T/err")"
    # Corrupt: the same size of garbage, key unchanged.
    head -c "$(stat -c %s "$RC/spillway-cli.aot")" /dev/urandom >"$RC/spillway-cli.aot"
    [ "$(real_start)" = one ] || fail "real JVM, corrupt cache: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "real JVM, corrupt cache, stderr: $(cat "$T/err")"
    # Stale: made for the old jar, then the jar changes. JDK 25.0.3 runs the OLD classes from a
    # cache it is given after its jar changed (seen here: another size, another time, no word), so
    # the launcher's key (each jar's name, size and time) is what keeps a stale cache from a start.
    real_cache
    sleep 1 # a new modification time for the jar (this is not a timing verdict)
    hello two
    out=$(real_start)
    [ "$out" = two ] || fail "real JVM, stale cache: printed '$out', stderr: $(cat "$T/err")"
    [ ! -s "$T/err" ] || fail "real JVM, stale cache, stderr: $(cat "$T/err")"
    ( exec 8>"$RC/.lock"; flock 8 )
    # Truncated to nothing at all.
    : >"$RC/spillway-cli.aot"
    [ "$(real_start)" = two ] || fail "real JVM, empty cache: $(cat "$T/err")"
    ( exec 8>"$RC/.lock"; flock 8 )
    echo "startup-cache: real JVM checks passed ($REAL)"
else
    echo "startup-cache: real JVM checks skipped (no JDK >= 25 in SPILLWAY_TEST_JAVA_HOME or JAVA_HOME)"
fi
echo "startup-cache: all checks passed"
