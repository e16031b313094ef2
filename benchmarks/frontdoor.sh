#!/usr/bin/env bash
# ACME front door benchmark: a device's certificate through the front door with lego, beside the device
# API, in one run against the same upstream CA.
#  1. Starts the local ACME lab (tests/acme-lab.sh: Pebble with PEBBLE_VA_NOSLEEP=1, pebble-challtestsrv
#     as its DNS) and the reference host as an operator runs it: HTTPS with a Kestrel certificate, the ACME
#     issuer in front of Pebble over DNS-01, the front door on, SQLite, the CA budget off (Pebble has none; with
#     Let's Encrypt's 50 per registered domain the burst would queue, which lego gives up on after 30 s).
#  2. Single certificates, one at a time, SINGLE pairs (default 10), alternating:
#     - the device API: POST /api/register with a CSR made on the device (openssl), timed by curl;
#     - lego through the front door (--eab with the device ID and secret), timed around the process;
#     - lego straight at Pebble (DNS-01 through challtestsrv, its exec provider), for lego's own cost.
#  3. AT_ONCE (default 100) devices' lego processes started together against the front door.
# The host logs every request's duration (ASP.NET Core's "Request finished"), so the server's time per
# front-door resource is reported beside the clients' wall times.
# Bounded: every lego process has a 120 s timeout; the script fails on any certificate not issued.
# Usage: benchmarks/frontdoor.sh [AT_ONCE] ; SINGLE=10 by default.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/sndctl-frontdoor.XXXXXX)"
log() { printf '[frontdoor.sh] %s\n' "$*" >&2; }
host_pid=""
# shellcheck source=tests/acme-lab.sh
source "$root/tests/acme-lab.sh"
cleanup() { [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null || true; acme_lab_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

at_once="${1:-100}"
single="${SINGLE:-10}"
ensure_packages lego python3 openssl curl
export PEBBLE_VA_NOSLEEP=1
acme_lab_start "$work/lab"

# The host's HTTPS certificate, from a throwaway CA the clients are told to trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench TLS CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$work/tls-ca.key" -out "$work/tls-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$work/tls.ext"
openssl x509 -req -in "$work/tls.csr" -CA "$work/tls-ca.pem" -CAkey "$work/tls-ca.key" -CAcreateserial -days 2 \
  -extfile "$work/tls.ext" -out "$work/tls.pem" 2>/dev/null

log "building the host"
dotnet build "$root/samples/Sndctl.Provisioning.Host" -c Release -nologo -v quiet >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="https://127.0.0.1:$port"
admin_key="bench-admin-key-0123456789abcdef0123456789abcdef"
(cd "$work" && exec env \
  Provisioning__DataDirectory="$work/data" Provisioning__BaseDomain=devices.example.test \
  Provisioning__Admin__ApiKeys__0="$admin_key" Provisioning__Issuer=Acme \
  Provisioning__Acme__DirectoryUrl="$SNDCTL_TEST_PEBBLE_DIRECTORY" Provisioning__Acme__AcceptTermsOfService=true \
  Provisioning__Acme__Email=ops@example.test Provisioning__Acme__TrustedRootFile="$SNDCTL_TEST_PEBBLE_TLS_ROOT" \
  Provisioning__Acme__PropagationNameservers__0="$SNDCTL_TEST_CHALLTESTSRV_DNS" \
  Provisioning__Dns__Provider=ChallTestSrv Provisioning__Dns__ChallTestSrv__ManagementUrl="$SNDCTL_TEST_CHALLTESTSRV" \
  Provisioning__AcmeServer__Enabled=true \
  Provisioning__Acme__RateLimits__CertificatesPerRegisteredDomain=0 Provisioning__Acme__RateLimits__NewOrdersPerAccount=0 \
  Kestrel__Certificates__Default__Path="$work/tls.pem" Kestrel__Certificates__Default__KeyPath="$work/tls.key" \
  Logging__Console__FormatterName=json Logging__Console__FormatterOptions__TimestampFormat=yyyy-MM-ddTHH:mm:ss.ffffffzzz \
  Logging__Console__FormatterOptions__UseUtcTimestamp=true Logging__LogLevel__Default=Warning \
  Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=Information \
  dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$base" >"$work/host.log" 2>&1) &
host_pid=$!
for _ in $(seq 1 150); do curl -fs --cacert "$work/tls-ca.pem" "$base/api/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs --cacert "$work/tls-ca.pem" "$base/api/health/ready" >/dev/null || { tail -50 "$work/host.log" >&2; exit 1; }

total=$((2 + 2 * single + at_once))
curl -fs --cacert "$work/tls-ca.pem" -X POST "$base/api/admin/devices/batch" -H "Authorization: Bearer $admin_key" \
  -H 'Accept: text/csv' -H 'Content-Type: application/json' -d "{\"count\":$total}" -o "$work/devices.csv"
tail -n +2 "$work/devices.csv" | tr -d '\r' > "$work/devices"

# lego through the front door: $1 = device ID, $2 = secret, $3 = hostname; prints "start end".
cat > "$work/lego-front.sh" <<ONE
#!/bin/sh
start=\$(date +%s.%N)
LEGO_CA_CERTIFICATES="$work/tls-ca.pem" timeout 120 lego --server "$base/acme/directory" --accept-tos --email ops@example.test \
  --path "$work/lego/\$1" --domains "\$3" --eab --kid "\$1" --hmac "\$2" --http --http.port "127.0.0.1:\$((20000 + \$\$ % 20000))" run >"$work/lego/\$1.log" 2>&1 \
  || echo "FAIL \$1" >&2
end=\$(date +%s.%N)
echo "\$start \$end"
ONE
# lego straight at Pebble, DNS-01 through challtestsrv (as in benchmarks/fleet.sh).
cat > "$work/lego-dns.sh" <<HOOK
#!/bin/sh
case "\$1" in
  present) curl -fs -X POST "$SNDCTL_TEST_CHALLTESTSRV/set-txt" -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" ;;
  cleanup) curl -fs -X POST "$SNDCTL_TEST_CHALLTESTSRV/clear-txt" -d "{\"host\":\"\$2\"}" ;;
esac
HOOK
cat > "$work/lego-direct.sh" <<ONE
#!/bin/sh
start=\$(date +%s.%N)
LEGO_CA_CERTIFICATES="$SNDCTL_TEST_PEBBLE_TLS_ROOT" EXEC_PATH="$work/lego-dns.sh" EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 \
  timeout 120 lego --server "$SNDCTL_TEST_PEBBLE_DIRECTORY" --accept-tos --email ops@example.test --path "$work/lego-direct/\$1" \
  --dns exec --dns.disable-cp --dns.resolvers "$SNDCTL_TEST_CHALLTESTSRV_DNS" --domains "\$1.direct.example.test" run >"$work/lego-direct/\$1.log" 2>&1 \
  || echo "FAIL \$1" >&2
end=\$(date +%s.%N)
echo "\$start \$end"
ONE
chmod +x "$work/lego-front.sh" "$work/lego-dns.sh" "$work/lego-direct.sh"
mkdir -p "$work/lego" "$work/lego-direct" "$work/csr"

# Warm-up: the host's ACME account at Pebble, JIT, connections (one device through each door).
head -n 2 "$work/devices" > "$work/warm"
{ read -r id secret hostname; } < <(sed -n 1p "$work/warm" | tr ',' ' ')
curl -fs --cacert "$work/tls-ca.pem" -X POST "$base/api/register" -H "X-Device-Secret: $secret" -H 'Content-Type: application/json' \
  -d "{\"deviceId\":\"$id\"}" -o /dev/null
{ read -r id secret hostname; } < <(sed -n 2p "$work/warm" | tr ',' ' ')
"$work/lego-front.sh" "$id" "$secret" "$hostname" >/dev/null

log "single certificates: $single through each door, one at a time"
: > "$work/register-times"; : > "$work/front-times"; : > "$work/direct-times"; : > "$work/marks"
for i in $(seq 1 "$single"); do
  { read -r id secret hostname; } < <(sed -n "$((2 + 2 * i - 1))p" "$work/devices" | tr ',' ' ')
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$hostname" -addext "subjectAltName=DNS:$hostname" \
    -keyout "$work/csr/$id.key" -out "$work/csr/$id.csr" 2>/dev/null
  csr="$(awk '{printf "%s\\n", $0}' "$work/csr/$id.csr")"
  code="$(curl -s --cacert "$work/tls-ca.pem" -X POST "$base/api/register" -H "X-Device-Secret: $secret" -H 'Content-Type: application/json' \
    -d "{\"deviceId\":\"$id\",\"csr\":\"$csr\"}" -o "$work/csr/$id.json" -w '%{http_code} %{time_total}')"
  [ "${code%% *}" = 200 ] || { log "register $id: $code"; cat "$work/csr/$id.json" >&2; exit 1; }
  echo "${code#* }" >> "$work/register-times"
  { read -r id secret hostname; } < <(sed -n "$((2 + 2 * i))p" "$work/devices" | tr ',' ' ')
  echo "front $(date +%s.%N)" >> "$work/marks"
  "$work/lego-front.sh" "$id" "$secret" "$hostname" >> "$work/front-times"
  echo "end $(date +%s.%N)" >> "$work/marks"
  "$work/lego-direct.sh" "single$i" >> "$work/direct-times"
done

log "$at_once devices' lego processes at once through the front door"
tail -n +"$((2 * single + 3))" "$work/devices" | head -n "$at_once" | tr ',' ' ' \
  | xargs -P "$at_once" -n 3 "$work/lego-front.sh" > "$work/burst-times"

issued_front="$(find "$work/lego" -name '*.crt' ! -name '*.issuer.crt' | wc -l)"
issued_direct="$(find "$work/lego-direct" -name '*.crt' ! -name '*.issuer.crt' | wc -l)"
expected_front=$((1 + single + at_once))
[ "$issued_front" -eq "$expected_front" ] || { log "front door: $issued_front of $expected_front certificates"; exit 1; }
[ "$issued_direct" -eq "$single" ] || { log "lego at Pebble: $issued_direct of $single certificates"; exit 1; }

python3 - "$work" "$single" "$at_once" <<'PY'
import json, statistics, sys
work, single, at_once = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pairs(name):
    return [tuple(map(float, l.split())) for l in open(f"{work}/{name}") if l.strip()]
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, -(-p * len(values) // 100) - 1))]
register = [float(l) * 1000 for l in open(f"{work}/register-times") if l.strip()]
front = [(e - s) * 1000 for s, e in pairs("front-times")]
direct = [(e - s) * 1000 for s, e in pairs("direct-times")]
print("## One certificate at a time (same run, same Pebble)")
print()
print("| client | door | certificates | p50 | min | max |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
print(f"| curl (device-made key, CSR) | device API `POST /api/register` | {len(register)} | {statistics.median(register):.0f} ms | {min(register):.0f} ms | {max(register):.0f} ms |")
print(f"| lego 4.9.1 (process, new account, EAB) | ACME front door | {len(front)} | {statistics.median(front):.0f} ms | {min(front):.0f} ms | {max(front):.0f} ms |")
print(f"| lego 4.9.1 (process, new account) | Pebble directly, DNS-01 | {len(direct)} | {statistics.median(direct):.0f} ms | {min(direct):.0f} ms | {max(direct):.0f} ms |")

# The server's side: every request's duration from the host's log, in the single-certificate windows.
marks = [l.split() for l in open(f"{work}/marks") if l.strip()]
windows = [(float(marks[i][1]), float(marks[i + 1][1])) for i in range(0, len(marks), 2)]
from datetime import datetime
kinds, register_server, per_cert = {}, [], [0.0] * len(windows)
requests_per_cert = [0] * len(windows)
for line in open(f"{work}/host.log"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    state = entry.get("State", {})
    if "ElapsedMilliseconds" not in state or entry.get("EventId") != 2:
        continue
    path, ms = state.get("Path", ""), float(state["ElapsedMilliseconds"])
    if path == "/api/register":
        register_server.append(ms)
        continue
    if not path.startswith("/acme/"):
        continue
    stamp = entry.get("Timestamp")
    t = datetime.fromisoformat(stamp).timestamp() if stamp else None
    for i, (a, b) in enumerate(windows):
        if t is not None and a <= t <= b:
            parts = path.split("/")
            kind = parts[2] + ("/finalize" if path.endswith("/finalize") else "")
            kinds.setdefault(kind, []).append(ms)
            per_cert[i] += ms
            requests_per_cert[i] += 1
print()
if kinds:
    print("Server time per request (host log, the single lego runs through the front door):")
    print()
    print("| resource | requests | p50 | max |")
    print("| --- | ---: | ---: | ---: |")
    for kind, values in sorted(kinds.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"| `{kind}` | {len(values)} | {statistics.median(values):.1f} ms | {max(values):.1f} ms |")
    print()
    register_single = register_server[1:1 + single]   # the warm-up is the first
    print(f"Server time per certificate: device API register p50 {statistics.median(register_single):.1f} ms (1 request); "
          f"front door p50 {statistics.median(per_cert):.1f} ms over {statistics.median(requests_per_cert):.0f} requests.")
    print()
burst = pairs("burst-times")
lat = [(e - s) * 1000 for s, e in burst]
wall = max(e for _, e in burst) - min(s for s, _ in burst)
print(f"## {at_once} devices' lego processes at once through the front door")
print()
print("| devices | issued | certificates/s | p50 | p99 | max |")
print("| ---: | ---: | ---: | ---: | ---: | ---: |")
print(f"| {at_once} | {len(lat)} | {len(lat) / wall:.1f} | {pct(lat, 50):.0f} ms | {pct(lat, 99):.0f} ms | {max(lat):.0f} ms |")
PY
