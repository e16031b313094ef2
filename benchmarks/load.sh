#!/usr/bin/env bash
# Load benchmark over loopback: starts the reference host (Release, fresh data directory, random
# port), makes one device, registers it once, then drives GET /api/health and the register fast
# path (the device already holds a valid certificate) with wrk, side by side.
# Bounded: DURATION seconds per endpoint (default 10), CONNECTIONS connections (default 32), 2 threads.
# Usage: benchmarks/load.sh [duration-seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
connections="${2:-32}"
work="$(mktemp -d /tmp/sndctl-load.XXXXXX)"
host_pid=""
cleanup() { [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  [ "$(id -u)" -eq 0 ] && s="" || s="sudo"
  $s apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq wrk >/dev/null
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
dotnet build "$root/samples/Sndctl.Provisioning.Host" -c Release -nologo -v quiet >/dev/null
(cd "$work" && Logging__LogLevel__Default=Warning \
  dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$base" >"$work/host.log" 2>&1) &
host_pid=$!
for _ in $(seq 1 100); do curl -fs "$base/api/health" >/dev/null 2>&1 && break; sleep 0.2; done

key="$(cat "$work/data/admin-api-key")"
device="$(curl -fs -X POST "$base/api/admin/devices" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{}')"
id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["deviceId"])' "$device")"
secret="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$device")"
curl -fs -X POST "$base/api/register" -H "X-Device-Secret: $secret" -H 'Content-Type: application/json' -d "{\"deviceId\":\"$id\"}" >/dev/null

cat > "$work/register.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"deviceId":"$id"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Device-Secret"] = "$secret"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA
cat > "$work/get.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA

run() { wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$2" "$base$1" | awk '/^RESULT/ {print $2, $3, $4, $5}'; }
read -r h_rps h_p99 h_err h_n < <(run /api/health "$work/get.lua")
read -r r_rps r_p99 r_err r_n < <(run /api/register "$work/register.lua")

printf '\n| endpoint | requests/s | p99 (ms) | non-2xx | requests |\n|---|---:|---:|---:|---:|\n'
printf '| GET /api/health | %s | %s | %s | %s |\n' "$h_rps" "$h_p99" "$h_err" "$h_n"
printf '| POST /api/register (fast path) | %s | %s | %s | %s |\n' "$r_rps" "$r_p99" "$r_err" "$r_n"
printf '\nwrk -t2 -c%s -d%ss, host Release on %s, SQLite, private CA; %s cores.\n' "$connections" "$duration" "$base" "$(nproc)"
