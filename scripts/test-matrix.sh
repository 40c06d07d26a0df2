#!/usr/bin/env bash
# Runs the suites of the CI matrix on the runtimes other than the machine's Node (which
# `npm test` covers): the whole suite on Node 26; the core, SQLite and adapter suites on Node 24
# and 22; those plus the Postgres, Redis and Redis Cluster store contracts on Bun and Deno.
# Prints one line per runtime (tests passed, skipped, failed, seconds) and exits non-zero if any
# runtime failed.
#
#   bash scripts/test-matrix.sh              # every runtime
#   bash scripts/test-matrix.sh bun deno     # some of them
#
# Needs the servers of scripts/services.sh for the suites that use them, as `npm test` does;
# except Node 24, which runs with the SESSIONKIT_*_URL variables unset, so that its global setup
# starts throwaway servers of its own (for the Postgres and Redis suites of http-races and the
# express-session bridge) and stops them: the path a contributor's `npm test` takes.
set -euo pipefail
# The exclude lists below hold globs for Vitest; the shell must pass them on as they are.
set -f
cd "$(dirname "$0")/.."
if [ -z "${SESSIONKIT_NODE26:-}" ]; then eval "$(bash scripts/runtimes.sh)"; fi

# Not runtime-specific (type checks, the package's shape; the packed app is Node 26's own test),
# or Node-only by design (the benchmark's contenders, the demo behind `npm start` and Chromium,
# the `sessionkit` command, whose bin runs on node).
common=(--exclude 'test/browser/**' --exclude test/package/bench-smoke.test.ts
  --exclude test/package/readme.test.ts --exclude test/package/package.test.ts --exclude test/package/packed-app.test.ts
  --exclude test/cli/cli.test.ts)
# Remote stores under outage: the clients' reconnect logic, measured on the machine's Node and 26
# (test/stores/redis-cluster.test.ts defines its failovers and reshards on Node only).
remote_faults=(--exclude test/stores/store-faults.test.ts)
remote=(--exclude test/stores/postgres-store.test.ts --exclude test/stores/redis-store.test.ts
  --exclude test/stores/redis-cluster.test.ts)

declare -A args=(
  [node26]=''
  [node24]="${common[*]} ${remote_faults[*]} ${remote[*]}"
  [node22]="${common[*]} ${remote_faults[*]} ${remote[*]}"
  [bun]="${common[*]} ${remote_faults[*]}"
  [deno]="${common[*]} ${remote_faults[*]}"
)
# Runtimes whose run starts (and stops) its own servers instead of using the variables'.
declare -A own_servers=([node24]=1)
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(node26 node24 node22 bun deno)

mkdir -p test-results
failed=0
summary=()
for runtime in "${runtimes[@]}"; do
  echo "=== $runtime"
  started=$SECONDS
  out=test-results/matrix-$runtime.json
  unset_vars=()
  if [ -n "${own_servers[$runtime]:-}" ]; then
    unset_vars=(-u SESSIONKIT_POSTGRES_URL -u SESSIONKIT_REDIS_URL -u SESSIONKIT_REDIS_CLUSTER_URL)
  fi
  # shellcheck disable=SC2086 # the exclude lists are words on purpose (their globs are quoted)
  # The million-row prune is measured on the machine's Node; a tenth of it proves it here.
  if ! env "${unset_vars[@]}" SESSIONKIT_PRUNE_ROWS=100000 bash scripts/test-runtime.sh "$runtime" \
    ${args[$runtime]} --reporter=default --reporter=json --outputFile.json="$out"; then
    failed=1
  fi
  took=$((SECONDS - started))
  line=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    console.log(`${r.numPassedTests} passed, ${r.numPendingTests + r.numTodoTests} skipped, ${r.numFailedTests} failed`)
  ' "$out" 2>/dev/null || echo 'no report')
  summary+=("$runtime: $line in $took s")
done
echo '=== matrix'
printf '%s\n' "${summary[@]}"
exit $failed
