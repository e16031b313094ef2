# Shared by the wrk benchmarks (sourced): installs wrk, starts the reference host in Release on a
# random loopback port with a fresh data directory, and runs bounded wrk measurements.
# After start_host: $work (temporary directory), $base (the host's URL), $host_pid.

work="$(mktemp -d /tmp/sndctl-bench.XXXXXX)"
host_pid=""
cleanup() { [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

ensure_wrk() {
  command -v wrk >/dev/null && return
  [ "$(id -u)" -eq 0 ] && s="" || s="sudo"
  $s apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $s apt-get install -y -qq wrk >/dev/null
}

# start_host [NAME=VALUE ...]: extra environment for the host.
start_host() {
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  dotnet build "$root/samples/Sndctl.Provisioning.Host" -c Release -nologo -v quiet >/dev/null
  (cd "$work" && exec env Logging__LogLevel__Default=Warning "$@" \
    dotnet "$root/samples/Sndctl.Provisioning.Host/bin/Release/net10.0/Sndctl.Provisioning.Host.dll" --urls "$base" >"$work/host.log" 2>&1) &
  host_pid=$!
  for _ in $(seq 1 100); do curl -fs "$base/api/health" >/dev/null 2>&1 && break; sleep 0.2; done
}

# The Lua lines that make wrk print "RESULT <requests/s> <p99 ms> <non-2xx> <requests>".
wrk_result_lua() {
  cat <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %d %d\n", summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status, summary.requests))
end
LUA
}

# run_wrk PATH SCRIPT: prints "<requests/s> <p99 ms> <non-2xx> <requests>".
run_wrk() { wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$2" "$base$1" | awk '/^RESULT/ {print $2, $3, $4, $5}'; }
