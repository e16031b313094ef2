#!/usr/bin/env bash
# A local ACME lab on loopback, sourced by tests/run.sh and benchmarks/fleet.sh:
#   acme_lab_start DIR   installs Debian's pebble if missing, makes a throw-away TLS CA for Pebble's
#                        own HTTPS, starts pebble-challtestsrv (DNS for Pebble's validator), a second
#                        "decoy" challtestsrv (a DNS server Pebble does not use), Pebble, and a second
#                        Pebble that requires External Account Binding. Exports SNDCTL_TEST_* for tests.
#   acme_lab_stop        stops them.
# Pebble keeps its default 5 % random nonce rejection (PEBBLE_WFE_NONCEREJECT) unless the caller sets it.
# Authorization reuse is off (PEBBLE_AUTHZREUSE=0): Pebble 2.4 deadlocks in its in-memory store when
# reused authorizations meet a few hundred concurrent requests, and every order then really validates DNS-01.
# Run directly (bash tests/acme-lab.sh [DIR]) it starts the lab, prints the settings for the
# reference host, and runs until Ctrl+C.

acme_lab_pids=()

declare -F log >/dev/null || log() { printf '[acme-lab] %s\n' "$*" >&2; }
declare -F free_port >/dev/null || free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
declare -F ensure_packages >/dev/null || ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing ${missing[*]}"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

acme_lab_wait_port() {
  local port="$1" name="$2"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$name did not start on 127.0.0.1:$port"; cat "$lab/"*.log >&2 || true
  return 1
}

acme_lab_start() {
  lab="$1"
  ensure_packages pebble openssl
  mkdir -p "$lab"

  # Pebble's HTTPS certificate (the Debian package ships none): a CA and a leaf for localhost/127.0.0.1.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Sndctl test Pebble TLS CA" \
    -keyout "$lab/tls-ca.key" -out "$lab/tls-ca.pem" >/dev/null 2>&1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$lab/tls.key" -out "$lab/tls.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' > "$lab/tls.ext"
  openssl x509 -req -in "$lab/tls.csr" -CA "$lab/tls-ca.pem" -CAkey "$lab/tls-ca.key" -CAcreateserial -days 2 \
    -extfile "$lab/tls.ext" -out "$lab/tls.pem" >/dev/null 2>&1

  local dns mgmt decoy_dns decoy_mgmt acme acme_mgmt eab eab_mgmt
  dns="$(free_port)"; mgmt="$(free_port)"; decoy_dns="$(free_port)"; decoy_mgmt="$(free_port)"
  acme="$(free_port)"; acme_mgmt="$(free_port)"; eab="$(free_port)"; eab_mgmt="$(free_port)"

  pebble-challtestsrv -dns01 "127.0.0.1:$dns" -management "127.0.0.1:$mgmt" -http01 "" -https01 "" -tlsalpn01 "" \
    -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$lab/challtestsrv.log" 2>&1 &
  acme_lab_pids+=($!)
  pebble-challtestsrv -dns01 "127.0.0.1:$decoy_dns" -management "127.0.0.1:$decoy_mgmt" -http01 "" -https01 "" -tlsalpn01 "" \
    -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$lab/decoy.log" 2>&1 &
  acme_lab_pids+=($!)

  local eab_key; eab_key="$(openssl rand 32 | base64 | tr '+/' '-_' | tr -d '=\n')"
  cat > "$lab/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme", "managementListenAddress": "127.0.0.1:$acme_mgmt",
  "certificate": "$lab/tls.pem", "privateKey": "$lab/tls.key", "httpPort": 5002, "tlsPort": 5001,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  cat > "$lab/pebble-eab.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$eab", "managementListenAddress": "127.0.0.1:$eab_mgmt",
  "certificate": "$lab/tls.pem", "privateKey": "$lab/tls.key", "httpPort": 5002, "tlsPort": 5001,
  "ocspResponderURL": "", "externalAccountBindingRequired": true, "externalAccountMACKeys": {"kid-1": "$eab_key"}}}
