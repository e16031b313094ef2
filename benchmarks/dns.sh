#!/usr/bin/env bash
# DNS benchmark on loopback: the embedded authoritative server beside Knot DNS serving the same zone.
# Starts the reference host (Release, private CA, Provisioning:Dns:Provider=Authoritative) on random ports,
# makes DEVICES devices (default 10,000) through the admin API and gives each a LAN address through
# POST /api/addresses (as devices do), writes the same records into a zone file for Knot (Debian `knot`),
# then runs dnsperf (Debian `dnsperf`) against each for DURATION seconds (default 10) with the same query
# file: every device's A record, a tenth of them AAAA, and a tenth unknown names (NXDOMAIN).
# Bounded in count and time; prints queries/s and latency for both and their ratio.
# Usage: benchmarks/dns.sh [duration-seconds] [devices] [dnsperf-clients]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${1:-10}"
devices="${2:-10000}"
clients="${3:-8}"
zone="devices.example.test"
. "$root/benchmarks/lib.sh"

for pkg in dnsperf knot; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' && continue
  [ "$(id -u)" -eq 0 ] && s="" || s="sudo"
  $s apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq --no-install-recommends dnsperf knot >/dev/null
done

free_udp_tcp_port() {
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

ours="$(free_udp_tcp_port)"
knot_port="$(free_udp_tcp_port)"
start_host Provisioning__BaseDomain="$zone" Provisioning__Dns__Provider=Authoritative \
  Provisioning__Dns__Authoritative__Endpoints__0="127.0.0.1:$ours" \
  Provisioning__Dns__Authoritative__Nameservers__0__Name="ns1.$zone" \
  Provisioning__Dns__Authoritative__Nameservers__0__Addresses__0=127.0.0.1 \
  Provisioning__Addresses__ChangesPerHour=1000

key="$(cat "$work/data/admin-api-key")"
echo "making $devices devices and their addresses through the API..." >&2
python3 - "$base" "$key" "$devices" "$work" "$zone" <<'PY'
import http.client, json, sys, urllib.parse
base, key, count, work, zone = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
made = []
while len(made) < count:
    n = min(10000, count - len(made))
    conn.request("POST", "/api/admin/devices/batch", json.dumps({"count": n}), {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    response = conn.getresponse(); body = json.loads(response.read())
    assert response.status == 201, body
    made += body["devices"]
records, queries = [], []
for i, device in enumerate(made):
    v4 = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    addresses = [v4] + ([f"fd00::{i:x}"] if i % 10 == 0 else [])
    conn.request("POST", "/api/addresses", json.dumps({"deviceId": device["deviceId"], "addresses": addresses}), {"X-Device-Secret": device["secret"], "Content-Type": "application/json"})
    response = conn.getresponse(); response.read()
    assert response.status == 200, response.status
    records.append(f"{device['deviceId']} 60 IN A {v4}")
    queries.append(f"{device['hostname']} A")
    if i % 10 == 0:
        records.append(f"{device['deviceId']} 60 IN AAAA fd00::{i:x}")
        queries.append(f"{device['hostname']} AAAA")
        queries.append(f"nosuch{i}.{zone} A")
with open(f"{work}/{zone}.zone", "w") as f:
    f.write(f"$ORIGIN {zone}.\n$TTL 60\n@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 604800 60\n@ IN NS ns1.{zone}.\nns1 IN A 127.0.0.1\n")
    f.write("\n".join(records) + "\n")
with open(f"{work}/queries.txt", "w") as f:
    f.write("\n".join(queries) + "\n")
PY

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
CONF
knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
knot_pid=$!
trap 'kill $knot_pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do dig +short -p "$knot_port" @127.0.0.1 "$zone" SOA >/dev/null 2>&1 && break; sleep 0.2; done

# Both answer the same before they are measured.
sample="$(sed -n 1p "$work/queries.txt" | cut -d' ' -f1)"
a="$(dig +short -p "$ours" @127.0.0.1 "$sample" A)"; b="$(dig +short -p "$knot_port" @127.0.0.1 "$sample" A)"
[ "$a" = "$b" ] || { echo "the servers disagree on $sample: '$a' vs '$b'" >&2; exit 1; }

measure() {
  dnsperf -s 127.0.0.1 -p "$1" -d "$work/queries.txt" -l "$duration" -c "$clients" -T 2 -q 500 2>&1 \
    | awk '/Queries per second:/ {q=$4} /Average Latency/ {l=$4} /Queries lost:/ {lost=$3} /NOERROR/ {} END {printf "%.0f %.3f %s\n", q, l*1000, lost}'
}

read -r our_qps our_lat our_lost < <(measure "$ours")
read -r knot_qps knot_lat knot_lost < <(measure "$knot_port")
ratio="$(python3 -c "print(f'{$our_qps / $knot_qps:.2f}')")"

printf '\n| server | queries/s | average latency (ms) | lost |\n|---|---:|---:|---:|\n'
printf '| embedded (Sndctl.Provisioning.Dns.Authoritative) | %s | %s | %s |\n' "$our_qps" "$our_lat" "$our_lost"
printf '| Knot DNS %s | %s | %s | %s |\n' "$(knotd --version | grep -o '[0-9][0-9.]*$')" "$knot_qps" "$knot_lat" "$knot_lost"
printf '\nRatio embedded / Knot: %s. Zone of %s devices (%s records); dnsperf -c %s -T 2 -q 500 -l %s; %s cores.\n' \
  "$ratio" "$devices" "$(grep -c ' IN ' "$work/$zone.zone")" "$clients" "$duration" "$(nproc)"
pid="$(pgrep -f "Sndctl.Provisioning.Host.dll --urls $base" | head -n 1)"
printf 'Host peak RSS (VmHWM): %s MiB.\n' "$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
