#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo: io stress from the helper into a container's volume.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec python3 scripts/demo.py "$@"
