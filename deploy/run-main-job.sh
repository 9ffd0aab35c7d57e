#!/usr/bin/env bash
# The main job: installs what is missing, builds, and costs the shipped
# worked example exactly (uNAS accounting and the default TFLM accounting,
# with a latency estimate on a Cortex-M4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
bash deploy/build.sh
echo "== unas cost examples/worked_example.json --accounting unas"
./build/unas cost examples/worked_example.json --input-shape 28,28,1 --classes 10 --accounting unas
echo
echo "== unas cost examples/worked_example.json --mcu cortex-m4-80mhz   (tflm accounting)"
./build/unas cost examples/worked_example.json --input-shape 28,28,1 --classes 10 --mcu cortex-m4-80mhz
