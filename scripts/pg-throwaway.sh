#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and CI: initdb in a fresh directory, a server on
# 127.0.0.1:PORT (its socket in the directory too), trust authentication, no fsync (the data is
# thrown away, and fsync would only slow the tests down on a busy machine).
#
#   scripts/pg-throwaway.sh start DIR [PORT]   creates DIR, starts the server, prints its URL
#                                              (PORT: a free loopback port when omitted)
#   scripts/pg-throwaway.sh stop DIR           stops the server and removes DIR
#
# PostgreSQL refuses to run as root, so under root the server runs as the `postgres` user (the
# Debian package creates it) and DIR is handed to it. The binaries are Debian's
# (/usr/lib/postgresql/VERSION/bin, the newest VERSION), or PG_BIN if set.
#
# PG_THROWAWAY_OPTIONS, if set, is appended to the server's options and wins over the ones above
# (scripts/bench/ingest.ts passes "-c fsync=on -c synchronous_commit=on -c full_page_writes=on" to
# measure with a production server's durability).
#
# Example (what .ci/run does):
#   url=$(scripts/pg-throwaway.sh start /tmp/hwlat-pg)   # e.g. postgres://postgres@127.0.0.1:41234/postgres
#   HWLAT_TEST_PG=$url node scripts/run-tests.mjs store-postgres
#   scripts/pg-throwaway.sh stop /tmp/hwlat-pg
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

bin_dir() {
  if [ -n "${PG_BIN:-}" ]; then
    echo "$PG_BIN"
    return
  fi
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$newest" ] || [ ! -x "$newest/initdb" ]; then
    echo "$0: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BIN)" >&2
    exit 1
  fi
  echo "$newest"
}

# runs a server binary as the cluster's owner: postgres under root, the caller otherwise
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
  start)
    # node is there wherever hwlat is: it asks the kernel for a free port
    port=${3:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
    bin=$(bin_dir)
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
      echo "$0: $dir exists and is not empty; stop the cluster there first ($0 stop $dir)" >&2
      exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      if ! id postgres >/dev/null 2>&1; then
        echo "$0: running as root needs the 'postgres' user (apt-get install postgresql creates it)" >&2
        exit 1
      fi
      chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_THROWAWAY_OPTIONS:-}" \
      start >/dev/null; then
      echo "$0: the server did not start on 127.0.0.1:$port; its log:" >&2
      tail -n 20 "$dir/server.log" >&2 || true
      exit 1
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(bin_dir)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
