#!/usr/bin/env bash
# Makes a Node 24 base image for the bot/worker Dockerfile on machines that cannot reach a
# container registry (where `FROM node:24-trixie-slim` fails). It is debian:trixie-slim plus
# the Node binary that the `node` npm package (a devDependency, so `npm ci` first) ships, plus
# npm, laid out like the official image: /usr/local/bin/node, npm in
# /usr/local/lib/node_modules, a `node` user with uid 1000.
#
#   bash .ci/images/bootstrap-node-base.sh [TAG]          # default TAG: sandbot-node-base:24
#   NODE_BASE=sandbot-node-base:24 docker-compose build
#
# Where the host reaches the npm registry through a TLS-inspecting proxy, the CA bundle the
# host trusts for it (NODE_BASE_CA_FILE, else NODE_EXTRA_CA_CERTS, else npm's cafile) goes in
# as /etc/ssl/certs/sandbot-extra-ca.pem with NODE_EXTRA_CA_CERTS pointing at it, so `npm ci`
# in the build (and the bot's HTTPS calls) trust what the host trusts, no more.
#
# It does not tag the result as node:24-trixie-slim on purpose: that name belongs to the
# official image, and a local impostor would silently stand in for it once a registry is
# reachable. Builds select it with the NODE_BASE build argument instead.
# Idempotent: when TAG already holds the same Node and npm versions it returns at once.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
tag="${1:-sandbot-node-base:24}"
debian_base="${DEBIAN_BASE:-debian:trixie-slim}"

log() { printf '[node-base] %s\n' "$*"; }
fail() {
  printf '[node-base] error: %s\n' "$*" >&2
  exit 1
}

# The `node` package puts its binary behind node_modules/.bin/node; asking that Node for its
# own path finds the real executable whatever wrapper or symlink sits in front of it.
launcher="$repo/node_modules/.bin/node"
[ -x "$launcher" ] || fail "$launcher is missing; run \`npm ci\` first (the node package is a devDependency)"
node_bin="$("$launcher" -e 'process.stdout.write(process.execPath)')"
[ "$(head -c 4 "$node_bin" | tail -c 3)" = ELF ] || fail "$node_bin is not an ELF executable"
node_version="$("$node_bin" -p 'process.versions.node')"
case "$node_version" in
  24.*) ;;
  *) fail "the node package ships Node $node_version; this image wants Node 24" ;;
esac
# The npm the project is installed with here (npm ci runs in the Dockerfile's deps stage).
npm_version="${NPM_VERSION:-$(npm --version)}"

ca_file="${NODE_BASE_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}"
if [ -z "$ca_file" ]; then
  ca_file="$(npm config get cafile 2>/dev/null || true)"
  case "$ca_file" in null | undefined) ca_file="" ;; esac
fi
[ "$ca_file" = none ] && ca_file=""
if [ -n "$ca_file" ] && [ ! -r "$ca_file" ]; then
  fail "the CA file $ca_file is not readable (set NODE_BASE_CA_FILE to another, or to none)"
fi
ca_sum="none"
[ -n "$ca_file" ] && ca_sum="$(sha256sum "$ca_file" | cut -c1-16)"

want="$node_version $npm_version $ca_sum"
have="$(docker image inspect --format '{{index .Config.Labels "org.sandbot.node-version"}} {{index .Config.Labels "org.sandbot.npm-version"}} {{index .Config.Labels "org.sandbot.extra-ca"}}' "$tag" 2>/dev/null || true)"
if [ "$have" = "$want" ]; then
  log "$tag already holds Node $node_version and npm $npm_version"
  exit 0
fi

docker image inspect "$debian_base" >/dev/null 2>&1 ||
  bash "$repo/sandbox-image/bootstrap-base.sh" "$debian_base" ||
  fail "could not provide $debian_base"

context="$(mktemp -d "${TMPDIR:-/tmp}/sandbot-node-base.XXXXXX")"
build_log="$(mktemp "${TMPDIR:-/tmp}/sandbot-node-base-build.XXXXXX")"
trap 'rm -rf "$context" "$build_log"' EXIT
cp "$node_bin" "$context/node"
# npm through its registry client (npm's cache makes a second run offline). Its tarball
# carries all of npm's own dependencies.
(cd "$context" && npm pack "npm@$npm_version" --silent --loglevel=error >/dev/null) ||
  fail "npm pack npm@$npm_version failed (is the npm registry reachable?)"
mkdir "$context/npm" "$context/ca"
# An empty ca/ folder when there is no extra CA: the Dockerfile copies it either way.
[ -n "$ca_file" ] && cp "$ca_file" "$context/ca/sandbot-extra-ca.pem"
tar -xzf "$context/npm-$npm_version.tgz" -C "$context/npm" --strip-components=1
rm "$context/npm-$npm_version.tgz"

cat >"$context/Dockerfile" <<'DOCKERFILE'
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
ARG NODE_VERSION
ARG NPM_VERSION
ARG EXTRA_CA
LABEL org.sandbot.node-version=${NODE_VERSION} org.sandbot.npm-version=${NPM_VERSION} \
      org.sandbot.extra-ca=${EXTRA_CA}
ENV NODE_VERSION=${NODE_VERSION}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca/ /etc/ssl/certs/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && node --version && npm --version
CMD ["node"]
DOCKERFILE
if [ -n "$ca_file" ]; then
  echo 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/sandbot-extra-ca.pem' >>"$context/Dockerfile"
fi

log "building $tag (Node $node_version from $node_bin, npm $npm_version, on $debian_base)"
started=$SECONDS
if ! docker build --force-rm -t "$tag" \
  --build-arg "DEBIAN_BASE=$debian_base" \
  --build-arg "NODE_VERSION=$node_version" \
  --build-arg "NPM_VERSION=$npm_version" \
  --build-arg "EXTRA_CA=$ca_sum" \
  "$context" >"$build_log" 2>&1; then
  tail -n 30 "$build_log" >&2
  fail "docker build of $tag failed"
fi
size="$(docker image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
log "$tag ready ($size, $((SECONDS - started)) s, extra CA: ${ca_file:-none}); build with NODE_BASE=$tag"
