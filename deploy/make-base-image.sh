#!/usr/bin/env bash
# Makes the Debian 12 base image that deploy/Dockerfile builds FROM, offline:
# no Docker registry, only the Debian archive this host's apt already uses.
#
#   deploy/make-base-image.sh            # tags debian:bookworm, unless present
#   deploy/make-base-image.sh --force    # rebuild and re-tag it anyway
#   UNAS_BASE_IMAGE=my/debian:12 deploy/make-base-image.sh
#
# It runs `debootstrap --variant=minbase bookworm` from the first bookworm
# mirror in this host's apt sources (UNAS_DEBIAN_MIRROR overrides), copies the
# host's apt sources in (with the keyrings they name and its Acquire:: validity
# and proxy settings, so the image's apt reaches exactly what the host's does),
# adds the policy-rc.d that keeps package scripts from starting services and
# the dpkg excludes of debian:bookworm-slim (no docs, man pages, locales), drops
# the package lists and downloaded .debs, and `docker import`s the tree.
# About 90 MB; 1 to 3 minutes, mostly downloading.
#
# Needs root (debootstrap) and a running Docker engine. Installs debootstrap
# with apt-get when it is missing. Exit 0 when the image exists afterwards.
# DOCKER names the client (default: docker).
set -euo pipefail

TAG=${UNAS_BASE_IMAGE:-debian:bookworm}
docker=${DOCKER:-docker}  # the client
force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-base-image: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
die() { echo "make-base-image: $*" >&2; exit 1; }

command -v "$docker" >/dev/null || die "docker is not installed (Debian: apt-get install docker.io)"
"$docker" info >/dev/null 2>&1 || die "the Docker engine is not reachable (is dockerd running? 'docker info' fails)"
if [ "$force" -eq 0 ] && "$docker" image inspect "$TAG" >/dev/null 2>&1; then
  echo "make-base-image: $TAG is present ($("$docker" image inspect -f '{{.Id}}' "$TAG" | cut -c1-19)); nothing to do"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
if ! command -v debootstrap >/dev/null; then
  echo "make-base-image: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; } \
    || die "cannot install debootstrap with apt-get"
fi

# The host's apt source files: one-line .list files and deb822 .sources files.
sources=()
[ -f /etc/apt/sources.list ] && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sources+=("$f")
done

# The mirror to bootstrap from: the first URI of a source that carries bookworm.
mirror=${UNAS_DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ ${#sources[@]} -gt 0 ]; then
  mirror=$(awk '
    /^[[:space:]]*#/ { next }
    /^deb[[:space:]]/ {  # deb [options] URI SUITE COMPONENTS
      i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == "bookworm") { print $i; exit }
    }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" && uri != "") { print uri; exit } }
    /^[[:space:]]*$/ { uri = "" }
  ' "${sources[@]}")
fi
mirror=${mirror:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)

work=$(mktemp -d /var/tmp/unas-base-image.XXXXXX)
root="$work/root"
cleanup() {
  # debootstrap mounts /proc and /sys in the tree; never delete through a mount.
  local m
  for m in $(awk -v r="$root" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if awk -v r="$root" 'index($2, r) == 1 {found = 1} END {exit !found}' /proc/mounts; then
    echo "make-base-image: $root still has mounts; left in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "make-base-image: debootstrap --variant=minbase bookworm from $mirror ($arch)"
start=$SECONDS
if ! debootstrap --variant=minbase --arch="$arch" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (log above)"
fi

if [ ${#sources[@]} -gt 0 ]; then
  rm -f "$root/etc/apt/sources.list"
  for f in "${sources[@]}"; do
    install -D -m 0644 "$f" "$root$f"
    # The keyrings a source names (Signed-By: / [signed-by=...]) come along.
    for key in $(grep -ohiE 'signed-by[:=][[:space:]]*[^] ]+' "$f" | sed -E 's/^[^:=]*[:=][[:space:]]*//'); do
      if [ -f "$key" ] && [ ! -e "$root$key" ]; then install -D -m 0644 "$key" "$root$key"; fi
    done
  done
  for key in /etc/apt/trusted.gpg.d/*; do
    [ -f "$key" ] && install -D -m 0644 "$key" "$root$key"
  done
fi
# Validity checks and proxies as the host has them (a snapshot mirror's
# Release files are past their Valid-Until date, for example).
apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' \
  >"$root/etc/apt/apt.conf.d/90unas-host" || true
[ -s "$root/etc/apt/apt.conf.d/90unas-host" ] || rm -f "$root/etc/apt/apt.conf.d/90unas-host"
# As in Docker's own Debian images: services are never started by apt in a
# build, no downloaded package is kept, and (as in debian:bookworm-slim)
# packages install without documentation, manual pages and translations,
# which makes every apt-get install in the Dockerfile faster and smaller.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF_DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF_DPKG
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' \
  >"$root/etc/apt/apt.conf.d/docker-clean"
find "$root/usr/share/doc" -type f ! -name copyright -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
  "$root/debootstrap" "$root"/tmp/* "$root"/var/log/*.log
: >"$root/etc/hostname"

echo "make-base-image: importing as $TAG"
tar --numeric-owner --xattrs -C "$root" -c . \
  | "$docker" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --message "debootstrap --variant=minbase bookworm from $mirror" - "$TAG" >/dev/null
size=$("$docker" image inspect -f '{{.Size}}' "$TAG")
echo "make-base-image: $TAG ready ($((size / 1000000)) MB) in $((SECONDS - start)) s"
