#!/usr/bin/env bash
# `npm run bench:stores`: the SQLiteStore bench on the machine's Node (better-sqlite3: cost
# against raw statements, lock waits, find latency by table size), then every SQLite driver of
# the machine's Node and of Node 26 against its own raw statements, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/tsx bench/stores.bench.ts
echo
node_modules/.bin/tsx bench/drivers.bench.ts
echo
bash scripts/test-runtime.sh node26 --script bench/drivers.bench.ts
