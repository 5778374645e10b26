#!/usr/bin/env bash
# Starts a throw-away Redis on a loopback port for the redisstore tests.
#
#   source .ci/redis.sh        # in .ci/run or a shell: exports REDIS_URL and
#                              # EMPORIX_REQUIRE_REDIS=1 into the caller
#   eval "$(bash .ci/redis.sh)"  # the same, run as a program
#   bash .ci/redis.sh stop     # stops the Redis it started
#
# REDIS_PORT picks the port (default 6391). redis-server is installed with
# apt-get when it is missing. A Redis already answering on the port is
# reused, so sourcing twice is harmless. The server keeps nothing on disk.
#
# When sourced, it leaves the caller's shell options alone and fails by
# returning non-zero (so `set -e` in the caller stops there).

_emporix_redis_ping() {
  [ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
}

_emporix_redis() {
  local port="${REDIS_PORT:-6391}"
  local state="${TMPDIR:-/tmp}/emporix-redis-$port"
  local log="$state/redis.log"

  if [ "${1:-}" = "stop" ]; then
    if command -v redis-cli >/dev/null && _emporix_redis_ping "$port"; then
      redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
      echo "redis.sh: stopped Redis on 127.0.0.1:$port" >&2
    fi
    return 0
  fi

  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
      if ! command -v sudo >/dev/null; then
        echo "redis.sh: redis-server is missing and installing it needs root" >&2
        return 1
      fi
      sudo="sudo"
    fi
    echo "redis.sh: installing redis-server" >&2
    local aptlog
    aptlog="$(mktemp)"
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server; } >"$aptlog" 2>&1; then
      echo "redis.sh: installing redis-server failed:" >&2
      tail -n 20 "$aptlog" >&2
      rm -f "$aptlog"
      return 1
    fi
    rm -f "$aptlog"
  fi

  if _emporix_redis_ping "$port"; then
    echo "redis.sh: reusing the Redis already on 127.0.0.1:$port" >&2
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "redis.sh: 127.0.0.1:$port is taken by something that is not Redis; set REDIS_PORT" >&2
    return 1
  else
    mkdir -p "$state" || return 1
    if ! redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --dir "$state" --pidfile "$state/redis.pid" --logfile "$log"; then
      echo "redis.sh: redis-server did not start" >&2
      return 1
    fi
    local deadline=$((SECONDS + 10))
    until _emporix_redis_ping "$port"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "redis.sh: Redis on 127.0.0.1:$port did not answer PONG within 10 s" >&2
        tail -n 20 "$log" >&2 2>/dev/null || true
        return 1
      fi
      sleep 0.1
    done
    echo "redis.sh: Redis $(redis-server --version | awk '{sub("v=", "", $3); print $3}') on 127.0.0.1:$port" >&2
  fi

  export REDIS_URL="redis://127.0.0.1:$port/0"
  export EMPORIX_REQUIRE_REDIS=1
  return 0
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: export into the caller.
  _emporix_redis "$@"
  _emporix_redis_status=$?
  unset -f _emporix_redis _emporix_redis_ping
  return "$_emporix_redis_status"
fi

# Run as a program: print the exports for eval.
_emporix_redis "$@" || exit 1
if [ "${1:-}" != "stop" ]; then
  echo "export REDIS_URL=$REDIS_URL EMPORIX_REQUIRE_REDIS=1"
fi
