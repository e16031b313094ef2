#!/usr/bin/env bash
# Fleet benchmark: how fast a fleet gets ACME certificates, ours beside lego, in one run.
#  1. Starts the local ACME lab (tests/acme-lab.sh: Pebble with PEBBLE_VA_NOSLEEP=1 and its default
#     5 % nonce rejection, pebble-challtestsrv as its DNS).
#  2. Ours: the reference host (in-process, Kestrel on loopback, ACME mode, SQLite) with N devices
#     registering at once, for each N given (default 100 and 500); plus 40 single issuances.
#  3. lego (Debian's lego 4.9.1) on the same Pebble: LEGO_CERTS certificates (default 48), one per
#     process, LEGO_PARALLEL processes at a time (default 8), DNS-01 through challtestsrv (exec provider;
#     --dns.disable-cp because challtestsrv answers no SOA, so lego cannot find the zone's nameservers).
# Bounded: every lego process has a 60 s timeout; the driver fails on any non-200 answer.
# Usage: benchmarks/fleet.sh [N ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/sndctl-fleet.XXXXXX)"
log() { printf '[fleet.sh] %s\n' "$*" >&2; }
# shellcheck source=tests/acme-lab.sh
source "$root/tests/acme-lab.sh"
cleanup() { acme_lab_stop; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

ensure_packages lego python3
export PEBBLE_VA_NOSLEEP=1
acme_lab_start "$work/lab"

log "building"
dotnet build "$root/benchmarks/Sndctl.Provisioning.FleetBenchmark" -c Release -nologo -v quiet >/dev/null

echo "## Sndctl.Provisioning (reference host, ACME mode, SQLite)"
echo
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 500)
(cd "$root" && dotnet "$root/benchmarks/Sndctl.Provisioning.FleetBenchmark/bin/Release/net10.0/Sndctl.Provisioning.FleetBenchmark.dll" "${sizes[@]}") 2>"$work/driver.err" \
  || { cat "$work/driver.err" >&2; exit 1; }

# lego: one certificate per process, LEGO_PARALLEL at a time, the way it is run from cron or a CI job.
certs="${LEGO_CERTS:-48}"
parallel="${LEGO_PARALLEL:-8}"
cat > "$work/lego-dns.sh" <<HOOK
#!/bin/sh
# lego exec provider: \$1 = present|cleanup, \$2 = FQDN, \$3 = value.
case "\$1" in
  present) curl -fs -X POST "$SNDCTL_TEST_CHALLTESTSRV/set-txt" -d "{\"host\":\"\$2\",\"value\":\"\$3\"}" ;;
  cleanup) curl -fs -X POST "$SNDCTL_TEST_CHALLTESTSRV/clear-txt" -d "{\"host\":\"\$2\"}" ;;
esac
HOOK
chmod +x "$work/lego-dns.sh"
cat > "$work/lego-one.sh" <<ONE
#!/bin/sh
start=\$(date +%s.%N)
LEGO_CA_CERTIFICATES="$SNDCTL_TEST_PEBBLE_TLS_ROOT" EXEC_PATH="$work/lego-dns.sh" EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 \
  timeout 60 lego --server "$SNDCTL_TEST_PEBBLE_DIRECTORY" --email ops@example.test --accept-tos --path "$work/lego/\$1" \
  --dns exec --dns.disable-cp --dns.resolvers "$SNDCTL_TEST_CHALLTESTSRV_DNS" --domains "\$1.lego.example.test" run >"$work/lego/\$1.log" 2>&1 || echo "FAIL \$1" >&2
end=\$(date +%s.%N)
echo "\$start \$end"
ONE
chmod +x "$work/lego-one.sh"
mkdir -p "$work/lego"
log "lego: $certs certificates, $parallel processes at a time"
seq -f "d%05g" 1 "$certs" | xargs -P "$parallel" -n 1 "$work/lego-one.sh" > "$work/lego-times"
issued="$(find "$work/lego" -name '*.crt' ! -name '*.issuer.crt' | wc -l)"
python3 - "$work/lego-times" "$certs" "$parallel" "$issued" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
lat = sorted((e - s) * 1000 for s, e in rows)
wall = max(e for _, e in rows) - min(s for s, _ in rows)
pct = lambda p: lat[min(len(lat) - 1, max(0, -(-p * len(lat) // 100) - 1))]
print()
print("## lego 4.9.1 (Debian), same Pebble")
print()
print("| certificates | parallel processes | issued | certificates/s | p50 | p99 | max |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {int(sys.argv[4]) / wall:.1f} | {pct(50):.0f} ms | {pct(99):.0f} ms | {lat[-1]:.0f} ms |")
PY
