"""The ASGI application: `gunicorn app.main:app -k uvicorn.workers.UvicornWorker`."""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from . import __version__, quotes
from .settings import Settings, dist_dir_from_env
from .spa import mount_spa

log = logging.getLogger("app")
STARTED = time.time()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs in every worker after the fork. /health answers 503 until this has completed.
    settings = Settings.from_env()
    if not (settings.dist_dir / "index.html").is_file():
        raise RuntimeError(f"SPA not built: {settings.dist_dir / 'index.html'} is missing")
    app.state.settings = settings
    app.state.ready = True
    log.info("worker %d ready (secret keys loaded: %d)", os.getpid(), len(settings.secret_keys))
    yield
    app.state.ready = False


app = FastAPI(
    title="Market data",
    version=__version__,
    lifespan=lifespan,
    docs_url="/api/docs",
    openapi_url="/api/openapi.json",
    redoc_url=None,
)
app.state.ready = False


@app.get("/health")
async def health(request: Request) -> JSONResponse:
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse({"status": "ok"})


@app.get("/api/quotes", response_model=list[quotes.QuoteOut])
async def list_quotes() -> list[quotes.QuoteOut]:
    return quotes.snapshot()


@app.get("/api/info")
async def info(request: Request) -> dict[str, object]:
    settings: Settings = request.app.state.settings
    return {
        "version": settings.version,
        "environment": settings.environment,
        "python": platform.python_version(),
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uptimeSeconds": round(time.time() - STARTED, 3),
    }


@app.get("/api/config")
async def config(request: Request) -> dict[str, object]:
    """Which configuration is present: secret key *names* only, never values."""
    settings: Settings = request.app.state.settings
    return {"secretsId": settings.secrets_id, "secretKeys": sorted(settings.secret_keys)}


mount_spa(app, dist_dir_from_env())
