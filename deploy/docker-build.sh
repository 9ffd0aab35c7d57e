#!/usr/bin/env bash
# Builds the unas image (deploy/Dockerfile) and carries the compiler cache from
# one build to the next, with or without BuildKit:
#
#   deploy/docker-build.sh                 # tags unas:latest
#   deploy/docker-build.sh unas:dev        # another tag
#   deploy/docker-build.sh --prebuilt build unas:test
#                                          # from build/unas and build/unas-torch
#
# --prebuilt DIR: the image gets DIR/unas and DIR/unas-torch (stripped into
# deploy/.prebuilt/, removed again at exit) instead of a compile in the build
# stage, which then installs nothing (the Dockerfile's UNAS_PREBUILT). For
# binaries built on Debian 12 against its packages, as deploy/build.sh makes
# them: the test suite's deploy.container builds its image this way, from the
# binaries the suite's own build made. No compiler cache is read or saved.
#
# 1. Makes debian:bookworm offline if it is missing (deploy/make-base-image.sh)
#    and the dashboard's chart.js if web/node_modules lacks it (web/install.sh).
# 2. Builds with --build-arg CCACHE_IMAGE=unas-ccache:latest when that image
#    exists: the build stage starts from the cache the previous build left.
# 3. When the build stage compiled something (its ccache summary reports
#    misses), tags the new cache (the Dockerfile's "ccache" stage, all layer
#    cache hits by then) as unas-ccache:latest. An unchanged tree keeps the
#    same cache image, so the next build is all layer-cache hits too.
#
# Environment: DOCKER (the client, default docker), UNAS_CCACHE_IMAGE (the
# cache's tag), DOCKER_BUILDKIT (as docker itself reads it), UNAS_BUILD_LOG
# (keep the build's output in this file).
set -euo pipefail
prebuilt=""
if [ "${1:-}" = "--prebuilt" ]; then
  [ $# -ge 2 ] || { echo "docker-build: --prebuilt needs a directory" >&2; exit 2; }
  prebuilt=$(cd "$2" && pwd) || { echo "docker-build: --prebuilt $2: no such directory" >&2; exit 2; }
  shift 2
fi
cd "$(dirname "$0")/.."
tag=${1:-unas:latest}
cache=${UNAS_CCACHE_IMAGE:-unas-ccache:latest}
docker=${DOCKER:-docker}
log=${UNAS_BUILD_LOG:-}
tmp_log=""
if [ -z "$log" ]; then
  tmp_log=$(mktemp "${TMPDIR:-/tmp}/unas-docker-build.XXXXXX")
  log=$tmp_log
fi
stage=deploy/.prebuilt
cleanup() {
  [ -n "$tmp_log" ] && rm -f "$tmp_log"
  [ -n "$prebuilt" ] && rm -rf "$stage"
  return 0
}
trap cleanup EXIT

DOCKER=$docker bash deploy/make-base-image.sh
if [ -f web/index.html ] && [ ! -f web/node_modules/chart.js/package.json ]; then
  command -v npm >/dev/null || { echo "docker-build: web/node_modules/chart.js is missing and npm is not installed" >&2; exit 1; }
  bash web/install.sh
fi

args=(-f deploy/Dockerfile)
if [ -n "$prebuilt" ]; then
  rm -rf "$stage"
  mkdir -p "$stage"
  for b in unas unas-torch; do
    [ -x "$prebuilt/$b" ] || { echo "docker-build: $prebuilt/$b is missing (build both: deploy/build.sh)" >&2; exit 1; }
    strip -o "$stage/$b" "$prebuilt/$b"
  done
  args+=(--build-arg "UNAS_PREBUILT=$stage")
  echo "docker-build: binaries from $prebuilt (stripped: $(du -sh "$stage" | cut -f1)); nothing is compiled"
elif "$docker" image inspect "$cache" >/dev/null 2>&1; then
  args+=(--build-arg "CCACHE_IMAGE=$cache")
  echo "docker-build: compiler cache from $cache"
else
  echo "docker-build: no $cache yet: if the compile step runs, it starts with an empty cache"
fi
start=$SECONDS
if ! "$docker" build "${args[@]}" -t "$tag" . 2>&1 | tee "$log"; then
  echo "docker-build: docker build failed" >&2
  exit 1
fi
echo "docker-build: $tag built in $((SECONDS - start)) s"

if [ -z "$prebuilt" ] && grep -Eq 'Misses: +[1-9]' "$log"; then
  old=$("$docker" image inspect -f '{{.Id}}' "$cache" 2>/dev/null || true)
  "$docker" build "${args[@]}" --target ccache -t "$cache" . >/dev/null
  new=$("$docker" image inspect -f '{{.Id}}' "$cache")
  echo "docker-build: compiler cache saved as $cache ($(
    "$docker" run --rm --entrypoint du "$cache" -sh /ccache | cut -f1))"
  # The previous cache image, unless something still uses it.
  if [ -n "$old" ] && [ "$old" != "$new" ]; then "$docker" rmi "$old" >/dev/null 2>&1 || true; fi
fi
