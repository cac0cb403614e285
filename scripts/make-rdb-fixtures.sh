#!/usr/bin/env bash
# Makes the .rdb fixtures the tests read, with the real engines:
#   redis-7.0.rdb / valkey-8.0.rdb                  five small keys (the restore and header tests read these)
#   redis-7.0-all-types.rdb / valkey-8.0-all-types.rdb
#       every type and encoding the engine writes: int, raw and LZF strings (small and large), lists (listpack
#       quicklist nodes, LZF-compressed nodes, plain nodes for big elements), sets (intset 16/64-bit, listpack,
#       hashtable), sorted sets (listpack, skiplist), hashes (listpack, hashtable), streams (several nodes, deleted
#       entries, consumer groups, PEL, consumers), a FUNCTION library, expire times in the second and millisecond
#       ranges, LFU (redis) / LRU (valkey) metadata, several databases
# and, beside each dump, <name>.keyspace: the server's `INFO keyspace` taken just before SAVE (the test oracle).
#
# Usage: make-rdb-fixtures.sh [output directory [engines]]
#   output directory: default test/fixtures/rdb (then the five-key dumps are remade too)
#   engines: "redis valkey" (default), or one of them
# The real-engine tests run it into a temporary directory to compare fresh dumps with the servers' own counts.
# Each server runs on 127.0.0.1 on a free port, in a temporary directory, with persistence off except for the
# explicit SAVE; both are stopped and the temporary directory removed on exit. Values come from a seeded generator,
# so the files differ between runs only in the ctime / used-mem aux fields and the expire times (relative TTLs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-"$root/test/fixtures/rdb"}
engines=${2:-redis valkey}
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

# The commands that fill the all-types dumps, one per line in redis-cli syntax. Seeded: the same every run.
all_types_commands() {
  python3 - <<'PY'
import base64, random
r = random.Random(8)
def rnd(n): return base64.b64encode(bytes(r.getrandbits(8) for _ in range(n))).decode()
out = []
c = out.append
c("SELECT 0")
c("SET str:small hello")
c("SET str:int8 7")
c("SET str:int16 -1234")
c("SET str:int32 123456789")
c("SET str:bigint 123456789012345")
c("SET str:lzf " + "abcdefgh" * 40)
c("SET str:lzf-big " + "0123456789" * 20000)
c("SET str:random " + rnd(3000))
c("RPUSH list:small a b c 1 2 300")
c("RPUSH list:big " + " ".join("item-%d" % i for i in range(3000)))
c("RPUSH list:plain small " + "p" * 1500 + " " + rnd(1200) + " tail")
c("SADD set:int16 1 2 3 -5 1000")
c("SADD set:int64 1 5000000000 -6000000000")
c("SADD set:small a b c d")
c("SADD set:big " + " ".join("member-%d" % i for i in range(300)))
c("ZADD zset:small 1 a 2.5 b -3 c")
c("ZADD zset:big " + " ".join("%d.25 zm-%d" % (i, i) for i in range(200)))
c("HSET hash:small f1 v1 f2 2 f3 v3")
c("HSET hash:big " + " ".join("field-%d value-%d" % (i, i) for i in range(300)))
c("HSET hash:bigvalue f1 short f2 " + "v" * 100)
for i in range(300):
    c("XADD stream:big %d-1 temp %d humidity %d" % (1000 + i, i, 100 - i))
c("XADD stream:big 2000-1 other-field x")
c("XDEL stream:big 1005-1 1006-1")
c("XGROUP CREATE stream:big g1 0")
c("XREADGROUP GROUP g1 alice COUNT 10 STREAMS stream:big >")
c("XREADGROUP GROUP g1 bob COUNT 5 STREAMS stream:big >")
c("XACK stream:big g1 1000-1 1001-1")
c("XGROUP CREATE stream:big g2 $")
c("XGROUP CREATECONSUMER stream:big g2 carol")
c("XADD stream:small * a 1")
c("SET ttl:seconds v EX 3600")
c("SET ttl:millis v PX 600000")
c("RPUSH ttl:list a b")
c("EXPIRE ttl:list 86400")
c("HSET ttl:far f v")
c("PEXPIREAT ttl:far 4102444800000")
c("SELECT 1")
c("SET db1:a 1")
c("SET db1:b two EX 7200")
c("SADD db1:set x y")
c("SELECT 3")
c("SET db3:a " + "z" * 30)
c("ZADD db3:zset 1 one")
c("SELECT 0")
c("FUNCTION LOAD \"#!lua name=fixturelib\\nredis.register_function('fixture_fn', function(keys, args) return 1 end)\"")
print("\n".join(out))
PY
}

