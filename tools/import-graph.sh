#!/usr/bin/env bash
# The import graph of the pool's packages and of the migration daemon: for each package, the
# spillway packages its main sources import (same-package references need no import and are not
# listed), and the cycles among the pool's packages. Reads a git revision (default: the work tree).
#
#   tools/import-graph.sh            # the work tree
#   tools/import-graph.sh cd02721^   # before issue 14's PoolContext
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-}"

files() {
    if [ -z "$rev" ]; then
        find pool/src/main/java migrate/src/main/java/dev/spillway/migrate/daemon -name '*.java' | sort
    else
        git ls-tree -r --name-only "$rev" -- pool/src/main/java migrate/src/main/java/dev/spillway/migrate/daemon |
            grep '\.java$' | sort
    fi
}

content() {
    if [ -z "$rev" ]; then cat "$1"; else git show "$rev:$1"; fi
}

{
    for f in $(files); do
        pkg=$(content "$f" | sed -n 's/^package \([a-z0-9_.]*\);.*/\1/p' | head -1)
        # Explicit imports and inline fully-qualified names, reduced to their package.
        { content "$f" | grep -oE '(^import (static )?|[^a-zA-Z0-9_.])dev\.spillway(\.[a-z0-9_]+)+\.[A-Z]' || true; } |
            sed -E 's/^import (static )?//; s/^[^d]//; s/\.[A-Z]$//' |
            while read -r dep; do
                if [ "$dep" != "$pkg" ]; then echo "$pkg $dep"; fi
            done
    done
} | sort -u | awk '
    { a = $1; b = $2; sub(/^dev\.spillway\./, "", a); sub(/^dev\.spillway\./, "", b)
      if (a != last) { if (last != "") printf "\n"; printf "%-24s -> %s", a, b; last = a } else printf ", %s", b
      edge[a " " b] = 1 }
    END {
        printf "\n"
        # Two-package cycles inside the pool (ModuleGraphTest checks for cycles of any length).
        for (e in edge) { split(e, ab, " "); if (ab[1] < ab[2] && ((ab[2] " " ab[1]) in edge) && ab[1] ~ /^pool/ && ab[2] ~ /^pool/)
            printf "cycle: %s <-> %s\n", ab[1], ab[2] }
    }'
