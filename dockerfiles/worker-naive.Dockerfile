# Worker image as a team writes it first (the `naive` and `seed-before` rows of `pnpm bench worker`):
# one stage, `pip install -r requirements.txt`, app copied, non-root user. Build context: examples/.
#
#   naive:        no build args
#   seed-before:  --build-arg PIP_NO_COMPILE=1 --build-arg PYTHONDONTWRITEBYTECODE=1
#                 (the common size trick: no .pyc in the image, so every start recompiles every module)
#
# PIP_NO_COMPILE here means what its users intend, "install without bytecode": any non-empty value adds
# `--no-compile`. (Exported as-is, pip would read PIP_NO_COMPILE=1 as compile=True: pip maps environment values
# onto `--no-*` options inverted, pypa/pip#2820. The variable is therefore unset for pip itself.)
# PYTHONDONTWRITEBYTECODE becomes the image's environment (empty = unset for Python).
#
# A venv rather than the system interpreter so the same file works on the official image and on Debian's python3
# (which refuses system-wide pip installs, PEP 668).

ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_NO_COMPILE
ARG PYTHONDONTWRITEBYTECODE=
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=${PYTHONDONTWRITEBYTECODE}
WORKDIR /app
COPY worker/requirements.txt .
RUN --mount=type=bind,source=wheelhouse,target=/wheelhouse \
    compile_flag="${PIP_NO_COMPILE:+--no-compile}"; unset PIP_NO_COMPILE; \
    if ls /wheelhouse/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /wheelhouse; \
    else set -- --index-url "${PIP_INDEX_URL}"; fi \
 && python3 -m venv /opt/venv \
 && if [ -n "$compile_flag" ]; then find /opt/venv -name __pycache__ -type d -prune -exec rm -rf {} +; fi \
 && pip install $compile_flag "$@" --upgrade pip setuptools wheel \
 && pip install $compile_flag "$@" -r requirements.txt
COPY worker/worker ./worker
RUN useradd --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin worker
USER 10001
ENTRYPOINT ["python", "-m", "worker"]
