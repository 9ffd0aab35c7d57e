#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test suite.
# Tests read ../shared/ (reference data) beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
cd build
ctest --output-on-failure -j"${UNAS_JOBS:-2}" --timeout 900
