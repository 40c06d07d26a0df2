#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL, Redis and a 6-node Redis Cluster on 127.0.0.1 for the
# test suite, with their data in a temp folder, on non-default ports so they never meet a
# developer's own servers.
#
#   source scripts/services.sh start   # starts them, exports SESSIONKIT_POSTGRES_URL, _REDIS_URL
#                                      # and _REDIS_CLUSTER_URL (the six nodes, comma-separated)
#   eval "$(bash scripts/services.sh)"  # the same from a plain shell (it prints export lines)
#   bash scripts/services.sh stop       # stops them all and removes their data
#   bash scripts/services.sh start postgres redis   # only those (postgres, redis, redis-cluster)
#
# Safe to source under `set -euo pipefail`: it never calls `exit` and changes no shell option.
# Starting twice reuses the running servers. Ports and folder can be overridden with
# SESSIONKIT_PG_PORT, SESSIONKIT_REDIS_PORT, SESSIONKIT_REDIS_CLUSTER_PORT (the first of six
# ports; each node's cluster bus is its port + 10000) and SESSIONKIT_SERVICES_DIR.
#
# The cluster is 3 masters with a replica each and a 1 s cluster-node-timeout, so a killed master's
# replica takes over in about 2 s. Each node's settings are in <dir>/cluster/<port>/redis.conf,
# so a test that kills a node by PID can start it again with `redis-server <that file>`.

