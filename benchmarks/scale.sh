#!/usr/bin/env bash
# Scale benchmark (issue "a million devices"): the reference host on its embedded defaults (SQLite) with N devices
# (default 1,000,000) seeded through the batch API, then what an operator and the fleet feel:
#   - seeding time and the host's peak resident memory (VmHWM) while seeding;
#   - restart to ready with N devices;
#   - the admin views: page 1, a search, sorted by certificate expiry, page 100 sorted by last seen
#     (median of 5 calls each, curl's total time);
#   - POST /api/v1/addresses from 16 devices at a time for ADDRESS_SECONDS (default 20) seconds.
# Bounded: seeding in batches of 10,000; every request has a timeout. Prints a Markdown table.
# Not yet measured here (see docs/benchmarks.md): PostgreSQL, the embedded DNS server with N address records
# beside Knot (benchmarks/dns.sh measures it at smaller sizes).
# Usage: benchmarks/scale.sh [N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-1000000}"
work="$(mktemp -d /tmp/sndctl-scale.XXXXXX)"
host_pid=""
log() { printf '[scale.sh] %s\n' "$*" >&2; }
cleanup() { { [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"; } || true; }
trap cleanup EXIT
admin_key="scale-benchmark-admin-key-0123456789abcdef0123"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

start_host() {
  (cd "$work" && exec env Logging__LogLevel__Default=Warning Provisioning__Admin__ApiKeys__0="$admin_key" \
    Provisioning__DataDirectory="$work/data" Provisioning__Addresses__AllowPublic=false \
    dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$base" >>"$work/host.log" 2>&1) &
  host_pid=$!
  local start; start=$(date +%s.%N)
  for _ in $(seq 1 600); do curl -fs -m 2 "$base/api/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  # Not through $(...): the host's PID must stay in this shell, for the restart and for cleanup.
  ready_seconds=$(echo "$(date +%s.%N) - $start" | bc)
}

log "building"
dotnet build "$root/samples/Sndctl.Provisioning.Host" -c Release -nologo -v quiet >/dev/null
start_host

log "seeding $n devices (batches of 10,000)"
seed_start=$(date +%s.%N)
: > "$work/secrets"
remaining=$n
while [ "$remaining" -gt 0 ]; do
  count=$(( remaining < 10000 ? remaining : 10000 ))
  # Keep 2,000 devices' secrets for the address benchmark (the first batch).
  if [ ! -s "$work/secrets" ]; then
    curl -fs -m 300 -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
      -d "{\"count\":$count}" "$base/api/admin/devices/batch" \
      | python3 -c 'import json,sys; [print(d["deviceId"], d["secret"]) for d in json.load(sys.stdin)["devices"][:2000]]' > "$work/secrets"
  else
    curl -fs -m 300 -o /dev/null -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
      -d "{\"count\":$count}" "$base/api/admin/devices/batch"
  fi
  remaining=$(( remaining - count ))
done
seed_seconds=$(echo "$(date +%s.%N) - $seed_start" | bc)
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $base" | head -1)/status")

log "restarting with $n devices"
kill "$host_pid"; wait "$host_pid" 2>/dev/null || true
start_host

view() { # median of 5 total times, in ms
  for _ in 1 2 3 4 5; do curl -fs -m 60 -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin_key" "$base$1"; done \
    | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}'
}
search="$(head -1 "$work/secrets" | cut -c1-6)"
log "admin views"
page1=$(view "/api/admin/devices?pageSize=50")
searched=$(view "/api/admin/devices?pageSize=50&search=$search")
expiry=$(view "/api/admin/devices?pageSize=50&sort=expiry")
page100=$(view "/api/admin/devices?pageSize=50&page=100&sort=-lastSeen")

log "address updates, 16 devices at a time, ${ADDRESS_SECONDS:-20} s"
updates=$(python3 - "$base" "$work/secrets" "${ADDRESS_SECONDS:-20}" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
base, secrets, seconds = sys.argv[1], [l.split() for l in open(sys.argv[2])], float(sys.argv[3])
url = urllib.parse.urlparse(base)
done, failed, lock = [0], [0], threading.Lock()
deadline = time.time() + seconds
def worker(i):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    n = 0
    while time.time() < deadline:
        device, secret = secrets[(i * 125 + n) % len(secrets)]
        n += 1
        body = json.dumps({"deviceId": device, "addresses": [f"10.{i}.{n // 250 % 250}.{n % 250 + 1}"]})
        connection.request("POST", "/api/v1/addresses", body, {"Content-Type": "application/json", "X-Device-Secret": secret})
        response = connection.getresponse(); response.read()
        with lock:
            if response.status == 200: done[0] += 1
            else: failed[0] += 1
start = time.time()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
[t.start() for t in threads]; [t.join() for t in threads]
print(f"{done[0] / (time.time() - start):.0f} {failed[0]}")
PY
)

echo "| devices | seeding | peak RSS while seeding | restart to ready | page 1 | search | sort by expiry | page 100 by last seen | addresses/s (16 at a time) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '| %s | %.0f s | %d MiB | %.1f s | %s ms | %s ms | %s ms | %s ms | %s (%s not 200) |\n' \
  "$n" "$seed_seconds" "$(( peak_kib / 1024 ))" "$ready_seconds" "$page1" "$searched" "$expiry" "$page100" $updates
