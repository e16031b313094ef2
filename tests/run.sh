#!/usr/bin/env bash
# Runs every test project against real peers: installs what is missing (Debian packages), starts a
# PostgreSQL server, a Pebble ACME lab (tests/acme-lab.sh) and Knot DNS and BIND with TSIG (tests/dns-lab.sh) on free loopback ports, runs `dotnet test`, stops the servers, and ends with
# one line "N passed, N failed" summed over all test projects.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$(mktemp -d /tmp/sndctl-tests.XXXXXX)"
chmod 755 "$work"
results="$work/results"
pids=()

log() { printf '[run.sh] %s\n' "$*" >&2; }

cleanup() {
  if [ -n "${pg_bin:-}" ] && [ -d "$work/pg/data" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  dns_lab_stop
  acme_lab_stop
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# PostgreSQL refuses to run as root: run it as the 'postgres' user when we are root.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  ensure_packages postgresql
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  local port; port="$(free_port)"
  mkdir -p "$work/pg"
  [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
  as_pg "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust >/dev/null
  as_pg "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $work/pg -c fsync=off -c max_connections=200" start >/dev/null
  export SNDCTL_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true"
  log "PostgreSQL on 127.0.0.1:$port"
}

# shellcheck source=tests/acme-lab.sh
source "$root/tests/acme-lab.sh"
# shellcheck source=tests/dns-lab.sh
source "$root/tests/dns-lab.sh"

command -v python3 >/dev/null || ensure_packages python3
# Headless Chromium for the admin portal's browser tests (Playwright drives /usr/bin/chromium).
ensure_packages chromium
# dig, for the embedded DNS server's answers.
ensure_packages bind9-dnsutils
# The ACME clients devices run, against the ACME front door (and curl to check what Caddy serves).
ensure_packages lego certbot caddy curl busybox openssl prometheus
# kubectl renders the Kustomize overlays (kubectl kustomize) the deployment tests boot the host from.
command -v kubectl >/dev/null || ensure_packages kubectl || ensure_packages kubernetes-client
# Debian's caddy and prometheus packages start system services where systemd runs (prometheus on every
# interface); the tests start their own servers, on loopback, and need only promtool of prometheus.
for service in caddy prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then as_root systemctl stop "$service" || true; fi
done
start_postgres
acme_lab_start "$work/acme"
# Knot DNS and BIND 9 taking TSIG-signed dynamic updates, each with a Pebble validating against it (RFC 2136 provider).
dns_lab_start "$work/dns"

# The release build is the test build: release.sh builds the solution, packs every package (one that cannot be
# packed fails here) and publishes the self-contained sndctl-ca binaries; the tests use the packages and run the
# linux-x64 binary.
log "building the release (release.sh)"
bash "$root/release.sh" "$work/release" >/dev/null
export SNDCTL_TEST_PACKAGES="$work/release"
export SNDCTL_TEST_CLI_BINARY="$work/release/sndctl-ca-linux-x64"
log "testing"
set +e
timeout 3600 dotnet test Sndctl.Provisioning.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" -- RunConfiguration.TestSessionTimeout=3300000
status=$?
set -e

python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    counters = ET.parse(path).getroot().find(".//{*}Counters")
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
