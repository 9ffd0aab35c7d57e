#!/usr/bin/env bash
# Configures and builds unas into ./build (ccache makes rebuilds cheap).
# Usage: deploy/build.sh [extra cmake -D options]
# UNAS_BUILD_TARGET=unas builds only the binary (the main job needs no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${UNAS_JOBS:-2}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
if [ -n "${UNAS_BUILD_TARGET:-}" ]; then
  cmake --build build -j"$jobs" --target "$UNAS_BUILD_TARGET"
else
  cmake --build build -j"$jobs"
fi