JSON
  PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP:-1}" PEBBLE_ALTERNATE_ROOTS="${PEBBLE_ALTERNATE_ROOTS:-1}" PEBBLE_AUTHZREUSE="${PEBBLE_AUTHZREUSE:-0}" pebble -config "$lab/pebble.json" -dnsserver "127.0.0.1:$dns" >"$lab/pebble.log" 2>&1 &
  acme_lab_pids+=($!)
  PEBBLE_VA_NOSLEEP="${PEBBLE_VA_NOSLEEP:-1}" pebble -config "$lab/pebble-eab.json" -dnsserver "127.0.0.1:$dns" >"$lab/pebble-eab.log" 2>&1 &
  acme_lab_pids+=($!)

  acme_lab_wait_port "$mgmt" challtestsrv
  acme_lab_wait_port "$decoy_mgmt" "decoy challtestsrv"
  acme_lab_wait_port "$acme" pebble
  acme_lab_wait_port "$eab" "pebble (EAB)"

  export SNDCTL_TEST_PEBBLE_DIRECTORY="https://127.0.0.1:$acme/dir"
  export SNDCTL_TEST_PEBBLE_MANAGEMENT="https://127.0.0.1:$acme_mgmt"
  export SNDCTL_TEST_PEBBLE_EAB_DIRECTORY="https://127.0.0.1:$eab/dir"
  export SNDCTL_TEST_PEBBLE_EAB_MANAGEMENT="https://127.0.0.1:$eab_mgmt"
  export SNDCTL_TEST_PEBBLE_EAB_KID="kid-1"
  export SNDCTL_TEST_PEBBLE_EAB_HMAC="$eab_key"
  export SNDCTL_TEST_PEBBLE_TLS_ROOT="$lab/tls-ca.pem"
  export SNDCTL_TEST_PEBBLE_TLS_CERT="$lab/tls.pem"
  export SNDCTL_TEST_PEBBLE_TLS_KEY="$lab/tls.key"
  export SNDCTL_TEST_CHALLTESTSRV="http://127.0.0.1:$mgmt"
  export SNDCTL_TEST_CHALLTESTSRV_DNS="127.0.0.1:$dns"
  export SNDCTL_TEST_DECOY_CHALLTESTSRV="http://127.0.0.1:$decoy_mgmt"
  export SNDCTL_TEST_DECOY_CHALLTESTSRV_DNS="127.0.0.1:$decoy_dns"
  log "Pebble on 127.0.0.1:$acme (EAB on $eab), challtestsrv DNS on 127.0.0.1:$dns"
}

acme_lab_stop() {
  for pid in "${acme_lab_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  acme_lab_pids=()
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  dir="${1:-$(mktemp -d /tmp/sndctl-acme-lab.XXXXXX)}"
  trap acme_lab_stop EXIT
  acme_lab_start "$dir"
  env | grep '^SNDCTL_TEST_' | sed 's/^/export /' > "$dir/env"
  cat <<HINT

ACME lab running (Ctrl+C stops it). Pebble's issuing root: curl --cacert $SNDCTL_TEST_PEBBLE_TLS_ROOT $SNDCTL_TEST_PEBBLE_MANAGEMENT/roots/0
Tests: source $dir/env, then dotnet test. Reference host in ACME mode:

  Provisioning__Issuer=Acme Provisioning__BaseDomain=devices.example.test \\
  Provisioning__Acme__DirectoryUrl=$SNDCTL_TEST_PEBBLE_DIRECTORY Provisioning__Acme__AcceptTermsOfService=true \\
  Provisioning__Acme__TrustedRootFile=$SNDCTL_TEST_PEBBLE_TLS_ROOT Provisioning__Acme__PropagationNameservers__0=$SNDCTL_TEST_CHALLTESTSRV_DNS \\
  Provisioning__Dns__Provider=ChallTestSrv Provisioning__Dns__ChallTestSrv__ManagementUrl=$SNDCTL_TEST_CHALLTESTSRV \\
  dotnet run --project samples/Sndctl.Provisioning.Host

HINT
  wait
fi
