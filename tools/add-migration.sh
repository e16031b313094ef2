#!/usr/bin/env bash
# Adds an EF Core migration for each of the reference host's providers (SQLite and PostgreSQL) with dotnet-ef
# from the repository's tool manifest (.config/dotnet-tools.json). The design-time factories in
# samples/Sndctl.Provisioning.Host/Data build each model without a database.
#   tools/add-migration.sh <MigrationName>
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: tools/add-migration.sh <MigrationName>" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet tool restore >/dev/null
for provider in Sqlite PostgreSql; do
  dotnet ef migrations add "$1" --project samples/Sndctl.Provisioning.Host --context "${provider}HostDbContext" \
    --output-dir "Migrations/$provider" --namespace "Sndctl.Provisioning.Host.Migrations.$provider"
done
