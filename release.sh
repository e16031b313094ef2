#!/usr/bin/env bash
# Builds a release into artifacts/ (or the directory given): every NuGet package (and its symbols), the
# sndctl-ca command as self-contained single-file binaries for linux-x64 and linux-arm64 (no .NET needed on
# the machine), and SHA256SUMS. The version comes from the git tag (MinVer: v0.2.0 -> 0.2.0; commits after
# a tag -> a pre-release of the next patch). Tag first for a release: git tag -a v0.2.0 -m "0.2.0".
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
out="$(mkdir -p "${1:-$root/artifacts}" && cd "${1:-$root/artifacts}" && pwd)"
log() { printf '[release.sh] %s\n' "$*" >&2; }

if [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  log "$out is not empty; refusing to mix two releases (remove it first)."
  exit 1
fi

log "building"
dotnet build Sndctl.Provisioning.sln -c Release -nologo -v quiet
log "packing"
dotnet pack Sndctl.Provisioning.sln -c Release --no-build -nologo -v quiet -o "$out"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for rid in linux-x64 linux-arm64; do
  log "sndctl-ca for $rid"
  dotnet publish src/Sndctl.Provisioning.Cli/Sndctl.Provisioning.Cli.csproj -c Release -r "$rid" --self-contained \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none \
    -nologo -v quiet -o "$work/$rid"
  cp "$work/$rid/sndctl-ca" "$out/sndctl-ca-$rid"
  chmod 755 "$out/sndctl-ca-$rid"
done

(cd "$out" && sha256sum -- * > SHA256SUMS)
version="$(ls "$out" | sed -n 's/^Sndctl\.Provisioning\.Core\.\(.*\)\.nupkg$/\1/p')"
log "version $version: $(ls "$out" | grep -c '\.nupkg$') packages, sndctl-ca-linux-x64, sndctl-ca-linux-arm64 in $out"
echo "$version"
