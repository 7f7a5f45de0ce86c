#!/usr/bin/env bash
# Installs (idempotently) every Debian 12 package that building, the demo and the tests need,
# then configures and builds the project into build/. Safe to run again: it only installs what
# is missing and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  build-essential cmake pkg-config
  libboost-dev nlohmann-json3-dev libssl-dev libnghttp2-dev
  libprotobuf-dev protobuf-compiler golang-github-containerd-containerd-dev
  catch2
  # run
  stress-ng ca-certificates
  # test: real runtimes, a busybox-only target image, the stand-in API server
  containerd runc docker.io busybox-static python3 openssl util-linux iproute2 procps
  # test: the LIB_IMAGE built offline (scripts/build-image.py)
  buildah debootstrap
  # test: the pure cgroup v2 leg in a VM (tests/vm/vm.py; it fetches Debian's kernel package itself)
  qemu-system-x86 e2fsprogs
  # test: the libFuzzer targets (scripts/fuzz.py) and the sanitizer runtimes
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Debian docker.io package starts its own dockerd and containerd through systemd where
# systemd runs; the tests never use those: they start private instances of their own.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
