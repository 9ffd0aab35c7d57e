#!/usr/bin/env bash
# Installs every Debian package that building, testing and running unas needs.
# Idempotent and non-interactive: when everything is already installed it only
# checks and exits. Needs root (or sudo) only when something is missing.
#
# --build-only: only what building the `unas` binary needs, without the test
# tools and the dashboard's npm step (deploy/Dockerfile's build stage).
# The container test (tests/deploy/container_test.sh) installs docker.io,
# docker-compose and debootstrap itself: nothing else needs them.
set -euo pipefail

build_only=0
case "${1:-}" in
  "") ;;
  --build-only) build_only=1 ;;
  *) echo "install-deps: unknown argument '$1' (only --build-only)" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ccache pkg-config git
  nlohmann-json3-dev libeigen3-dev
  zlib1g-dev
  libssl-dev   # data/: SHA-256 of registered data sets (OpenSSL's libcrypto)
  libstb-dev   # data/: stb_image and stb_image_resize (image folders), compiled into libstb.so
  libsqlite3-dev
  libboost-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libtorch-dev
  flatbuffers-compiler flatbuffers-compiler-dev libflatbuffers-dev   # tflite/: schema subset, reader, writer
)
test_packages=(
  libgtest-dev libgmock-dev
  sqlite3
  dataset-fashion-mnist
  chromium   # the dashboard's browser test (driven by playwright-core; never a downloaded browser)
  iproute2 python3-yaml   # tests/deploy: network namespaces, YAML checks
  slurmctld slurmd slurm-client munge   # tests/deploy/slurm_test.sh: a real single-node Slurm
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm   # tests/firmware: generated C on Cortex-M4/M7
  espeak-ng sox   # tests/data/audio: generated keyword clips (make_keywords.sh)
  universal-ctags   # tests/style: function lengths
  libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22     # tests: Arm NN 20.08 runs the .tflite files
)
if [ "$build_only" -eq 0 ]; then packages+=("${test_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The dashboard's chart library from npm, pinned by web/package-lock.json.
install_web() {
  if [ "$build_only" -eq 1 ]; then return 0; fi
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
