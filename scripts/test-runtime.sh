#!/usr/bin/env bash
# Runs Vitest on one runtime of the CI matrix: node22, node24, node26, bun or deno, with the
# Vitest arguments given after it (files, --exclude, …). The runtimes come from
# scripts/runtimes.sh (run first; this script calls it when its variables are not set).
#
#   bash scripts/test-runtime.sh node26                    # the whole suite on Node 26
#   bash scripts/test-runtime.sh bun test/stores/sqlite-store.test.ts
#   bash scripts/test-runtime.sh node26 --script bench/drivers.bench.ts   # a script, not Vitest
#
# On Node 22 to 26, Bun and Deno the project's better-sqlite3 12 (built for the machine's Node)
# is swapped for the cached 13.x, a Node-API addon all of them load, for the run and put back
# afterwards, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

runtime=${1:?usage: test-runtime.sh node22|node24|node26|bun|deno [vitest args]}
shift
if [ -z "${SESSIONKIT_NODE26:-}" ]; then eval "$(bash scripts/runtimes.sh)"; fi

vitest=node_modules/vitest/vitest.mjs
swap_better_sqlite3() {
  local link=node_modules/better-sqlite3 kept=node_modules/.better-sqlite3-project
  [ -d "$kept" ] || mv "$link" "$kept"
  rm -rf "$link"
  # A copy, not a link: the tests that run as `nobody` cannot read root's cache folder.
  cp -a "$SESSIONKIT_BETTER_SQLITE3_13" "$link"
  trap 'rm -rf node_modules/better-sqlite3 && mv node_modules/.better-sqlite3-project node_modules/better-sqlite3' EXIT
}

case "$runtime" in
  node22 | node24 | node26)
    var=SESSIONKIT_${runtime^^}
    node=${!var}
    swap_better_sqlite3
    # Node 22 still calls node:sqlite experimental and says so once per process, hundreds of
    # times in a run; 24 and 26 do not.
    if [ "$runtime" = node22 ]; then export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=ExperimentalWarning"; fi
    # Children the tests fork (process.execPath) run on the same Node.
    if [ "${1:-}" = --script ]; then
      PATH="$(dirname "$node"):$PATH" "$node" --import tsx "${@:2}"
    else
      PATH="$(dirname "$node"):$PATH" "$node" "$vitest" run "$@"
    fi
    ;;
  bun)
    swap_better_sqlite3
    PATH="$(dirname "$SESSIONKIT_BUN"):$PATH" "$SESSIONKIT_BUN" --bun "$vitest" run "$@"
    ;;
  deno)
    swap_better_sqlite3
    # --sloppy-imports lets the fixtures the tests fork import the sources' `.js` names as `.ts`.
    "$SESSIONKIT_DENO" run -A --sloppy-imports "$vitest" run "$@"
    ;;
  *)
    echo "test-runtime.sh: unknown runtime '$runtime' (node22, node24, node26, bun or deno)" >&2
    exit 2
    ;;
esac
