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

ensure_docker
ensure_redis
