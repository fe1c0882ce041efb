"""Runtime settings, read once from the environment at start-up.

Secret *values* never pass through this module: `app.load_secrets` puts them into the process environment
before Gunicorn starts and records only their key names in `APP_SECRET_KEYS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import __version__


class SettingsError(RuntimeError):
    """The environment does not describe a runnable service."""


def dist_dir_from_env(env: dict[str, str] | None = None) -> Path:
    """Where the built SPA lives: `APP_DIST_DIR`, else `dist/` next to the `app` package."""
    env = os.environ if env is None else env
    return Path(env.get("APP_DIST_DIR") or Path(__file__).resolve().parent.parent / "dist")


@dataclass(frozen=True)
class Settings:
    version: str
    environment: str
    dist_dir: Path
    secrets_id: str | None
    secret_keys: tuple[str, ...]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        dist_dir = dist_dir_from_env(env)
        secrets_id = env.get("APP_SECRETS_ID") or None
        keys = tuple(k for k in env.get("APP_SECRET_KEYS", "").split(",") if k)
        if secrets_id and "APP_SECRET_KEYS" not in env:
            # The entrypoint loads the secret before Gunicorn starts; if it did not run, refuse to report ready.
            raise SettingsError(
                f"APP_SECRETS_ID={secrets_id!r} is set but the secret was not loaded (run via entrypoint.sh)"
            )
        missing = [k for k in keys if k not in env]
        if missing:
            raise SettingsError(f"secret keys missing from the environment: {', '.join(missing)}")
        return cls(
            version=env.get("APP_VERSION", __version__),
            environment=env.get("APP_ENV", "production"),
            dist_dir=dist_dir,
            secrets_id=secrets_id,
            secret_keys=keys,
        )
