#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL and Redis servers on 127.0.0.1 for the test suite, with
# their data in a temp folder, on non-default ports so they never meet a developer's own servers.
#
#   source scripts/services.sh start   # starts both, exports SESSIONKIT_POSTGRES_URL / _REDIS_URL
#   eval "$(bash scripts/services.sh)"  # the same from a plain shell (it prints export lines)
#   bash scripts/services.sh stop       # stops both and removes their data
#
# Safe to source under `set -euo pipefail`: it never calls `exit` and changes no shell option.
# Starting twice reuses the running servers. Ports and folder can be overridden with
# SESSIONKIT_PG_PORT, SESSIONKIT_REDIS_PORT and SESSIONKIT_SERVICES_DIR.

_sessionkit_services() {
  local action=$1
  local pg_port=${SESSIONKIT_PG_PORT:-54329}
  local redis_port=${SESSIONKIT_REDIS_PORT:-63799}
  local dir=${SESSIONKIT_SERVICES_DIR:-${TMPDIR:-/tmp}/sessionkit-services}
  local pg_url="postgres://postgres@127.0.0.1:${pg_port}/sessionkit"
  local redis_url="redis://127.0.0.1:${redis_port}"

  # Debian keeps the server binaries off PATH; elsewhere they usually are on it.
  local pg_bin='' candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/pg_ctl" ]; then pg_bin=$candidate; fi
  done
  if [ -z "$pg_bin" ] && command -v pg_ctl >/dev/null 2>&1; then
    pg_bin=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  fi

  # PostgreSQL refuses to run as root, so under root (CI) its commands run as `postgres`.
  local -a as_pg=()
  if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi

  case "$action" in
    start)
      if [ -z "$pg_bin" ]; then
        echo 'services.sh: PostgreSQL not found (apt-get install postgresql)' >&2
        return 1
      fi
      if ! command -v redis-server >/dev/null 2>&1; then
        echo 'services.sh: redis-server not found (apt-get install redis-server)' >&2
        return 1
      fi
      mkdir -p "$dir"
      chmod 755 "$dir"

      if ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
        if [ ! -f "$dir/pg/PG_VERSION" ]; then
          rm -rf "$dir/pg"
          mkdir -p "$dir/pg"
          if [ ${#as_pg[@]} -gt 0 ]; then chown postgres: "$dir/pg"; fi
          "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --no-sync \
            >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            return 1
          }
        fi
        # Throwaway data: durability settings off for speed; socket in the data dir, not /run.
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 15 \
          -o "-h 127.0.0.1 -p $pg_port -k $dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" \
          start >/dev/null || {
          cat "$dir/pg/server.log" >&2
          return 1
        }
      fi

      if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
        mkdir -p "$dir/redis"
        redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --dir "$dir/redis" \
          --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save '' \
          --appendonly no
      fi

      local i
      for i in $(seq 1 150); do
        if "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" &&
          redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
          break
        fi
        if [ "$i" = 150 ]; then
          echo 'services.sh: servers did not accept connections within 15 s' >&2
          return 1
        fi
        sleep 0.1
      done

      if [ "$("$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'sessionkit'")" != 1 ]; then
        "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sessionkit
      fi

      export SESSIONKIT_POSTGRES_URL=$pg_url
      export SESSIONKIT_REDIS_URL=$redis_url
      echo "export SESSIONKIT_POSTGRES_URL=$pg_url"
      echo "export SESSIONKIT_REDIS_URL=$redis_url"
      ;;
    stop)
      if [ -n "$pg_bin" ] && [ -f "$dir/pg/postmaster.pid" ]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
      fi
      if [ -f "$dir/redis/redis.pid" ]; then
        local pid
        pid=$(cat "$dir/redis/redis.pid")
        kill "$pid" 2>/dev/null || true
        # Wait, so that a `start` right after this one does not find the dying server.
        for _ in $(seq 1 50); do
          if ! kill -0 "$pid" 2>/dev/null; then break; fi
          sleep 0.1
        done
      fi
      rm -rf "$dir"
      ;;
    *)
      echo "usage: services.sh start|stop" >&2
      return 2
      ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run directly: print the export lines (on stdout) for `eval` and keep going only on success.
  set -euo pipefail
  _sessionkit_services "${1:-start}"
else
  _sessionkit_services "${1:-start}"
fi
