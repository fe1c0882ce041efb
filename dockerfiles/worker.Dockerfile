# Worker image: builder → optimizer → runtime, every stage a BuildKit step (cached like any other, carried to a fresh
# engine by the registry cache, run by a remote engine where the data is).
#
# Build context: examples/   (this file lives outside it)
#
#   builder          a venv at /opt/venv with the worker's dependencies, installed WITHOUT bytecode.
#   optimizer        @4pass/optimizer run on that venv in a Node image: pip/setuptools/wheel/pygments removed, botocore
#                    trimmed to the kept services, tests/docs stripped, RECORD rewritten.
#   compile-venv     the optimized venv byte-compiled (hash-based .pyc).
#   compile-app      the worker code, byte-compiled.
#   runtime          the slim runtime: the whole base image, the compiled venv and the worker.
#   rootfs           the tree the minimal runtime is cut from (base image, runtime user, optimized venv, worker).
#   closure          @4pass/optimizer's closure of rootfs: the interpreter, the shared libraries it and every extension
#                    module load, the standard library minus what a service never imports, CA bundle, the user's lines
#                    of /etc/passwd and /etc/group, an empty /tmp, and what scanners read: a status.d record and the
#                    copyright file of each Debian package that owns a kept file, /etc/os-release.
#   compile-minimal  that tree with its standard library byte-compiled.
#   minimal          the minimal runtime, FROM scratch. No shell, no package manager (only dpkg's records), no pip.
#
# The optimizer steps read `.4pass/` in the build context: `optimizer.cjs` (@4pass/optimizer bundled into one file:
# its bytes are its cache key) and `profile.json` (the image's optimizer profile). @4pass/builder adds both to the
# context without touching the source tree; for a `docker build` by hand, copy packages/optimizer/dist/stage/
# optimizer.cjs (after `pnpm build`) and the image's optimizer profile as JSON (images.config.json) there yourself.
#
# Build args
#   PYTHON_IMAGE   base image (official name by default; @4pass/builder maps it to a local stand-in if needed).
#                  builder and runtime MUST use the same base: the venv's bin/python is a symlink to the base's
#                  python3 (/usr/local/bin on the official image, /usr/bin on Debian's).
#   NODE_IMAGE     the image the optimizer runs in (Node 20 or later).
#   PIP_INDEX_URL  Python package index, default https://pypi.org/simple. If the context holds wheels in
#                  wheelhouse/*.whl (scripts/bootstrap.sh vendors them when PyPI is unreachable), they are used
#                  instead (--no-index).
# Build secret (optional; images.config.json "secrets"; never a build arg, never in a layer or the history):
#   pip_index_url  the package index with its credentials (from $PIP_INDEX_URL), used instead of the build arg:
#                  pip reads it from this one step's environment (and masks the password in what it prints).
#
# Bytecode: the builder installs with `pip --no-compile` (NOT the PIP_NO_COMPILE=1 environment variable: pip reads
# `--no-*` options from the environment inverted, so PIP_NO_COMPILE=1 means "compile"; see pypa/pip#2820) and
# deletes any __pycache__ that venv creation left. The runtime compiles everything that was kept, once, with
# hash-based .pyc (`unchecked-hash`): valid whatever the files' mtimes, never re-checked against the source, so
# start-up never recompiles and never tries to write. PYTHONDONTWRITEBYTECODE is deliberately NOT set: with
# complete .pyc there is nothing to write, and a missing .pyc would show up as an attempted write in
# examples/worker/tests/in_image_check.py instead of being silently recompiled on every start.
#
# Layers: the optimized venv reaches the runtime as ONE layer holding exactly the final bytes (.py + .pyc),
# because compilation happens in the `compile-venv` stage and the runtime only copies its result. The worker code
# is compiled in its own stage, so a code change rebuilds only that small layer.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# --- builder: dependencies into /opt/venv, no bytecode --------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY worker/requirements.txt /tmp/requirements.txt
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
 && /opt/venv/bin/python -m pip install --no-compile "$@" --upgrade pip setuptools wheel \
 && /opt/venv/bin/python -m pip install --no-compile "$@" -r /tmp/requirements.txt \
 && find /opt/venv -name __pycache__ -type d -prune -exec rm -rf {} + \
 && test -z "$(find /opt/venv -name '*.pyc' -print -quit)" \
 && rm /tmp/requirements.txt

