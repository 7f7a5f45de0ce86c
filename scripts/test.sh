#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: Catch2 unit tests and the end-to-end tests,
# which start a private containerd (and dockerd) of their own and stop them when done.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure --timeout 1500 "$@"
