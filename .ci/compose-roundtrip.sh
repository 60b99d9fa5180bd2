#!/usr/bin/env bash
# The compose round trip: builds the deployment's images from offline-bootstrapped bases,
# starts docker-compose.yml (Redis, the bot, two workers) under a project name of its own,
# sends `sandbot exec` cells through the stack's Redis to its worker containers, checks the
# bot's /healthz, /metrics and playground page, and tears everything down, on failure too.
# Ends with one PASS or FAIL line; exits non-zero on failure.
#
#   bash .ci/compose-roundtrip.sh      # as root (or a docker group member), after npm ci
#
# Needs: a running Docker engine (bash .ci/services.sh), node_modules (the Node binary of the
# node base comes from there). Installs docker-compose from Debian when no compose is found.
# Reuses the sandbox image when present. Images are kept, so a second run is mostly cache.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

project="sandbot-ci-$$"
# The deployment label on every sandbox container the workers create: clean-up finds them
# by it, and other deployments' sweeps on this engine never touch them.
prefix="$project"
workers=2
node="$repo/node_modules/.bin/node"
work="$(mktemp -d "${TMPDIR:-/tmp}/$project.XXXXXX")"
log_file="$work/steps.log"
started=$SECONDS

say() { printf '[roundtrip +%3ss] %s\n' "$((SECONDS - started))" "$*"; }
failed_step=""
fail() {
  failed_step="$*"
  exit 1
}
# Runs a command with its output in the step log, shown only when it fails.
quiet() {
  if ! "$@" >"$log_file" 2>&1; then
    tail -n 40 "$log_file" >&2
    return 1
  fi
}

compose_cmd=()
find_compose() {
  if command -v docker-compose >/dev/null 2>&1; then
    compose_cmd=(docker-compose)
  elif docker compose version >/dev/null 2>&1; then
    compose_cmd=(docker compose)
  else
    say "installing docker-compose (Debian)"
    quiet apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive quiet apt-get install -y -qq docker-compose ||
      fail "apt-get install docker-compose failed"
    compose_cmd=(docker-compose)
  fi
}
compose() { "${compose_cmd[@]}" -p "$project" -f "$repo/docker-compose.yml" --env-file "$work/env" "$@"; }

diagnose() {
  echo "---- compose ps ----" >&2
  compose ps >&2 2>&1 || true
  echo "---- compose logs (last 30 lines per service) ----" >&2
  compose logs --no-color --tail=30 >&2 2>&1 || true
}

teardown() {
  local status=$?
  trap - EXIT INT TERM
  # Clean-up goes on past any error of its own.
  set +e
  if [ "$status" -ne 0 ] && [ -f "$work/env" ]; then diagnose; fi
  if [ -f "$work/env" ]; then
    say "tearing down $project"
    compose down -v --remove-orphans --timeout 30 >"$work/down.log" 2>&1 ||
      tail -n 20 "$work/down.log" >&2
  fi
  # Workers remove their sandboxes on SIGTERM; a worker that was killed leaves them behind.
  docker ps -aq --filter "label=sandbot.deployment=$prefix" | xargs -r docker rm -f >/dev/null
  docker volume ls -q --filter "label=sandbot.deployment=$prefix" | xargs -r docker volume rm -f >/dev/null
  local remaining
  remaining="$(
    docker ps -aq --filter "label=com.docker.compose.project=$project"
    docker network ls -q --filter "label=com.docker.compose.project=$project"
    docker volume ls -q --filter "label=com.docker.compose.project=$project"
    docker ps -aq --filter "label=sandbot.deployment=$prefix"
    docker volume ls -q --filter "label=sandbot.deployment=$prefix"
  )"
  rm -rf "$work"
  local elapsed=$((SECONDS - started))
  if [ -n "$remaining" ]; then
    echo "compose-roundtrip: FAIL: teardown left containers, networks or volumes behind: $remaining (${elapsed} s)"
    exit 1
  fi
  if [ "$status" -eq 0 ]; then
    echo "compose-roundtrip: PASS (${elapsed} s)"
  else
    echo "compose-roundtrip: FAIL: ${failed_step:-interrupted or unexpected error (exit $status)} (${elapsed} s)"
  fi
  exit "$status"
}
trap teardown EXIT
trap 'failed_step="interrupted by a signal"; exit 130' INT TERM

# Runs a small ES module with the repo's Node 24 (fetch, no curl needed on the host).
node_eval() { "$node" --input-type=module -e "$1" "${@:2}"; }

