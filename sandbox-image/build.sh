#!/usr/bin/env bash
# Builds the sandbox image. The base (debian:trixie-slim) is pulled when a registry answers
# and bootstrapped from Debian's archive otherwise; the Dockerfile is the same either way.
# Idempotent: a second run is fast (Docker's layer cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
image="${SANDBOX_IMAGE:-sandbot-sandbox:latest}"

if ! docker info >/dev/null 2>&1; then
  echo "sandbox:build: the Docker engine is not reachable; start it (or run bash .ci/services.sh as root)" >&2
  exit 69
fi
bash "$here/bootstrap-base.sh" debian:trixie-slim
echo "[sandbox:build] building $image"
if ! docker build --quiet -t "$image" "$here" >/dev/null; then
  echo "sandbox:build: docker build failed; run: docker build -t $image $here" >&2
  exit 1
fi
echo "[sandbox:build] $image ready ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
