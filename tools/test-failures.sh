#!/usr/bin/env bash
# Prints "module: TestClass (N failed)" for every surefire report under $1 with failures or errors.
set -euo pipefail
root=${1:-.}
find "$root" -path '*/target/surefire-reports/TEST-*.xml' -print 2>/dev/null | sort | while read -r f; do
    head -c 4096 "$f" | tr '\n' ' ' | grep -o '<testsuite [^>]*>' | head -n 1 | {
        read -r suite || exit 0
        fails=$(printf '%s' "$suite" | sed -n 's/.* failures="\([0-9]*\)".*/\1/p')
        errs=$(printf '%s' "$suite" | sed -n 's/.* errors="\([0-9]*\)".*/\1/p')
        n=$(( ${fails:-0} + ${errs:-0} ))
        if [ "$n" -gt 0 ]; then
            module=${f#"$root"/}
            module=${module%%/target/*}
            cls=$(basename "$f" .xml)
            echo "$module: ${cls#TEST-} ($n failed)"
        fi
    }
done