free_port() {
  node_eval "import { createServer } from 'node:net';
    const s = createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

# Prints the body of GET url (with the playground token, when one is given), or fails.
http_get() {
  node_eval "const [url, token] = process.argv.slice(1);
    const r = await fetch(url, { headers: token ? { 'x-sandbot-token': token } : {} });
    if (r.status !== 200) { console.error('GET ' + url + ': HTTP ' + r.status); process.exit(1); }
    process.stdout.write(await r.text());" "$@"
}

wait_healthy() {
  local deadline=$((SECONDS + 150)) ids states
  while :; do
    mapfile -t ids < <(compose ps -q)
    states="$(docker inspect --format '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "${ids[@]}")" ||
      fail "could not inspect the stack's containers"
    if ! grep -qv ' running healthy$' <<<"$states"; then
      [ "$(wc -l <<<"$states")" -eq $((workers + 2)) ] && return 0
    fi
    if grep -Eq ' (exited|dead) | unhealthy$' <<<"$states"; then
      echo "$states" >&2
      fail "a container stopped or turned unhealthy while starting"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$states" >&2
      fail "the stack was not healthy within 150 s"
    fi
    sleep 2
  done
}

# `sandbot exec` inside the bot container: the bot's REDIS_URL points at the stack's Redis,
# so the cell is queued there and a worker container runs it.
stack_exec() {
  compose exec -T bot node bin/sandbot.js exec --out /tmp/sandbot-out "$@"
}

# ---------------------------------------------------------------------------------------
docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable (run bash .ci/services.sh as root)"
[ -x "$node" ] || fail "node_modules is missing: run npm ci first"
find_compose
say "compose: $("${compose_cmd[@]}" version --short 2>/dev/null || echo unknown), project $project"

say "base images"
quiet bash sandbox-image/bootstrap-base.sh debian:trixie-slim || fail "could not provide debian:trixie-slim"
node_base="${NODE_BASE:-}"
if [ -z "$node_base" ]; then
  node_base=sandbot-node-base:24
  quiet bash .ci/images/bootstrap-node-base.sh "$node_base" || fail "could not build $node_base"
fi
sandbox_image=sandbot-sandbox:latest
if docker image inspect "$sandbox_image" >/dev/null 2>&1; then
  say "reusing $sandbox_image"
else
  say "building $sandbox_image"
  quiet bash sandbox-image/build.sh || fail "could not build $sandbox_image"
fi

bot_port="$(free_port)" || fail "could not find a free port"
# The bot serves the playground beside /healthz (ROUNDTRIP_PLAYGROUND=off leaves it out). In a
# container it listens on 0.0.0.0, so it needs a token.
playground="${ROUNDTRIP_PLAYGROUND:-on}"
playground_token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
docker_gid="$(stat -c %g /var/run/docker.sock)" || fail "no Docker socket at /var/run/docker.sock"
# The project's settings, instead of any .env in the checkout (which could hold real tokens).
cat >"$work/env" <<EOF
NODE_BASE=$node_base
DOCKER_GID=$docker_gid
REDIS_PREFIX=$prefix
SANDBOX_IMAGE=$sandbox_image
SANDBOX_POOL_SIZE=1
PUBLISH_HTTP_PORT=$bot_port
PLAYGROUND=$playground
PLAYGROUND_TOKEN=$playground_token
LOG_LEVEL=info
EOF
bot_url="http://127.0.0.1:$bot_port"

say "building images (redis, bot/worker)"
build_started=$SECONDS
quiet compose build redis || fail "building the redis image failed"
# bot and worker share one image; the second build is all cache.
quiet compose build bot worker || fail "building the sandbot image failed"
say "images built in $((SECONDS - build_started)) s: $(docker image inspect --format '{{.Size}}' sandbot:latest | awk '{printf "sandbot:latest %.0f MB", $1/1e6}')"

say "starting redis, bot and $workers workers"
quiet compose up -d --no-build --scale "worker=$workers" || fail "docker-compose up failed"
wait_healthy
say "all $((workers + 2)) containers healthy"

say "round trip: sandbot exec through the stack's Redis and workers"
out="$(stack_exec --code 'print(6*7)' 2>&1)" || {
  echo "$out" >&2
  fail "sandbot exec failed"
}
grep -qx '42' <<<"$out" || {
  echo "$out" >&2
  fail "sandbot exec did not print 42"
}
say "exec printed 42"
stack_exec --session roundtrip --code 'answer = 6*7' >/dev/null 2>&1 || fail "exec in a named session failed"
out="$(stack_exec --session roundtrip --code 'print(answer)' 2>&1)" || {
  echo "$out" >&2
  fail "the second cell of the named session failed"
}
grep -qx '42' <<<"$out" || {
  echo "$out" >&2
  fail "the named session did not keep its variable"
}
say "a named session kept its variable across two cells"

# Every job ran in a worker container: the workers' own counters add up to the three cells.
jobs=0
for index in $(seq 1 "$workers"); do
  metrics="$(compose exec -T --index="$index" worker node --input-type=module -e \
    "process.stdout.write(await (await fetch('http://127.0.0.1:9464/metrics')).text())")" ||
    fail "worker $index did not serve /metrics"
  count="$(awk '/^sandbot_jobs_total\{status="ok"\}/ {n += $2} END {print n + 0}' <<<"$metrics")"
  say "worker $index ran $count job(s)"
  jobs=$((jobs + count))
done
[ "$jobs" -eq 3 ] || fail "the workers report $jobs finished jobs, expected 3"

# Both replicas reached the host's Docker engine through the mounted socket, each under its
# own WORKER_ID (the container's host name).
owners="$(docker ps --filter "label=sandbot.deployment=$prefix" --format '{{.Label "sandbot.worker"}}' | sort -u | wc -l)"
[ "$owners" -eq "$workers" ] || fail "sandbox containers belong to $owners worker id(s), expected $workers"
say "sandbox containers on the host engine from $owners distinct workers"

health="$(http_get "$bot_url/healthz")" || fail "bot /healthz did not answer 200 on $bot_url"
say "bot /healthz: $(tr -d '\n' <<<"$health")"
http_get "$bot_url/metrics" | grep -q '^sandbot_bot_process_cpu_user_seconds_total' ||
  fail "bot /metrics lacks sandbot_bot_ metrics"
say "bot /metrics: Prometheus text with sandbot_bot_* metrics"

if [ "$playground" = on ]; then
  page="$(http_get "$bot_url/" "$playground_token")" || fail "the playground did not answer 200 on $bot_url/"
  grep -qi '<html' <<<"$page" || fail "the playground's page is not HTML"
  say "playground page served through the published port (with PLAYGROUND_TOKEN)"
fi

# The image holds production dependencies only: every adapter must still load.
compose exec -T bot node --input-type=module -e "
  for (const name of ['slack', 'discord', 'web']) await import('./adapters/' + name + '/index.ts');
" || fail "an adapter does not load in the image (a devDependency used at run time?)"
say "slack, discord and web adapters load in the image"
