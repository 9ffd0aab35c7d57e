#!/usr/bin/env bash
# Installs every Debian package that building, testing and running unas needs.
# Idempotent and non-interactive: when everything is already installed it only
# checks and exits. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config git
  nlohmann-json3-dev libeigen3-dev
  zlib1g-dev
  libgtest-dev libgmock-dev
  libsqlite3-dev sqlite3
  libboost-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libtorch-dev
  dataset-fashion-mnist
  chromium   # the dashboard's browser test (driven by playwright-core; never a downloaded browser)
  iproute2 python3-yaml   # tests/deploy: network namespaces, YAML checks
  flatbuffers-compiler flatbuffers-compiler-dev libflatbuffers-dev   # tflite/: schema subset, reader, writer
  libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22     # tests: Arm NN 20.08 runs the .tflite files
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The dashboard's chart library from npm, pinned by web/package-lock.json.
install_web() {
  if command -v npm >/dev/null; then
    bash "$(dirname "$0")/../web/install.sh"
  else
    echo "install-deps: npm not found; the dashboard needs web/install.sh run once" >&2
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  install_web
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_web