# --- optimizer: @4pass/optimizer on the builder's venv -----------------------------------------------------------
FROM ${NODE_IMAGE} AS optimizer
COPY --from=builder /opt/venv /opt/venv
RUN --mount=type=bind,source=.4pass,target=/opt/4pass \
    node /opt/4pass/optimizer.cjs optimize /opt/venv /opt/4pass/profile.json

# --- compile-venv: hash-based bytecode for the optimized environment ----------------------------------------------
# PY_SOURCES=drop (default): third-party packages ship as bytecode only ("sourceless": `compileall -b` writes each
# .pyc beside its .py, then the .py goes; -X no_debug_ranges leaves out the column tables that only serve source
# carets). Saves ~6 MB of the ~18 MB environment; tracebacks through library frames keep file and line but show no
# source text. The worker's own code (compile-app) always keeps its sources. PY_SOURCES=keep keeps them everywhere.
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

# --- compile-app: the worker code, compiled the same way ----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS compile-app
COPY worker/worker /app/worker
RUN python3 -m compileall -q --invalidation-mode unchecked-hash /app/worker

# --- runtime: the slim runtime (the whole base image) -----------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 worker \
 && useradd --system --uid 10001 --gid worker --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin worker
# Root-owned and read-only for the worker user: the code cannot be modified at run time.
COPY --from=compile-venv /opt/venv /opt/venv
COPY --from=compile-app /app /app
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["python", "-m", "worker"]

# --- rootfs: what the minimal runtime is cut from (read by the closure stage, never run) ---------------------------
# The venv goes in with its sources: the closure checks its imports against the standard library it keeps.
FROM ${PYTHON_IMAGE} AS rootfs
RUN groupadd --system --gid 10001 worker \
 && useradd --system --uid 10001 --gid worker --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin worker
COPY --from=optimizer /opt/venv /opt/venv
COPY worker/worker /app/worker

# --- closure: the profile's closure of rootfs, unpacked under /closure --------------------------------------------
FROM ${NODE_IMAGE} AS closure
RUN --mount=type=bind,from=rootfs,target=/rootfs \
    --mount=type=bind,source=.4pass,target=/opt/4pass \
    mkdir /closure \
 && node /opt/4pass/optimizer.cjs closure /rootfs /opt/4pass/profile.json > /tmp/closure.tar \
 && tar -x -p --numeric-owner -f /tmp/closure.tar -C /closure \
 && rm /tmp/closure.tar

# --- compile-minimal: bytecode for the closure's standard library ------------------------------------------------------
# The closure's tree holds the interpreter, its libraries, the standard library (sources, no bytecode) and system files;
# the venv and the worker come from their own cached stages. The base image's own interpreter (the same binary)
# compiles the kept standard library by the venv's rule: PY_SOURCES=drop ships it sourceless; the sources it drops
# leave the `.md5sums` of the packages' status.d records (what scanners read), which list only files the image has.
# /tmp is made 1777 here because there is no shell in the final stage.
FROM ${PYTHON_IMAGE} AS compile-minimal
ARG PY_SOURCES=drop
COPY --from=closure /closure/ /rootfs/
RUN stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')" \
 && test -f "/rootfs${stdlib}/os.py" \
 && case "${PY_SOURCES}" in \
      keep) python3 -m compileall -q -j 0 --invalidation-mode unchecked-hash -s /rootfs -p / "/rootfs${stdlib}" ;; \
      drop) python3 -X no_debug_ranges -m compileall -q -j 0 -b --invalidation-mode unchecked-hash -s /rootfs -p / \
              "/rootfs${stdlib}" \
            && find "/rootfs${stdlib}" -name '*.py' \( -type f -o -type l \) -delete ;; \
      *) echo "PY_SOURCES must be keep or drop, got '${PY_SOURCES}'" >&2; exit 2 ;; \
    esac \
 && for sums in /rootfs/var/lib/dpkg/status.d/*.md5sums; do \
      [ -e "$sums" ] || continue; \
      while IFS= read -r line; do \
        if [ -e "/rootfs/${line#*  }" ]; then printf '%s\n' "$line"; fi; \
      done < "$sums" > "$sums.kept" && mv "$sums.kept" "$sums"; \
    done \
 && mkdir -p /rootfs/tmp && chmod 1777 /rootfs/tmp

# --- minimal: the minimal runtime -------------------------------------------------------------------------------------
FROM scratch AS minimal
COPY --from=compile-minimal /rootfs/ /
COPY --from=compile-venv /opt/venv /opt/venv
COPY --from=compile-app /app /app
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    VIRTUAL_ENV=/opt/venv \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/opt/venv/bin/python", "-m", "worker"]
