"""Serving the built Vue SPA: hashed assets with long-lived caching, everything else falls back to index.html."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

IMMUTABLE = "public, max-age=31536000, immutable"


class HashedAssets(StaticFiles):
    """`/assets/*` files carry a content hash in their names, so clients may cache them forever."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def mount_spa(app: FastAPI, dist_dir: Path) -> None:
    """Routes for the SPA. Call after every API route so that the fallback comes last."""
    dist = dist_dir.resolve()
    index = dist / "index.html"
    app.mount("/assets", HashedAssets(directory=dist / "assets", check_dir=False), name="assets")

    @app.get("/", include_in_schema=False)
    async def spa_index() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    @app.get("/{path:path}", include_in_schema=False)
    async def spa_fallback(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail=f"no API route /{path}")
        candidate = (dist / path).resolve()
        # Top-level public files (favicon.svg, robots.txt); never outside dist/.
        if candidate.is_relative_to(dist) and candidate.is_file():
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
