#!/usr/bin/env bash
# Starts a throw-away Redis Cluster on loopback for the redisstore tests:
# three masters and one replica each, on six consecutive ports.
#
#   eval "$(bash .ci/redis-cluster.sh)"       # start; prints the export of
#                                             # REDIS_CLUSTER_ADDRS for eval
#   bash .ci/redis-cluster.sh stop            # stop it and remove its files
#
# REDIS_CLUSTER_PORT picks the first port (default 7001; it uses that port
# and the five after it). redis-server is installed with apt-get when it is
# missing. A cluster already answering on the first port is reused. Nothing
# is kept on disk except each node's nodes.conf, removed on stop.
set -euo pipefail

base="${REDIS_CLUSTER_PORT:-7001}"
ports=()
for i in 0 1 2 3 4 5; do ports+=("$((base + i))"); done
state="${TMPDIR:-/tmp}/emporix-redis-cluster-$base"

ping() { [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }
cluster_ok() {
  timeout 2 redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'
}
addrs() { local IFS=,; echo "${ports[*]/#/127.0.0.1:}"; }

if [ "${1:-}" = stop ]; then
  if command -v redis-cli >/dev/null; then
    for p in "${ports[@]}"; do
      if ping "$p"; then redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true; fi
    done
  fi
  rm -rf "$state"
  echo "redis-cluster.sh: stopped the cluster on 127.0.0.1:${ports[0]}-${ports[5]}" >&2
  exit 0
fi

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  echo "redis-cluster.sh: installing redis-server" >&2
  log="$(mktemp)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server; } >"$log" 2>&1; then
    echo "redis-cluster.sh: installing redis-server failed:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi

if ping "${ports[0]}" && cluster_ok "${ports[0]}"; then
  echo "redis-cluster.sh: reusing the cluster on 127.0.0.1:${ports[0]}" >&2
  echo "export REDIS_CLUSTER_ADDRS=$(addrs)"
  exit 0
fi

rm -rf "$state"
for p in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "redis-cluster.sh: 127.0.0.1:$p is taken; set REDIS_CLUSTER_PORT" >&2
    exit 1
  fi
  mkdir -p "$state/$p"
  # A short node timeout lets a failover test finish quickly.
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$state/$p/nodes.conf" --cluster-node-timeout 2000 \
    --save '' --appendonly no --daemonize yes --dir "$state/$p" \
    --pidfile "$state/$p/redis.pid" --logfile "$state/$p/redis.log"
done
deadline=$((SECONDS + 15))
for p in "${ports[@]}"; do
  until ping "$p"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "redis-cluster.sh: node 127.0.0.1:$p did not answer" >&2
      tail -n 20 "$state/$p/redis.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
done

# The first three ports become masters, each of the others a replica.
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 --cluster-yes >"$state/create.log" 2>&1 || {
  echo "redis-cluster.sh: redis-cli --cluster create failed:" >&2
  tail -n 30 "$state/create.log" >&2
  exit 1
}

# Ready: every node sees all slots served, and each master has its replica
# connected.
deadline=$((SECONDS + 30))
for p in "${ports[@]}"; do
  until cluster_ok "$p"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "redis-cluster.sh: the cluster did not reach cluster_state:ok on 127.0.0.1:$p" >&2
      exit 1
    fi
    sleep 0.2
  done
done
for p in "${ports[@]:0:3}"; do
  until [ "$(redis-cli -h 127.0.0.1 -p "$p" info replication | tr -d '\r' | awk -F: '$1 == "connected_slaves" { print $2 }')" = 1 ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "redis-cluster.sh: master 127.0.0.1:$p has no connected replica" >&2
      exit 1
    fi
    sleep 0.2
  done
done
echo "redis-cluster.sh: Redis Cluster $(redis-server --version | awk '{sub("v=", "", $3); print $3}') on 127.0.0.1:${ports[0]}-${ports[5]} (3 masters, 3 replicas)" >&2
echo "export REDIS_CLUSTER_ADDRS=$(addrs)"
