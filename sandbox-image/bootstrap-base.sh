#!/usr/bin/env bash
# Makes the Debian base image the sandbox Dockerfile starts FROM, on machines that cannot
# reach a container registry: pull it when a registry answers, otherwise build it from
# Debian's archive with debootstrap and `docker import` it under the same tag.
set -euo pipefail

BASE_IMAGE="${1:-debian:trixie-slim}"
SUITE="${BASE_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[bootstrap-base] %s\n' "$*"; }

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "$BASE_IMAGE already present"
  exit 0
fi

if timeout 30 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
  log "pulled $BASE_IMAGE"
  exit 0
fi

log "no registry reachable; bootstrapping $SUITE from $MIRROR"
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
rootfs="$(mktemp -d /var/tmp/sandbot-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >/var/tmp/sandbot-debootstrap.log 2>&1 || {
  log "debootstrap failed; see /var/tmp/sandbot-debootstrap.log"
  tail -20 /var/tmp/sandbot-debootstrap.log >&2
  exit 1
}
# Keep the image close to the official slim one: no apt lists, no caches.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
log "imported $BASE_IMAGE"
