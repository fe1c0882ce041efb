# API image: a Vue 3 SPA built with Node 20, served by a FastAPI app under Gunicorn + Uvicorn workers.
# Its Python environment goes builder → optimizer → runtime, like the worker's, every stage a BuildKit step
# (images.config.json: the `worker` pipeline with the API's optimizer profile): boto3/botocore trimmed to Secrets
# Manager, STS and the credential-chain services, pip/setuptools/wheel gone, hash-based bytecode.
#
# Build context: examples/   (this file lives outside it)
#   target `builder`  a venv at /opt/venv with the API's dependencies, installed WITHOUT bytecode.
#   stage `optimizer` @4pass/optimizer run on that venv in the Node image. It reads `.4pass/optimizer.cjs` (the
#                     optimizer bundled into one file) and `.4pass/profile.json` from the build context, which
#                     @4pass/builder adds (by hand: packages/optimizer/dist/stage/optimizer.cjs and the API's
#                     optimizer profile from images.config.json as profile.json, in examples/.4pass/).
#   target `runtime`  the API.
#
# Build args
#   PYTHON_IMAGE, NODE_IMAGE  base images (official names by default; @4pass/builder maps them to local stand-ins
#                             when the official ones cannot be pulled); the SPA and the optimizer run on NODE_IMAGE
#   PIP_INDEX_URL             Python package index, default https://pypi.org/simple
#   PY_SOURCES                drop (default): third-party packages as hash-based bytecode only; keep: with sources
#   Python dependencies: if the context holds wheels in wheelhouse/*.whl (scripts/bootstrap.sh vendors them when
#   PyPI is unreachable), they are installed from there only (--no-index); otherwise from PIP_INDEX_URL.
# Build secrets (optional; images.config.json "secrets"; never build args, never in a layer or the history):
#   npm_token      a token for the npm registry `npm ci` uses (from $NPM_TOKEN): handed to npm through the step's
#                  environment; the npmrc that names it holds only the reference ${NPM_TOKEN} and lives on a tmpfs
#   pip_index_url  the Python package index with its credentials (from $PIP_INDEX_URL), instead of PIP_INDEX_URL
#   By hand: docker build --secret id=npm_token,src=FILE --secret id=pip_index_url,src=FILE …
# Optional context directories (both exist in git, empty but for .gitkeep):
#   wheelhouse/*.whl  offline Python wheels (see above)
#   certs/*.crt       extra CA certificates npm must trust (a TLS-intercepting proxy); used by `npm ci` only
#
# Layer order: the Node stage depends only on web/; the venv layer only on the optimized environment (built from
# api/requirements.txt and the wheelhouse). Changing Python code under api/app invalidates just the last COPY layers
# of the runtime stage.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# --- stage 1: the SPA ----------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /web
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY web/package.json web/package-lock.json ./
# devDependencies (vite) are needed to build: include them despite NODE_ENV=production.
# Behind a TLS-intercepting proxy, put its CA certificate(s) in the context's certs/*.crt: npm then trusts them
# (NODE_EXTRA_CA_CERTS, added to Node's own roots for this step only; nothing lands in the image).
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=bind,source=certs,target=/tmp/extra-ca \
    --mount=type=secret,id=npm_token \
    --mount=type=tmpfs,target=/run/npm-auth \
    if ls /tmp/extra-ca/*.crt >/dev/null 2>&1; then \
      cat /tmp/extra-ca/*.crt > /tmp/extra-ca.pem && export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; \
    fi \
 && if [ -s /run/secrets/npm_token ]; then \
      NPM_TOKEN="$(cat /run/secrets/npm_token)" && export NPM_TOKEN \
      && registry="$(npm config get registry)" \
      && printf '%s:_authToken=${NPM_TOKEN}\n' "${registry#http*:}" > /run/npm-auth/npmrc \
      && export NPM_CONFIG_USERCONFIG=/run/npm-auth/npmrc; \
    fi \
 && npm ci --include=dev --no-audit --no-fund --loglevel=warn \
 && rm -f /tmp/extra-ca.pem
COPY web/ ./
RUN npx --no-install vite build \
 && test -f dist/index.html && ls dist/assets

# --- builder: dependencies into /opt/venv, no bytecode -------------------------------------------------------------
# `python3 -m venv` works on the official image (/usr/local/bin/python3) and on Debian's python3 (/usr/bin/python3).
FROM ${PYTHON_IMAGE} AS builder
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY api/requirements.txt /tmp/requirements.txt
RUN --mount=type=bind,source=wheelhouse,target=/wheelhouse \
    --mount=type=secret,id=pip_index_url \
    python3 -m venv /opt/venv \
 && if ls /wheelhouse/*.whl >/dev/null 2>&1; then \
      echo "installing from the wheelhouse in the build context (no index)"; \
      set -- --no-index --find-links /wheelhouse; \
    elif [ -s /run/secrets/pip_index_url ]; then \
      echo "installing from the index of the build secret pip_index_url"; \
      PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)" && export PIP_INDEX_URL; \
      set --; \
    else \
      echo "installing from ${PIP_INDEX_URL}"; \
      set -- --index-url "${PIP_INDEX_URL}"; \
    fi \
 && /opt/venv/bin/python -m pip install --no-compile "$@" -r /tmp/requirements.txt \
 && /opt/venv/bin/python -c "import fastapi, uvicorn, gunicorn, boto3" \
 && find /opt/venv -name __pycache__ -type d -prune -exec rm -rf {} + \
 && test -z "$(find /opt/venv -name '*.pyc' -print -quit)" \
 && rm /tmp/requirements.txt

# --- optimizer: @4pass/optimizer on the builder's venv -----------------------------------------------------------
FROM ${NODE_IMAGE} AS optimizer
COPY --from=builder /opt/venv /opt/venv
RUN --mount=type=bind,source=.4pass,target=/opt/4pass \
    node /opt/4pass/optimizer.cjs optimize /opt/venv /opt/4pass/profile.json

# --- compile-venv: hash-based bytecode for the optimized environment ----------------------------------------------
# The same rule as the worker's (dockerfiles/worker.Dockerfile): PY_SOURCES=drop ships third-party packages as
# bytecode only; the app below keeps its sources. `unchecked-hash`: valid whatever the mtimes, never recompiled, so
# a read-only root filesystem costs nothing at start.
FROM ${PYTHON_IMAGE} AS compile-venv
ARG PY_SOURCES=drop
COPY --from=optimizer /opt/venv /opt/venv
RUN /opt/venv/bin/python -c "import sys; assert sys.prefix == '/opt/venv', sys.prefix" \
 && site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && case "${PY_SOURCES}" in \
      keep) /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv ;; \
      drop) /opt/venv/bin/python -X no_debug_ranges -m compileall -q -j 0 -b --invalidation-mode unchecked-hash "$site" \
            && find "$site" -name '*.py' -type f -delete \
            && find "$site" -name __pycache__ -type d -prune -exec rm -rf {} + \
            && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv ;; \
      *) echo "PY_SOURCES must be keep or drop, got '${PY_SOURCES}'" >&2; exit 2 ;; \
    esac

# --- runtime -------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# curl for the HEALTHCHECK, gosu for the root → appuser hand-over in entrypoint.sh.
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl gosu ca-certificates >/dev/null \
 && gosu nobody true
# (the apt lists and archives live in the cache mounts, not in the image)

RUN groupadd --system --gid 10001 appuser \
 && useradd --system --uid 10001 --gid appuser --home-dir /app --no-create-home --shell /usr/sbin/nologin appuser

# The optimized environment: one layer, exactly its final bytes, rebuilt only when the environment changes.
COPY --from=compile-venv /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WEB_CONCURRENCY=16 \
    PORT=8000

# The SPA first (it changes less often than the Python code), then the app, byte-compiled at build time (hash-based)
# so a read-only root filesystem costs nothing at start.
COPY --from=web /web/dist /app/dist
COPY --chmod=0755 api/entrypoint.sh /usr/local/bin/entrypoint.sh
COPY api/app /app/app
RUN python -m compileall -q --invalidation-mode checked-hash /app/app

EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${PORT:-8000}/health" || exit 1
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
