#!/usr/bin/env bash
# Builds the unas image (deploy/Dockerfile) and carries the compiler cache from
# one build to the next, with or without BuildKit:
#
#   deploy/docker-build.sh                 # tags unas:latest
#   deploy/docker-build.sh unas:dev        # another tag
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
trap '[ -n "$tmp_log" ] && rm -f "$tmp_log"' EXIT

DOCKER=$docker bash deploy/make-base-image.sh
if [ -f web/index.html ] && [ ! -f web/node_modules/chart.js/package.json ]; then
  command -v npm >/dev/null || { echo "docker-build: web/node_modules/chart.js is missing and npm is not installed" >&2; exit 1; }
  bash web/install.sh
fi

args=(-f deploy/Dockerfile)
if "$docker" image inspect "$cache" >/dev/null 2>&1; then
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

if grep -Eq 'Misses: +[1-9]' "$log"; then
  old=$("$docker" image inspect -f '{{.Id}}' "$cache" 2>/dev/null || true)
  "$docker" build "${args[@]}" --target ccache -t "$cache" . >/dev/null
  new=$("$docker" image inspect -f '{{.Id}}' "$cache")
  echo "docker-build: compiler cache saved as $cache ($(
    "$docker" run --rm --entrypoint du "$cache" -sh /ccache | cut -f1))"
  # The previous cache image, unless something still uses it.
  if [ -n "$old" ] && [ "$old" != "$new" ]; then "$docker" rmi "$old" >/dev/null 2>&1 || true; fi
fi
