#!/usr/bin/env bash
# Self-hosted DNS servers that take dynamic updates (RFC 2136) signed with TSIG, on loopback, sourced by
# tests/run.sh after tests/acme-lab.sh:
#   dns_lab_start DIR   installs Debian's knot and bind9 if missing, starts Knot DNS and BIND 9, each
#                       authoritative for the zone rfc2136.test with the keys sndctl-test (hmac-sha256)
#                       and sndctl-test-512 (hmac-sha512) allowed to update it. Exports SNDCTL_TEST_RFC2136_* for tests (which start a Pebble
#                       validating against either with AcmeLab.StartPebble).
#   dns_lab_stop        stops them.
# Run directly (bash tests/dns-lab.sh [DIR]) it starts the ACME lab and this one and runs until Ctrl+C.

dns_lab_pids=()

dns_lab_wait_udp() {
  local port="$1" name="$2"
  for _ in $(seq 1 100); do
    if dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 rfc2136.test SOA >/dev/null 2>&1 \
      && [ -n "$(dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 rfc2136.test SOA)" ]; then return 0; fi
    sleep 0.1
  done
  log "$name did not answer on 127.0.0.1:$port"; cat "$dnslab/"*.log >&2 || true
  return 1
}

dns_lab_zone_file() {
  cat > "$1" <<ZONE
\$ORIGIN rfc2136.test.
\$TTL 60
@    SOA ns1.rfc2136.test. hostmaster.rfc2136.test. 1 3600 600 86400 60
@    NS  ns1
ns1  A   127.0.0.1
ZONE
}

dns_lab_start() {
  dnslab="$1"
  ensure_packages knot bind9 bind9-dnsutils
  mkdir -p "$dnslab/knot" "$dnslab/bind"
  local secret secret512 knot_port bind_port
  secret="$(openssl rand -base64 32)"
  secret512="$(openssl rand -base64 64 | tr -d '\n')"
  knot_port="$(free_port)"; bind_port="$(free_port)"

  # Knot DNS: the key may update the zone (acl), nothing else.
  dns_lab_zone_file "$dnslab/knot/rfc2136.test.zone"
  cat > "$dnslab/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$knot_port
    rundir: $dnslab/knot
log:
  - target: stderr
    any: warning
key:
  - id: sndctl-test
    algorithm: hmac-sha256
    secret: $secret
  - id: sndctl-test-512
    algorithm: hmac-sha512
    secret: $secret512
acl:
  - id: update
    key: [sndctl-test, sndctl-test-512]
    action: update
database:
    storage: $dnslab/knot
zone:
  - domain: rfc2136.test
    storage: $dnslab/knot
    file: rfc2136.test.zone
    acl: update
CONF
  knotd -c "$dnslab/knot/knot.conf" >"$dnslab/knot.log" 2>&1 &
  dns_lab_pids+=($!)

  # BIND 9: update-policy grants the key the names under the zone.
  dns_lab_zone_file "$dnslab/bind/rfc2136.test.zone"
  cat > "$dnslab/bind/named.conf" <<CONF
options {
    directory "$dnslab/bind";
    pid-file "$dnslab/bind/named.pid";
    session-keyfile "$dnslab/bind/session.key";
    managed-keys-directory "$dnslab/bind";
    listen-on port $bind_port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
key "sndctl-test" { algorithm hmac-sha256; secret "$secret"; };
key "sndctl-test-512" { algorithm hmac-sha512; secret "$secret512"; };
zone "rfc2136.test" {
    type primary;
    file "$dnslab/bind/rfc2136.test.zone";
    update-policy { grant sndctl-test subdomain rfc2136.test. ANY; grant sndctl-test-512 subdomain rfc2136.test. ANY; };
};
CONF
  named -g -c "$dnslab/bind/named.conf" >"$dnslab/bind.log" 2>&1 &
  dns_lab_pids+=($!)

  dns_lab_wait_udp "$knot_port" "Knot DNS"
  dns_lab_wait_udp "$bind_port" "BIND"

  export SNDCTL_TEST_RFC2136_ZONE="rfc2136.test"
  export SNDCTL_TEST_RFC2136_TSIG_NAME="sndctl-test"
  export SNDCTL_TEST_RFC2136_TSIG_SECRET="$secret"
  export SNDCTL_TEST_RFC2136_TSIG512_NAME="sndctl-test-512"
  export SNDCTL_TEST_RFC2136_TSIG512_SECRET="$secret512"
  export SNDCTL_TEST_RFC2136_KNOT="127.0.0.1:$knot_port"
  export SNDCTL_TEST_RFC2136_BIND="127.0.0.1:$bind_port"
  log "Knot DNS on 127.0.0.1:$knot_port, BIND on 127.0.0.1:$bind_port (zone rfc2136.test, TSIG key sndctl-test)"
}

dns_lab_stop() {
  for pid in "${dns_lab_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  dns_lab_pids=()
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  # shellcheck source=tests/acme-lab.sh
  . "$here/acme-lab.sh"
  dir="${1:-$(mktemp -d /tmp/sndctl-dns-lab.XXXXXX)}"
  trap 'dns_lab_stop; acme_lab_stop' EXIT
  acme_lab_start "$dir/acme"
  dns_lab_start "$dir/dns"
  env | grep '^SNDCTL_TEST_' | sed 's/^/export /' > "$dir/env"
  log "running; source $dir/env for the tests (Ctrl+C stops)"
  wait
fi
