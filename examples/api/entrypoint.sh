#!/bin/sh
# API container entrypoint.
#
#   1. Drop root: when started as root, hand over to `appuser` with gosu (the secret is fetched without root too).
#   2. When APP_SECRETS_ID is set, app.load_secrets fetches that Secrets Manager secret (a JSON object), adds its
#      keys to the environment without printing any value, and execs the next step; if it cannot, it prints one
#      line naming the secret id and the error class and the container exits non-zero (78) before serving.
#   3. exec Gunicorn with Uvicorn workers. Every step execs the next, so PID 1 ends as gunicorn, running as appuser,
#      and receives the orchestrator's SIGTERM directly.
#
# Environment: WEB_CONCURRENCY (workers, default 16), PORT (default 8000), GUNICORN_TIMEOUT (default 30),
# APP_SECRETS_ID, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_REGION. Arguments, if any, replace the gunicorn command.
# Works with a read-only root filesystem: Gunicorn's heartbeat files live in /dev/shm, no control socket is
# created, and no bytecode is written (it was compiled at build time).
set -eu

if [ "$#" -eq 0 ]; then
  set -- gunicorn app.main:app \
    --worker-class uvicorn.workers.UvicornWorker \
    --workers "${WEB_CONCURRENCY:-16}" \
    --preload \
    --bind "0.0.0.0:${PORT:-8000}" \
    --timeout "${GUNICORN_TIMEOUT:-30}" \
    --graceful-timeout 20 \
    --worker-tmp-dir /dev/shm \
    --no-control-socket \
    --access-logfile - \
    --error-logfile -
fi

if [ "$(id -u)" = 0 ]; then
  exec gosu appuser python -m app.load_secrets -- "$@"
fi
exec python -m app.load_secrets -- "$@"
