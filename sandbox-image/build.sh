#!/usr/bin/env bash
# Builds the sandbox image (tag: $SANDBOX_IMAGE, default sandbot-sandbox:latest). The base,
# debian:trixie-slim, is pulled when a registry answers and bootstrapped from Debian's archive
# otherwise (bootstrap-base.sh); the Dockerfile is the same either way.
# Idempotent: a second run takes a second or two (Docker's layer cache).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
image="${SANDBOX_IMAGE:-sandbot-sandbox:latest}"
# The image's version label is sandbot's (package.json), read without Node.
version="$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$here/../package.json" | head -n 1)"

fail() {
  echo "sandbox:build: $*" >&2
  exit 1
}

command -v docker >/dev/null 2>&1 || fail "the docker CLI is not installed"
if ! docker info >/dev/null 2>&1; then
  echo "sandbox:build: the Docker engine is not reachable; start it (or run bash .ci/services.sh as root)" >&2
  exit 69
fi
bash "$here/bootstrap-base.sh" debian:trixie-slim || fail "could not provide the base image debian:trixie-slim"

echo "[sandbox:build] building $image"
log="$(mktemp "${TMPDIR:-/tmp}/sandbot-build.XXXXXX")"
trap 'rm -f "$log"' EXIT
started=$SECONDS
# --force-rm: a failed step leaves no stopped container behind.
if ! docker build --force-rm --build-arg "SANDBOT_VERSION=${version:-unknown}" -t "$image" "$here" >"$log" 2>&1; then
  echo "sandbox:build: docker build failed; the end of its output:" >&2
  tail -n 40 "$log" >&2
  fail "building $image failed (full command: docker build -t $image $here)"
fi
size="$(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
echo "[sandbox:build] $image ${version:-unknown} ready ($size, $((SECONDS - started)) s)"
