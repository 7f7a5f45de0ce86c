#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: Catch2 unit tests and the end-to-end tests,
# which start a private containerd (and dockerd) of their own and stop them when done (the pure
# cgroup v2 leg boots a VM of its own); then the same unit and end-to-end tests on an ASan+UBSan
# build (LeakSanitizer included), and every libFuzzer target for a bounded time.
# With arguments, only ctest on the normal build runs, with those arguments (e.g. -R unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
(cd build && ctest --output-on-failure --timeout 1500 "$@")
(($#)) && exit 0

# Sanitizers: the LIB_IMAGE test builds its own binaries in the image, and the VM leg proves the
# cgroup v2 paths: both have run above on the normal build.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRESS_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
(cd build-asan && ctest --output-on-failure --timeout 1500 -E 'e2e_test_image|vm_cgroup_v2_e2e')

/usr/bin/python3 scripts/fuzz.py --seconds "${FUZZ_SECONDS:-30}"
