#!/usr/bin/env bash
# Runs build.ps1 with the PowerShell this project pins (.config/dotnet-tools.json), installing it first: on a
# machine with only the .NET SDK, './build.sh Demo' and './build.sh Test' work as they are.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
exec dotnet tool run pwsh -NoProfile -NonInteractive -File ./build.ps1 "$@"
