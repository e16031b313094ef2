#!/usr/bin/env bash
# CSR service over HTTP on loopback: starts the reference host (Release, fresh data directory, random
# port, Provisioning:PrivateCa:PostsPerMinute=0 to lift the per-address limit for the benchmark),
# then drives POST /api/v1/csr (policy + signing + storing, automatic approval) and
# GET /api/v1/csr/{id} with wrk.
# Bounded: DURATION seconds per endpoint (default 10), CONNECTIONS connections (default 16), 2 threads.
# Usage: benchmarks/csr.sh [duration-seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
connections="${2:-16}"
work="$(mktemp -d /tmp/sndctl-csr.XXXXXX)"
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
(cd "$work" && Logging__LogLevel__Default=Warning Provisioning__PrivateCa__PostsPerMinute=0 \
  dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$base" >"$work/host.log" 2>&1) &
host_pid=$!
for _ in $(seq 1 100); do curl -fs "$base/api/health" >/dev/null 2>&1 && break; sleep 0.2; done

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/server.key" -out "$work/server.csr" \
  -subj "/CN=192.168.1.10" -addext "subjectAltName=IP:192.168.1.10" 2>/dev/null
body="$(python3 -c 'import json,sys; print(json.dumps({"content": open(sys.argv[1]).read()}))' "$work/server.csr")"
id="$(curl -fs -X POST "$base/api/v1/csr" -H 'Content-Type: application/json' -d "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_id"])')"

python3 - "$work/post.lua" "$body" <<'PY'
import json, sys
body = sys.argv[2]
open(sys.argv[1], "w").write(f'''wrk.method = "POST"
wrk.body = {json.dumps(body)}
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %d %d\\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
''')
PY
cat > "$work/get.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA

run() { wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$2" "$base$1" | awk '/^RESULT/ {print $2, $3, $4, $5}'; }
read -r p_rps p_p99 p_err p_n < <(run /api/v1/csr "$work/post.lua")
read -r g_rps g_p99 g_err g_n < <(run "/api/v1/csr/$id" "$work/get.lua")

printf '\n| endpoint | requests/s | p99 (ms) | non-2xx | requests |\n|---|---:|---:|---:|---:|\n'
printf '| POST /api/v1/csr (sign + store) | %s | %s | %s | %s |\n' "$p_rps" "$p_p99" "$p_err" "$p_n"
printf '| GET /api/v1/csr/{id} | %s | %s | %s | %s |\n' "$g_rps" "$g_p99" "$g_err" "$g_n"
printf '\nwrk -t2 -c%s -d%ss, host Release on %s, SQLite, ECDSA P-256 CA; %s cores.\n' "$connections" "$duration" "$base" "$(nproc)"
