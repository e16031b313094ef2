#!/usr/bin/env bash
# Load benchmark over loopback: starts the reference host (Release, fresh data directory, random
# port), makes one device, registers it once, then drives GET /api/health and the register fast
# path (the device already holds a valid certificate) with wrk, side by side.
# Bounded: DURATION seconds per endpoint (default 10), CONNECTIONS connections (default 32), 2 threads.
# Also prints the host's peak resident memory over the run (VmHWM from /proc).
# Usage: benchmarks/load.sh [duration-seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
connections="${2:-32}"
. "$root/benchmarks/lib.sh"
ensure_wrk
start_host

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
LUA
wrk_result_lua >> "$work/register.lua"
wrk_result_lua > "$work/get.lua"

read -r h_rps h_p99 h_err h_n < <(run_wrk /api/health "$work/get.lua")
read -r r_rps r_p99 r_err r_n < <(run_wrk /api/register "$work/register.lua")

printf '\n| endpoint | requests/s | p99 (ms) | non-2xx | requests |\n|---|---:|---:|---:|---:|\n'
printf '| GET /api/health | %s | %s | %s | %s |\n' "$h_rps" "$h_p99" "$h_err" "$h_n"
printf '| POST /api/register (fast path) | %s | %s | %s | %s |\n' "$r_rps" "$r_p99" "$r_err" "$r_n"
pid="$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $base" | head -n 1)"
printf '\nHost peak RSS (VmHWM): %s MiB; now (VmRSS): %s MiB = anonymous %s + files %s + shared (JIT double mapping) %s MiB; %s threads.\n' \
  "$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" "$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" \
  "$(awk '/^RssAnon/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" "$(awk '/^RssFile/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" \
  "$(awk '/^RssShmem/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")" "$(awk '/^Threads/ {print $2}' "/proc/$pid/status")"
printf '\nwrk -t2 -c%s -d%ss, host Release on %s, SQLite, private CA; %s cores.\n' "$connections" "$duration" "$base" "$(nproc)"