_sessionkit_services() {
  local action=$1
  shift
  # Which servers `start` starts: those named after the action, or all three.
  local want_pg=1 want_redis=1 want_cluster=1
  if [ $# -gt 0 ]; then
    want_pg=0 want_redis=0 want_cluster=0
    local name
    for name in "$@"; do
      case "$name" in
        postgres) want_pg=1 ;;
        redis) want_redis=1 ;;
        redis-cluster) want_cluster=1 ;;
        *)
          echo "services.sh: unknown server '$name' (postgres, redis or redis-cluster)" >&2
          return 2
          ;;
      esac
    done
  fi
  local pg_port=${SESSIONKIT_PG_PORT:-54329}
  local redis_port=${SESSIONKIT_REDIS_PORT:-63799}
  local dir=${SESSIONKIT_SERVICES_DIR:-${TMPDIR:-/tmp}/sessionkit-services}
  local pg_url="postgres://postgres@127.0.0.1:${pg_port}/sessionkit"
  local redis_url="redis://127.0.0.1:${redis_port}"
  local cluster_port=${SESSIONKIT_REDIS_CLUSTER_PORT:-46380}
  local -a cluster_ports=()
  local n
  for n in 0 1 2 3 4 5; do cluster_ports+=($((cluster_port + n))); done
  local cluster_url='' p
  for p in "${cluster_ports[@]}"; do cluster_url+="${cluster_url:+,}redis://127.0.0.1:$p"; done

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
      if [ "$want_pg" = 1 ] && [ -z "$pg_bin" ]; then
        echo 'services.sh: PostgreSQL not found (apt-get install postgresql)' >&2
        return 1
      fi
      if [ "$want_redis$want_cluster" != 00 ] && ! command -v redis-server >/dev/null 2>&1; then
        echo 'services.sh: redis-server not found (apt-get install redis-server)' >&2
        return 1
      fi
      mkdir -p "$dir"
      chmod 755 "$dir"

      if [ "$want_pg" = 1 ] && ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
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

      if [ "$want_redis" = 1 ] && ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
        mkdir -p "$dir/redis"
        redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --dir "$dir/redis" \
          --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save '' \
          --appendonly no
      fi

      if [ "$want_cluster" = 1 ]; then
        _sessionkit_cluster_start "$dir/cluster" "${cluster_ports[@]}" || return 1
      fi

      local i
      for i in $(seq 1 150); do
        if { [ "$want_pg" = 0 ] || "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; } &&
          { [ "$want_redis" = 0 ] || redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; }; then
          break
        fi
        if [ "$i" = 150 ]; then
          echo 'services.sh: servers did not accept connections within 15 s' >&2
          return 1
        fi
        sleep 0.1
      done

      if [ "$want_pg" = 1 ]; then
        if [ "$("$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -tAc \
          "SELECT 1 FROM pg_database WHERE datname = 'sessionkit'")" != 1 ]; then
          "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres sessionkit
        fi
        export SESSIONKIT_POSTGRES_URL=$pg_url
        echo "export SESSIONKIT_POSTGRES_URL=$pg_url"
      fi
      if [ "$want_redis" = 1 ]; then
        export SESSIONKIT_REDIS_URL=$redis_url
        echo "export SESSIONKIT_REDIS_URL=$redis_url"
      fi
      if [ "$want_cluster" = 1 ]; then
        export SESSIONKIT_REDIS_CLUSTER_URL=$cluster_url
        echo "export SESSIONKIT_REDIS_CLUSTER_URL=$cluster_url"
      fi
      ;;
    stop)
      # Every server is told to stop first, then all are waited for (one at a time would add up).
      local pidfile pid
      local -a pids=()
      for pidfile in "$dir/redis/redis.pid" "$dir"/cluster/*/redis.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null && pids+=("$pid")
      done
      if [ -n "$pg_bin" ] && [ -f "$dir/pg/postmaster.pid" ]; then
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
      fi
      # Wait, so that a `start` right after this one does not find the dying servers.
      for _ in $(seq 1 100); do
        local running=0
        for pid in "${pids[@]}"; do
          if kill -0 "$pid" 2>/dev/null; then running=1; fi
        done
        [ "$running" = 1 ] || break
        sleep 0.1
      done
      rm -rf "$dir"
      ;;
    *)
      echo "usage: services.sh start [postgres] [redis] [redis-cluster] | stop" >&2
      return 2
      ;;
  esac
}

# Starts the six cluster nodes (each from its own redis.conf) and, the first time, joins them into
# 3 masters with one replica each; then waits until every node reports the cluster ok.
_sessionkit_cluster_start() {
  local root=$1
  shift
  local -a ports=("$@")
  local port fresh=0
  for port in "${ports[@]}"; do
    if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then continue; fi
    local node=$root/$port
    [ -f "$node/nodes.conf" ] || fresh=1
    mkdir -p "$node"
    cat >"$node/redis.conf" <<CONF
bind 127.0.0.1
port $port
daemonize yes
dir $node
pidfile $node/redis.pid
logfile $node/redis.log
save ""
appendonly no
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 1000
CONF
    redis-server "$node/redis.conf" || return 1
  done
  local i
  for port in "${ports[@]}"; do
    for i in $(seq 1 100); do
      redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  local state
  if [ "$fresh" = 1 ] || [ "$(redis-cli -h 127.0.0.1 -p "${ports[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" != 6 ]; then
    local -a hosts=()
    for port in "${ports[@]}"; do hosts+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes \
      >"$root/create.log" 2>&1 || {
      cat "$root/create.log" >&2
      return 1
    }
  fi
  # Every node must agree the cluster is ok, and each replica must be in sync with its master.
  for i in $(seq 1 200); do
    local ok=1
    for port in "${ports[@]}"; do
      state=$(redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p')
      [ "$state" = ok ] || ok=0
      if redis-cli -h 127.0.0.1 -p "$port" info replication 2>/dev/null | grep -q '^role:slave'; then
        redis-cli -h 127.0.0.1 -p "$port" info replication | grep -q '^master_link_status:up' || ok=0
      fi
    done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  echo 'services.sh: the Redis Cluster did not become ready within 20 s' >&2
  return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run directly: print the export lines (on stdout) for `eval` and keep going only on success.
  set -euo pipefail
  _sessionkit_services "${1:-start}" "${@:2}"
else
  _sessionkit_services "${1:-start}" "${@:2}"
fi