# start_server <server> <cli> <dir> [extra args...]: starts the server, waits for PING; sets $port.
port=""
start_server() {
  local server=$1 cli=$2 dir=$3
  shift 3
  mkdir -p "$dir"
  port=$(free_port)
  "$server" --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save "" --appendonly no \
    --daemonize no --logfile "$dir/server.log" "$@" >/dev/null 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    "$cli" -h 127.0.0.1 -p "$port" PING >/dev/null 2>&1 && break
    sleep 0.1
  done
}

# save_and_stop <server> <cli> <dir> <port> <output name>: SAVE, record INFO keyspace, copy the dump, stop.
save_and_stop() {
  local server=$1 cli=$2 dir=$3 name=$5
  "$cli" -h 127.0.0.1 -p "$port" INFO keyspace | tr -d '\r' | grep '^db' >"$out/${name%.rdb}.keyspace" || true
  "$cli" -h 127.0.0.1 -p "$port" SAVE >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
  wait "${pids[-1]}" 2>/dev/null || true
  cp "$dir/dump.rdb" "$out/$name"
  echo "$name: $(head -c 9 "$out/$name") ($(wc -c <"$out/$name") bytes, $("$server" --version | awk '{print $3}'))"
}

# make_small_fixture <server> <cli> <output file name>
make_small_fixture() {
  local server=$1 cli=$2 name=$3
  local dir="$work/small-$server"
  start_server "$server" "$cli" "$dir"
  "$cli" -h 127.0.0.1 -p "$port" SET fixture:string "written by $server" >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" HSET fixture:hash field1 one field2 two >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" RPUSH fixture:list a b c >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" SADD fixture:set x y >/dev/null
  "$cli" -h 127.0.0.1 -p "$port" ZADD fixture:zset 1 one 2 two >/dev/null
  save_and_stop "$server" "$cli" "$dir" "$port" "$name"
}

# make_all_types_fixture <server> <cli> <output file name> <maxmemory policy>
make_all_types_fixture() {
  local server=$1 cli=$2 name=$3 policy=$4
  local dir="$work/all-$server"
  # list-compress-depth 1: inner quicklist nodes are stored LZF-compressed; stream-node-max-entries 100: several
  # stream nodes; the LFU / LRU policy makes the engine write FREQ / IDLE opcodes.
  start_server "$server" "$cli" "$dir" --enable-debug-command yes --list-compress-depth 1 \
    --stream-node-max-entries 100 --maxmemory-policy "$policy"
  # Elements of 1000 bytes and more go into plain quicklist nodes (the default threshold is 1 GB).
  "$cli" -h 127.0.0.1 -p "$port" DEBUG QUICKLIST-PACKED-THRESHOLD 1000 >/dev/null
  all_types_commands | "$cli" -h 127.0.0.1 -p "$port" >"$dir/commands.log"
  if grep -q '^ERR\|^(error)' "$dir/commands.log"; then
    echo "a fixture command failed on $server:" >&2
    grep '^ERR\|^(error)' "$dir/commands.log" >&2
    exit 1
  fi
  save_and_stop "$server" "$cli" "$dir" "$port" "$name"
}

if [[ ${1:-} == "" ]]; then
  make_small_fixture redis-server redis-cli redis-7.0.rdb
  make_small_fixture valkey-server valkey-cli valkey-8.0.rdb
fi
if [[ " $engines " == *" redis "* ]]; then
  make_all_types_fixture redis-server redis-cli redis-7.0-all-types.rdb allkeys-lfu
fi
if [[ " $engines " == *" valkey "* ]]; then
  make_all_types_fixture valkey-server valkey-cli valkey-8.0-all-types.rdb allkeys-lru
fi
