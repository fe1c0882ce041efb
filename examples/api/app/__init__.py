"""Market-data API example: a FastAPI service that serves a Vue SPA, run by Gunicorn with Uvicorn workers."""

__version__ = "1.4.0"
