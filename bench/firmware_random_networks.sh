#!/usr/bin/env bash
# The full set of the firmware's random-network tests: 16 random networks
# each for whole and partial execution (tests/firmware/host_test.cc), where
# the test suite runs the first 4 of each. Every network's C library is built
# twice with AddressSanitizer (portable and emulated-DSP kernels) and run
# against quant::RunInt8; about 5 minutes of CPU (the partial-execution
# test alone: 143.5 s user + 9.5 s system).
# Usage: bench/firmware_random_networks.sh [BUILD]   (BUILD: build directory, build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
tests=$build/tests/firmware_tests
[ -x "$tests" ] || { echo "build the firmware tests first: cmake --build $build --target firmware_tests" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp UNAS_FIRMWARE_RANDOM_NETWORKS=16 "$tests" --gtest_filter='FirmwareHost.RandomNetworks*'
