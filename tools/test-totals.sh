#!/usr/bin/env bash
# Sums every surefire report under $1: prints "N passed, N failed, N skipped" and, one per line
# after it, "  skipped: module: TestClass (N)" for each class with skipped tests (their reasons are
# in the class's report and in the test output: every skip says why).
set -euo pipefail
root=${1:-.}
total=0 failed=0 skipped=0
skips=()
while read -r f; do
    suite=$(head -c 4096 "$f" | tr '\n' ' ' | grep -o '<testsuite [^>]*>' | head -n 1) || continue
    get() { printf '%s' "$suite" | sed -n "s/.* $1=\"\\([0-9]*\\)\".*/\\1/p"; }
    t=$(get tests); fl=$(get failures); e=$(get errors); s=$(get skipped)
    total=$((total + ${t:-0}))
    failed=$((failed + ${fl:-0} + ${e:-0}))
    skipped=$((skipped + ${s:-0}))
    if [ "${s:-0}" -gt 0 ]; then
        module=${f#"$root"/}
        module=${module%%/target/*}
        cls=$(basename "$f" .xml)
        skips+=("  skipped: $module: ${cls#TEST-} ($s)")
    fi
done < <(find "$root" -path '*/target/surefire-reports/TEST-*.xml' -print 2>/dev/null | sort)
echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
for s in "${skips[@]+"${skips[@]}"}"; do
    echo "$s"
done
