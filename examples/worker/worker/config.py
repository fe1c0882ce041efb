"""Settings from the environment (validated with pydantic; every problem reported at once)."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field, ValidationError, field_validator


class SettingsError(RuntimeError):
    pass


class Settings(BaseModel):
    """`WORKER_*` environment variables. The region comes from AWS_REGION / AWS_DEFAULT_REGION."""

    region: str = Field(default="us-east-1", min_length=1)
    queue_url: str | None = None
    log_group: str = "/ecs/ops-worker"
    wait_seconds: int = Field(default=20, ge=0, le=20)
    batch_size: int = Field(default=10, ge=1, le=10)
    visibility_timeout: int = Field(default=120, ge=0, le=43200)
    max_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("queue_url")
    @classmethod
    def _queue_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")
        return value

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        raw: dict[str, str] = {}
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            raw["region"] = region
        for field in ("queue_url", "log_group", "wait_seconds", "batch_size", "visibility_timeout", "max_attempts"):
            value = env.get(f"WORKER_{field.upper()}")
            if value:
                raw[field] = value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"WORKER_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise SettingsError(f"invalid worker settings: {problems}") from None
