"""The worker's AWS clients, created once at start from one session (no network until the first call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

SERVICES = ("ecs", "secretsmanager", "sts", "logs", "sqs")


@dataclass(frozen=True)
class Clients:
    ecs: Any
    secretsmanager: Any
    sts: Any
    logs: Any
    sqs: Any

    def all(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SERVICES}


def create_clients(region: str, session: boto3.session.Session | None = None) -> Clients:
    session = session or boto3.session.Session()
    config = Config(
        region_name=region,
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=30,  # > SQS long-poll wait (20 s)
        user_agent_extra="ops-worker",
    )
    return Clients(
        ecs=session.client("ecs", config=config),
        secretsmanager=session.client("secretsmanager", config=config),
        sts=session.client("sts", config=config),
        logs=session.client("logs", config=config),
        sqs=session.client("sqs", config=config),
    )
