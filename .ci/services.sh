#!/usr/bin/env bash
# Installs (apt) and starts what the test suites need: a Docker engine and Redis.
# Idempotent: whatever is already installed or running is reused.
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_docker() {
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io"
    apt_install docker.io
  fi
  if docker info >/dev/null 2>&1; then
    log "docker engine already running"
    return
  fi
  log "starting dockerd (log: /var/log/sandbot-dockerd.log)"
  nohup dockerd >/var/log/sandbot-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      log "docker engine up: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
      return
    fi
    sleep 0.5
  done
  log "dockerd did not come up; last log lines:"
  tail -20 /var/log/sandbot-dockerd.log >&2
  exit 1
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server"
    apt_install redis-server
  fi
  if redis-cli -p 6379 ping >/dev/null 2>&1; then
    log "redis already running on 6379"
    return
  fi
  log "starting redis on 127.0.0.1:6379"
  # noeviction: queue keys must never be evicted (the worker refuses to start otherwise).
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --maxmemory-policy noeviction --logfile /var/log/sandbot-redis.log
  for _ in $(seq 1 40); do
    redis-cli -p 6379 ping >/dev/null 2>&1 && return
    sleep 0.25
  done
  log "redis did not come up"
  exit 1
}

# gVisor (SANDBOX_RUNTIME=runsc): Debian's runsc, registered as a Docker runtime. The
# runtime list is reloadable, so a running dockerd picks it up on SIGHUP.
ensure_runsc() {
  if ! command -v runsc >/dev/null 2>&1; then
    log "installing runsc (gVisor)"
    apt_install runsc
  fi
  if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; then
    return
  fi
  log "registering runsc with dockerd"
  command -v python3 >/dev/null 2>&1 || apt_install python3
  mkdir -p /etc/docker
  python3 - <<'PY'
import json, os
path = "/etc/docker/daemon.json"
config = json.load(open(path)) if os.path.exists(path) and os.path.getsize(path) > 0 else {}
config.setdefault("runtimes", {})["runsc"] = {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}
json.dump(config, open(path, "w"), indent=2)
PY
  pkill -HUP -x dockerd || true
  for _ in $(seq 1 20); do
    docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"' && return
    sleep 0.5
  done
  log "warning: runsc did not register; gVisor tests will fail"
}

# The playground's browser tests drive Debian's Chromium (never a downloaded browser).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  log "installing chromium"
  apt_install chromium
}

ensure_docker
ensure_runsc
ensure_redis
ensure_chromium
