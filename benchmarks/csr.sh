#!/usr/bin/env bash
# CSR service over HTTP on loopback: starts the reference host (Release, fresh data directory, random
# port, Provisioning:PrivateCa:PostsPerMinute=0 and NetworkPostsPerMinute=0 to lift the per-address and per-network limits for the benchmark),
# then drives POST /api/v1/csr (policy + signing + storing, automatic approval) and
# GET /api/v1/csr/{id} with wrk.
# Bounded: DURATION seconds per endpoint (default 10), CONNECTIONS connections (default 16), 2 threads.
# Usage: benchmarks/csr.sh [duration-seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
connections="${2:-16}"
. "$root/benchmarks/lib.sh"
ensure_wrk
start_host Provisioning__PrivateCa__PostsPerMinute=0 Provisioning__PrivateCa__NetworkPostsPerMinute=0

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
''')
PY
wrk_result_lua >> "$work/post.lua"
wrk_result_lua > "$work/get.lua"

read -r p_rps p_p99 p_err p_n < <(run_wrk /api/v1/csr "$work/post.lua")
read -r g_rps g_p99 g_err g_n < <(run_wrk "/api/v1/csr/$id" "$work/get.lua")

printf '\n| endpoint | requests/s | p99 (ms) | non-2xx | requests |\n|---|---:|---:|---:|---:|\n'
printf '| POST /api/v1/csr (sign + store) | %s | %s | %s | %s |\n' "$p_rps" "$p_p99" "$p_err" "$p_n"
printf '| GET /api/v1/csr/{id} | %s | %s | %s | %s |\n' "$g_rps" "$g_p99" "$g_err" "$g_n"
printf '\nwrk -t2 -c%s -d%ss, host Release on %s, SQLite, ECDSA P-256 CA; %s cores.\n' "$connections" "$duration" "$base" "$(nproc)"
