#!/usr/bin/env bash
# Launch-day storm over loopback: the reference host (Release, fresh data directory, private CA) on
# SQLite or PostgreSQL; for each connection count, a fresh batch of devices that have never
# registered, and wrk drives POST /api/register so that every request is a first issuance (each
# request takes the next unused device); then the register fast path (a device that holds a valid
# certificate) in the same run. Prints requests/s, p50/p99, the host's CPU per request (utime+stime
# from /proc) and the ratio issuance/fast path.
# Bounded: DURATION seconds per measurement (default 5), at most 10,000 devices per level.
# Usage: benchmarks/storm.sh [sqlite|postgresql] [duration-seconds] [connection counts...]
#   e.g. benchmarks/storm.sh sqlite 5 1 4 16
# TRACE=FILE.nettrace also records a sampled thread-time trace of the host during the last issuance level
# (dotnet-trace; read it with `dotnet-trace report FILE.nettrace topN -n 30`); COUNTERS=FILE.csv the
# runtime's counters (dotnet-counters, every second) over the same level. PG_OPTIONS="-c name=value ..."
# are passed to the throw-away PostgreSQL server (e.g. -c synchronous_commit=off).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
database="${1:-sqlite}"
duration="${2:-5}"
shift $(( $# > 2 ? 2 : $# ))
levels=("$@")
[ "${#levels[@]}" -gt 0 ] || levels=(1 4 16)
. "$root/benchmarks/lib.sh"
ensure_wrk

host_env=()
if [ "$database" = "postgresql" ]; then
  # A throw-away cluster (fsync on: the figure is for a real server), as tests/run.sh starts one.
  as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  chmod 755 "$work"; mkdir -p "$work/pg"; [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
  as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg -c max_connections=200 ${PG_OPTIONS:-}" start >/dev/null
  stop_pg() { as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true; }
  trap 'stop_pg; cleanup' EXIT
  host_env=(Provisioning__Storage__Provider=PostgreSql "ConnectionStrings__Provisioning=Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres")
fi

start_host "${host_env[@]}"
key="$(cat "$work/data/admin-api-key")"
pid="$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $base" | head -n 1)"
ticks="$(getconf CLK_TCK)"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# storm_lua DEVICES THREADS: every request takes the next device of DEVICES (threads interleave), never one twice.
storm_lua() {
  cat <<LUA
local devices = {}
for line in io.lines("$1") do
  local id, secret = line:match("^([^,]+),([^,]+),")
  if id and id ~= "deviceId" then devices[#devices + 1] = { id, secret } end
end
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) next_index = tid + 1 end
function request()
  local d = devices[next_index]
  if d == nil then d = devices[#devices]; exhausted = true end
  next_index = next_index + $2
  return wrk.format("POST", "/api/register", { ["Content-Type"] = "application/json", ["X-Device-Secret"] = d[2] }, '{"deviceId":"' .. d[1] .. '"}')
end
LUA
  cat <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA
}

threads_for() { [ "$1" -ge 2 ] && echo 2 || echo 1; }

measure() { # measure CONNECTIONS SCRIPT -> "rps p50 p99 non2xx requests cpu_ms_per_request"
  local before after
  before="$(cpu_ticks)"
  read -r rps p50 p99 err n < <(wrk -t"$(threads_for "$1")" -c"$1" -d"${duration}s" --latency -s "$2" "$base/api/register" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}')
  after="$(cpu_ticks)"
  echo "$rps $p50 $p99 $err $n $(awk -v t=$((after - before)) -v n="$n" -v hz="$ticks" 'BEGIN { printf "%.2f", n ? t * 1000 / hz / n : 0 }')"
}

rows=()
for c in "${levels[@]}"; do
  count=10000
  curl -fs -X POST "$base/api/admin/devices/batch" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -H 'Accept: text/csv' -d "{\"count\":$count}" > "$work/devices-$c.csv"
  storm_lua "$work/devices-$c.csv" "$(threads_for "$c")" > "$work/storm-$c.lua"
  if [ -n "${TRACE:-}" ] && [ "$c" = "${levels[-1]}" ]; then
    command -v dotnet-trace >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
    command -v dotnet-trace >/dev/null || dotnet tool install -g dotnet-trace >/dev/null
    dotnet-trace collect -p "$pid" --profile dotnet-sampled-thread-time -o "$TRACE" --duration "00:00:00:0$duration" >/dev/null 2>&1 &
    trace_pid=$!
    sleep 1
  fi
  if [ -n "${COUNTERS:-}" ] && [ "$c" = "${levels[-1]}" ]; then
    command -v dotnet-counters >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
    command -v dotnet-counters >/dev/null || dotnet tool install -g dotnet-counters >/dev/null
    dotnet-counters collect -p "$pid" --counters System.Runtime,Microsoft.EntityFrameworkCore --refresh-interval 1 --format csv -o "$COUNTERS" --duration "00:00:00:$(printf %02d "$duration")" >/dev/null 2>&1 &
    counters_pid=$!
    sleep 1
  fi
  read -r rps p50 p99 err n cpu < <(measure "$c" "$work/storm-$c.lua")
  [ "$n" -le "$count" ] || echo "warning: $n requests for $count devices at $c connections: the last ones were fast-path calls" >&2
  rows+=("$c $rps $p50 $p99 $err $n $cpu")
done
[ -z "${trace_pid:-}" ] || wait "$trace_pid" || true
[ -z "${counters_pid:-}" ] || wait "$counters_pid" || true

# The fast path: a device that already holds a valid certificate, 16 connections.
device="$(curl -fs -X POST "$base/api/admin/devices" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{}')"
id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["deviceId"])' "$device")"
secret="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$device")"
curl -fs -X POST "$base/api/register" -H "X-Device-Secret: $secret" -H 'Content-Type: application/json' -d "{\"deviceId\":\"$id\"}" >/dev/null
cat > "$work/fast.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"deviceId":"$id"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Device-Secret"] = "$secret"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA
read -r f_rps f_p50 f_p99 f_err f_n f_cpu < <(measure 16 "$work/fast.lua")

printf '\n| %s | connections | requests/s | p50 (ms) | p99 (ms) | non-2xx | requests | host CPU per request (ms) | issuance / fast path |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n' "$database"
for row in "${rows[@]}"; do
  read -r c rps p50 p99 err n cpu <<<"$row"
  printf '| first issuance | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$rps" "$p50" "$p99" "$err" "$n" "$cpu" "$(awk -v a="$rps" -v b="$f_rps" 'BEGIN { printf "%.2f", a / b }')"
done
printf '| fast path | 16 | %s | %s | %s | %s | %s | %s | 1 |\n' "$f_rps" "$f_p50" "$f_p99" "$f_err" "$f_n" "$f_cpu"
printf '\nwrk -t2 (-t1 at one connection) -d%ss; host Release on %s, %s, private CA; %s cores.\n' "$duration" "$base" "$database" "$(nproc)"
