#!/usr/bin/env bash
# Scale benchmark (issue "a million devices"): the reference host with N devices (default 1,000,000), each with
# an address record in the embedded DNS server, then what an operator, the fleet and resolvers feel:
#   - seeding N devices through the batch API (10,000 per call): time and the host's peak RSS (VmHWM);
#   - N address records and a fleet in use: half the devices seen lately and holding a certificate (written into
#     the database while the host is stopped: LastSeenAt, and a certificate row, 90 days, renewal 30 days before
#     its end, with a placeholder PEM, as the device's current one);
#   - restart to ready (ready = the zone is loaded and answered);
#   - the admin views: page 1, a search, sorted by certificate expiry, page 100 sorted by last seen, the
#     statistics (median of 5 calls each, curl's total time), and the statistics computed afresh (a device created
#     before each of 5 calls: the instance's kept figures are then gone);
#   - POST /api/v1/addresses from 16 connections (wrk, 2,000 devices, every request a new address) for
#     ADDRESS_SECONDS (default 20);
#   - the DNS server beside Knot DNS serving the same zone file: dnsperf -c 8 for DNS_SECONDS (default 20) with
#     the same query file (A of 100,000 device names, a tenth AAAA, a tenth NXDOMAIN), SERVFAIL counted, and
#     each server's resident memory; before that, dig asks both for 200 sampled names and types and the answers
#     must agree.
# STORAGE=postgresql runs the same on PostgreSQL (SNDCTL_TEST_POSTGRES: a connection string of a server where a
# fresh database may be created; the DNS part is the same code and is measured on SQLite), with a second instance
# on the same database during the address updates: its CPU while it takes in the first one's changes, and how long
# one more change on the first takes to be answered by the second.
# Bounded: seeding in batches; every request has a timeout; every load has a duration. Prints Markdown tables.
# Usage: [STORAGE=sqlite|postgresql] benchmarks/scale.sh [N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-1000000}"
storage="${STORAGE:-sqlite}"
zone="devices.example.test"
work="$(mktemp -d /tmp/sndctl-scale.XXXXXX)"
host_pid="" knot_pid="" second_pid=""
log() { printf '[scale.sh] %s\n' "$*" >&2; }
cleanup() {
  { [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null; [ -n "$knot_pid" ] && kill "$knot_pid" 2>/dev/null; [ -n "$second_pid" ] && kill "$second_pid" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"; } || true
}
trap cleanup EXIT
admin_key="scale-benchmark-admin-key-0123456789abcdef0123"
free_port() {
  python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}
port="$(free_port)"; dns_port="$(free_port)"; knot_port="$(free_port)"
base="http://127.0.0.1:$port"
second_port="$(free_port)"; second_dns_port="$(free_port)"

for tool in wrk dnsperf knotd dig; do
  command -v "$tool" >/dev/null && continue
  [ "$(id -u)" -eq 0 ] && s="" || s="sudo"
  $s apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq --no-install-recommends wrk dnsperf knot bind9-dnsutils >/dev/null
done

storage_env=()
if [ "$storage" = postgresql ]; then
  [ -n "${SNDCTL_TEST_POSTGRES:-}" ] || { echo "STORAGE=postgresql needs SNDCTL_TEST_POSTGRES (a connection string)" >&2; exit 2; }
  database="sndctl_scale_$$"
  psql_url="$(python3 - "$SNDCTL_TEST_POSTGRES" <<'PY'
import sys
parts = dict(p.split("=", 1) for p in sys.argv[1].split(";") if p)
get = lambda k, d="": next((v for key, v in parts.items() if key.lower() == k), d)
print(f"postgresql://{get('username', 'postgres')}{':' + get('password') if get('password') else ''}@{get('host', '127.0.0.1')}:{get('port', '5432')}")
PY
)"
  psql "$psql_url/postgres" -qc "CREATE DATABASE $database" >/dev/null
  trap 'psql "$psql_url/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1; cleanup' EXIT
  storage_env=(Provisioning__Storage__Provider=PostgreSql "ConnectionStrings__Provisioning=${SNDCTL_TEST_POSTGRES%;};Database=$database")
  storage_env[1]="$(python3 -c 'import sys; print(";".join(p for p in sys.argv[1].split(";") if p and not p.lower().startswith("database=")))' "${storage_env[1]}");Database=$database"
fi

start_host() { # [PORT DNS_PORT LOG]: another instance on the same database and data directory
  local url="http://127.0.0.1:${1:-$port}"
  (cd "$work" && exec env Logging__LogLevel__Default=Warning Logging__LogLevel__Sndctl.Provisioning.Core.Internal.JobRunner=Debug \
    Provisioning__Admin__ApiKeys__0="$admin_key" \
    Provisioning__DataDirectory="$work/data" Provisioning__BaseDomain="$zone" Provisioning__Addresses__AllowPublic=false \
    Provisioning__Addresses__ChangesPerHour=10000 Provisioning__Dns__Provider=Authoritative \
    Provisioning__Dns__Authoritative__Endpoints__0="127.0.0.1:${2:-$dns_port}" \
    Provisioning__Dns__Authoritative__Nameservers__0__Name="ns1.$zone" \
    Provisioning__Dns__Authoritative__Nameservers__0__Addresses__0=127.0.0.1 \
    Provisioning__Dns__Authoritative__ResponsesPerSecond=0 \
    "${storage_env[@]}" \
    dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$url" >>"$work/${3:-host.log}" 2>&1) &
  if [ -n "${1:-}" ]; then second_pid=$!; else host_pid=$!; fi
  local start; start=$(date +%s.%N)
  for _ in $(seq 1 3000); do curl -fs -m 2 "$url/api/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  if [ -n "${1:-}" ]; then second_dotnet_pid="$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $url" | head -1)"; return; fi
  # Not through $(...): the host's PID must stay in this shell, for the restart and for cleanup.
  ready_seconds=$(echo "$(date +%s.%N) - $start" | bc)
  dotnet_pid="$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $base" | head -1)"
}
stop_host() { kill "$host_pid"; wait "$host_pid" 2>/dev/null || true; host_pid=""; }
sql() { # runs SQL on the host's database
  if [ "$storage" = postgresql ]; then psql "$psql_url/$database" -qAt -v ON_ERROR_STOP=1 -c "$1"; else sqlite3 "$work/data/provisioning.db" "$1"; fi
}

log "building"
dotnet build "$root/samples/Sndctl.Provisioning.Host" -c Release -nologo -v quiet >/dev/null
start_host

log "seeding $n devices (batches of 10,000) on $storage"
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
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$dotnet_pid/status")
stop_host

log "writing $n address records, and last-seen times and certificate ends for half the fleet"
sql "SELECT \"DeviceId\" FROM \"ProvisioningDevices\" ORDER BY \"DeviceId\"" > "$work/ids"
python3 - "$work" "$zone" <<'PY'
import datetime, sys, uuid
work, zone = sys.argv[1], sys.argv[2]
ids = [l.strip() for l in open(f"{work}/ids") if l.strip()]
fmt = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")
with open(f"{work}/records.csv", "w") as records, open(f"{work}/devices.csv", "w") as devices, open(f"{work}/certificates.csv", "w") as certificates, open(f"{work}/{zone}.zone", "w") as z:
    z.write(f"$ORIGIN {zone}.\n$TTL 60\n@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 604800 60\n@ IN NS ns1.{zone}.\nns1 IN A 127.0.0.1\n")
    for i, d in enumerate(ids):
        v4 = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        records.write(f"{d}.{zone},A,{v4},2026-12-07 00:00:00\n"); z.write(f"{d} 60 IN A {v4}\n")
        addresses = v4
        if i % 10 == 0:
            v6 = f"fd00::{i >> 16:x}:{i & 0xffff:x}"
            records.write(f"{d}.{zone},AAAA,{v6},2026-12-07 00:00:00\n"); z.write(f"{d} 60 IN AAAA {v6}\n")
            addresses += f" {v6}"
        # Half the fleet seen within the last 30 days with a certificate ending within 90 days.
        seen = f"2026-{11 + (i % 2):02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}" if i % 2 == 0 else ""
        ends = f"2027-{1 + i % 3:02d}-{1 + (i * 13) % 28:02d} {(i * 5) % 24:02d}:{(i * 11) % 60:02d}:00" if i % 2 == 0 else ""
        certificate = ""
        if ends:
            certificate = str(uuid.UUID(int=i + 1)).upper()
            end = datetime.datetime.strptime(ends, "%Y-%m-%d %H:%M:%S")
            certificates.write(f"{certificate},{d},Scale,{i:016X},{i:040X},-----BEGIN CERTIFICATE-----,protected,{fmt(end - datetime.timedelta(days=90))},{ends},{fmt(end - datetime.timedelta(days=30))},{fmt(end - datetime.timedelta(days=90))},{str(uuid.UUID(int=i + 7)).upper()}\n")
        devices.write(f"{d},{addresses},{seen},{ends},{certificate}\n")
PY
if [ "$storage" = postgresql ]; then
  psql "$psql_url/$database" -q -v ON_ERROR_STOP=1 <<SQL
\copy "ProvisioningZoneRecords" ("Name", "Type", "Value", "CreatedAt") FROM '$work/records.csv' WITH (FORMAT csv)
\copy "ProvisioningCertificates" ("Id", "DeviceId", "Issuer", "SerialNumber", "Thumbprint", "CertificatePem", "ProtectedPrivateKey", "NotBefore", "NotAfter", "RenewAfter", "IssuedAt", "ConcurrencyStamp") FROM '$work/certificates.csv' WITH (FORMAT csv)
CREATE TEMP TABLE marks (id text, addresses text, seen timestamptz, ends timestamptz, certificate uuid);
\copy marks FROM '$work/devices.csv' WITH (FORMAT csv, NULL '')
UPDATE "ProvisioningDevices" d SET "Addresses" = m.addresses, "LastSeenAt" = m.seen, "CurrentCertificateNotAfter" = m.ends,
  "CurrentCertificateId" = m.certificate, "Status" = CASE WHEN m.seen IS NULL THEN d."Status" ELSE 'Active' END FROM marks m WHERE m.id = d."DeviceId";
ANALYZE;
SQL
else
  sqlite3 "$work/data/provisioning.db" <<SQL
.mode csv
CREATE TEMP TABLE records (name TEXT, type TEXT, value TEXT, created TEXT);
.import $work/records.csv records
INSERT INTO ProvisioningZoneRecords (Name, Type, Value, CreatedAt) SELECT name, type, value, created FROM records;
CREATE TEMP TABLE certificates (id TEXT, device TEXT, issuer TEXT, serial TEXT, thumbprint TEXT, pem TEXT, key TEXT, notbefore TEXT, notafter TEXT, renewafter TEXT, issuedat TEXT, stamp TEXT);
.import $work/certificates.csv certificates
INSERT INTO ProvisioningCertificates (Id, DeviceId, Issuer, SerialNumber, Thumbprint, CertificatePem, ProtectedPrivateKey, NotBefore, NotAfter, RenewAfter, IssuedAt, ConcurrencyStamp)
  SELECT id, device, issuer, serial, thumbprint, pem, key, notbefore, notafter, renewafter, issuedat, stamp FROM certificates;
CREATE TEMP TABLE marks (id TEXT PRIMARY KEY, addresses TEXT, seen TEXT, ends TEXT, certificate TEXT);
.import $work/devices.csv marks
UPDATE ProvisioningDevices SET Addresses = (SELECT addresses FROM marks WHERE id = DeviceId),
  LastSeenAt = (SELECT NULLIF(seen, '') FROM marks WHERE id = DeviceId),
  CurrentCertificateNotAfter = (SELECT NULLIF(ends, '') FROM marks WHERE id = DeviceId),
  CurrentCertificateId = (SELECT NULLIF(certificate, '') FROM marks WHERE id = DeviceId);
UPDATE ProvisioningDevices SET Status = 'Active' WHERE LastSeenAt IS NOT NULL;
SQL
fi
record_count="$(sql 'SELECT COUNT(*) FROM "ProvisioningZoneRecords"')"

log "restarting with $n devices and $record_count address records"
echo "=== restart" >> "$work/host.log"
start_host
log "ready after ${ready_seconds} s"
rss_after_start_kib=$(awk '/VmRSS/ {print $2}' "/proc/$dotnet_pid/status")
first="$(dig +short +time=2 +tries=1 -p "$dns_port" @127.0.0.1 "$(sed -n 1p "$work/ids").$zone" A || true)"
[ -n "$first" ] || log "WARNING: the zone did not answer right after ready"

view() { # median of 5 total times, in ms; "failed (HTTP n)" when a call fails
  local times code
  times="$(for _ in 1 2 3 4 5; do curl -s -m 60 -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $admin_key" "$base$1"; done)"
  code="$(awk '$1 != 200 {print $1; exit}' <<<"$times")"
  if [ -n "$code" ]; then echo "failed (HTTP $code)"; log "$1 failed: HTTP $code"; tail -5 "$work/host.log" >&2; return; fi
  awk '{print $2}' <<<"$times" | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}'
}
search="$(head -1 "$work/secrets" | cut -c1-6)"
log "admin views"
page1=$(view "/api/admin/devices?pageSize=50")
searched=$(view "/api/admin/devices?pageSize=50&search=$search")
expiry=$(view "/api/admin/devices?pageSize=50&sort=expiry")
page100=$(view "/api/admin/devices?pageSize=50&page=100&sort=-lastSeen")
statistics=$(view "/api/admin/statistics")
# The figures computed, not kept: a device created first (the instance then computes its figures again); median of 5.
fresh_statistics() {
  for _ in 1 2 3 4 5; do
    curl -s -m 60 -o /dev/null -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' -d '{}' "$base/api/admin/devices"
    curl -s -m 60 -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $admin_key" "$base/api/admin/statistics"
  done | sort -n | sed -n 3p | awk '{printf "%.0f", $1 * 1000}'
}
# Right after the restart the device counts still hold every change the SQL above made (a row each) until the
# device-count-compaction job's first run folds them; measured again after it (below).
statistics_fresh="$(fresh_statistics)"
# Every sort the admin list offers, each filter, and a few of them together (page 1, 50 a page; median of 5, so a
# filter's total count, paid by its first call and then kept in proportion to its cost, is not in the figure).
list_views=("sort=deviceId" "sort=-deviceId" "sort=created" "sort=-created" "sort=status" "sort=-status" "sort=lastSeen"
  "sort=-lastSeen" "sort=expiry" "sort=-expiry" "status=active" "status=pending&sort=-lastSeen" "status=active&sort=expiry"
  "factorySecret=true" "factorySecret=false&sort=status" "resolution=ok" "resolution=unknown&sort=-expiry" "search=$search&sort=status"
  "page=100&sort=status")
