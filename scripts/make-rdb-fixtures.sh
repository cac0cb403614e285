#!/usr/bin/env bash
# Regenerates the small .rdb fixtures the restore tests read:
#   test/fixtures/rdb/redis-7.0.rdb   written by Debian's redis-server 7.0 (RDB 10, header REDIS0010)
#   test/fixtures/rdb/valkey-8.0.rdb  written by valkey-server 8.0 (RDB 11, header REDIS0011)
# Each server runs on 127.0.0.1 on a free port, in a temporary directory, with persistence off except
# for the explicit SAVE; both are stopped and the temporary directory removed on exit.
# The files are not byte-identical between runs (the engines store ctime and used-mem aux fields),
# but their headers, versions and keys are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/test/fixtures/rdb"
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# make_fixture <server> <cli> <output file name>
make_fixture() {
  local server=$1 cli=$2 name=$3
  local dir="$work/$server" port
  mkdir -p "$dir"
  port=$(free_port)
  "$server" --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save "" --appendonly no \
    --daemonize no --logfile "$dir/server.log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do
    "$cli" -h 127.0.0.1 -p "$port" PING >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$cli" -h 127.0.0.1 -p "$port" SET fixture:string "written by $server" >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" HSET fixture:hash field1 one field2 two >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" RPUSH fixture:list a b c >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" SADD fixture:set x y >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" ZADD fixture:zset 1 one 2 two >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" SAVE >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  wait "$pid" 2>/dev/null || true
  cp "$dir/dump.rdb" "$out/$name"
  echo "$name: $(head -c 9 "$out/$name") ($(wc -c <"$out/$name") bytes, $("$server" --version | awk '{print $3}'))"
}

make_fixture redis-server redis-cli redis-7.0.rdb
make_fixture valkey-server valkey-cli valkey-8.0.rdb