list_times=()
for q in "${list_views[@]}"; do list_times+=("$(view "/api/admin/devices?pageSize=50&$q")"); done

log "address updates, 16 connections, ${ADDRESS_SECONDS:-20} s"
cat > "$work/addresses.lua" <<LUA
local devices = {}
for line in io.lines("$work/secrets") do
  local id, secret = line:match("^(%S+) (%S+)")
  devices[#devices + 1] = { id, secret }
end
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = 0 end
function request()
  n = n + 1
  local d = devices[(tid * 1000 + n) % #devices + 1]
  local address = string.format("10.%d.%d.%d", 100 + tid, math.floor(n / 250) % 250, n % 250 + 1)
  return wrk.format("POST", "/api/v1/addresses", { ["Content-Type"] = "application/json", ["X-Device-Secret"] = d[2] },
    '{"deviceId":"' .. d[1] .. '","addresses":["' .. address .. '"]}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %d %.2f\n", summary.requests / (summary.duration / 1e6), summary.errors.status, latency:percentile(99) / 1000))
end
LUA
if [ "$storage" = postgresql ]; then
  log "a second instance on the same database"
  start_host "$second_port" "$second_dns_port" second.log
  sleep 5 # past its first jobs
  second_ticks=$(awk '{print $14 + $15}' "/proc/$second_dotnet_pid/stat")
fi
read -r updates update_errors update_p99 < <(wrk -t2 -c16 -d"${ADDRESS_SECONDS:-20}s" --latency -s "$work/addresses.lua" "$base/api/v1/addresses" | awk '/^RESULT/ {print $2, $3, $4}')
if [ "$storage" = postgresql ]; then
  second_cpu=$(( $(awk '{print $14 + $15}' "/proc/$second_dotnet_pid/stat") - second_ticks ))
  # One more change on the first instance: how long until the second answers it (polled every 20 ms, at most 60 s).
  sleep 3
  read -r probe_id probe_secret < "$work/secrets"
  curl -fs -m 10 -o /dev/null -H "X-Device-Secret: $probe_secret" -H 'Content-Type: application/json' \
    -d "{\"deviceId\":\"$probe_id\",\"addresses\":[\"10.250.250.250\"]}" "$base/api/v1/addresses"
  probe_start=$(date +%s.%N)
  for _ in $(seq 1 3000); do
    [ "$(dig +short +time=1 +tries=1 -p "$second_dns_port" @127.0.0.1 "$probe_id.$zone" A)" = 10.250.250.250 ] && break
    sleep 0.02
  done
  probe_seconds=$(echo "$(date +%s.%N) - $probe_start" | bc)
  second_rss=$(awk '/VmRSS/ {print $2}' "/proc/$second_dotnet_pid/status")
fi

echo
echo "| storage | devices | seeding | peak RSS while seeding | restart to ready | page 1 | search | sort by expiry | page 100 by last seen | statistics (computed after a change, unfolded) | addresses/s (16 connections) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '| %s | %s | %.0f s | %d MiB | %.1f s | %s ms | %s ms | %s ms | %s ms | %s ms (%s ms) | %s (%s not 2xx, p99 %s ms) |\n' \
  "$storage" "$n" "$seed_seconds" "$(( peak_kib / 1024 ))" "$ready_seconds" "$page1" "$searched" "$expiry" "$page100" "$statistics" "$statistics_fresh" \
  "$updates" "$update_errors" "$update_p99"

echo
echo "| admin list ($storage, $n devices): ?pageSize=50& | ms |"
echo "| --- | ---: |"
for i in "${!list_views[@]}"; do printf '| `%s` | %s |\n' "${list_views[$i]/$search/<prefix>}" "${list_times[$i]}"; done

# Each periodic job's first run on the restarted host (they start 1-15 s after it).
sleep 5
for _ in $(seq 1 120); do sed -n '/^=== restart/,$p' "$work/host.log" | grep -q 'Job device-count-compaction ran' && break; sleep 1; done
statistics_folded="$(fresh_statistics)"
echo
echo "| job (first run after the restart, $storage, $n devices) | time |"
echo "| --- | ---: |"
sed -n '/^=== restart/,$p' "$work/host.log" | grep -o 'Job [a-z-]* ran in [0-9]* ms' | sort -u -k2,2 | awk '{printf "| %s | %s ms |\n", $2, $5}'
echo
echo "Statistics computed after a change: ${statistics_fresh} ms right after the restart (the counts' changes not folded yet), ${statistics_folded} ms after the device-count-compaction job's first run."

if [ "$storage" = postgresql ]; then
  echo
  echo "| second instance (same database, $record_count records) | CPU while the first took ${ADDRESS_SECONDS:-20} s of address updates | one more change answered by it after | resident memory |"
  echo "| --- | ---: | ---: | ---: |"
  printf '| %s | %.0f ms per second | %.2f s | %d MiB |\n' "$(git -C "$root" log -1 --format=%h 2>/dev/null || echo '?')" \
    "$(echo "$second_cpu * 1000 / $(getconf CLK_TCK) / ${ADDRESS_SECONDS:-20}" | bc -l)" "$probe_seconds" "$(( second_rss / 1024 ))"
fi

[ "$storage" = sqlite ] || exit 0

log "Knot DNS with the same zone"
mkdir -p "$work/knot"
cp "$work/$zone.zone" "$work/knot/"
cat > "$work/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$knot_port
    rundir: $work/knot
database:
    storage: $work/knot
log:
  - target: stderr
    any: warning
zone:
  - domain: $zone
    storage: $work/knot
    file: $zone.zone
    zonefile-sync: -1
    journal-content: none
CONF
knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!
knot_start=$(date +%s.%N)
for _ in $(seq 1 1200); do [ -n "$(dig +short +time=1 +tries=1 -p "$knot_port" @127.0.0.1 "$zone" SOA 2>/dev/null)" ] && break; sleep 0.1; done
knot_ready=$(echo "$(date +%s.%N) - $knot_start" | bc)

# The addresses the benchmark above changed are left out of the sample and the queries (Knot has the old ones).
python3 - "$work" "$zone" <<'PY'
import random, sys
work, zone = sys.argv[1], sys.argv[2]
changed = {l.split()[0] for l in open(f"{work}/secrets")}
ids = [l.strip() for l in open(f"{work}/ids") if l.strip()]
rng = random.Random(29)
queries = []
for i in rng.sample(range(len(ids)), min(100_000, len(ids))):
    if ids[i] in changed:
        continue
    queries.append(f"{ids[i]}.{zone} A")
    if i % 10 == 0:
        queries.append(f"{ids[i]}.{zone} AAAA")
    if i % 10 == 5:
        queries.append(f"nosuch{i}.{zone} A")
open(f"{work}/queries.txt", "w").write("\n".join(queries) + "\n")
sample = []
for i in rng.sample(range(len(ids)), min(180, len(ids))):
    if ids[i] not in changed:
        sample.append(f"{ids[i]}.{zone} {rng.choice(['A', 'AAAA', 'TXT', 'MX', 'ANY'])}")
sample += [f"nosuch{i}.{zone} A" for i in range(10)] + [f"{zone} SOA", f"{zone} NS", f"ns1.{zone} A", f"_acme-challenge.{ids[0]}.{zone} TXT"]
open(f"{work}/sample.txt", "w").write("\n".join(sample) + "\n")
PY

log "dig: both servers answer the sample alike"
disagree=0
while read -r name type; do
  # Status, flags that matter (aa), and the answer and authority sections without the SOA serial (ours moves with every change).
  for p in "$dns_port" "$knot_port"; do
    dig +norec +nocookie +noall +comments +answer +authority -p "$p" @127.0.0.1 "$name" "$type" \
      | awk '/status:/ {print $6} /flags:/ {print ($0 ~ / aa/) ? "aa" : "-"} /^[^;]/ && NF {if ($4 == "SOA") {$7 = "serial"}; print}' > "$work/dig.$p"
  done
  cmp -s "$work/dig.$dns_port" "$work/dig.$knot_port" || { disagree=$((disagree + 1)); [ "$disagree" -le 3 ] && diff "$work/dig.$dns_port" "$work/dig.$knot_port" >&2 || true; }
done < "$work/sample.txt"

dnsperf_run() { # PORT -> "qps servfail lost"
  dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries.txt" -l "${DNS_SECONDS:-20}" -c 8 -T 2 -q 500 2>&1 \
    | awk '/Queries per second:/ {q=$4} /Queries lost:/ {lost=$3} /SERVFAIL/ {sf=$2} END {printf "%.0f %d %s\n", q, sf, lost}'
}
log "dnsperf: ours"
read -r our_qps our_servfail our_lost < <(dnsperf_run "$dns_port")
our_rss=$(awk '/VmRSS/ {print $2}' "/proc/$dotnet_pid/status")
log "dnsperf: Knot"
read -r knot_qps knot_servfail knot_lost < <(dnsperf_run "$knot_port")
knot_rss=$(awk '/VmRSS/ {print $2}' "/proc/$knot_pid/status")

echo
echo "| DNS at $record_count records | queries/s | SERVFAIL | lost | resident memory | ready |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '| embedded (whole host: HTTP, database, jobs) | %s | %s | %s | %d MiB (after start %d MiB) | %.1f s (host) |\n' "$our_qps" "$our_servfail" "$our_lost" "$(( our_rss / 1024 ))" "$(( rss_after_start_kib / 1024 ))" "$ready_seconds"
printf '| Knot DNS %s | %s | %s | %s | %d MiB | %.1f s |\n' "$(knotd --version | grep -o '[0-9][0-9.]*$')" "$knot_qps" "$knot_servfail" "$knot_lost" "$(( knot_rss / 1024 ))" "$knot_ready"
printf '\nRatio embedded / Knot: %s. dig: %d of %d sampled questions answered alike. dnsperf -c 8 -T 2 -q 500 -l %s, %s queries; %s cores.\n' \
  "$(python3 -c "print(f'{$our_qps / max($knot_qps, 1):.2f}')")" "$(( $(wc -l < "$work/sample.txt") - disagree ))" "$(wc -l < "$work/sample.txt")" \
  "${DNS_SECONDS:-20}" "$(wc -l < "$work/queries.txt")" "$(nproc)"
