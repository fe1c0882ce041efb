"""Message models: the SQS envelope and the jobs it carries (a discriminated union on `type`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    job_id: str = Field(alias="jobId", min_length=1, max_length=128)
    requested_by: str = Field(alias="requestedBy", default="unknown")
    requested_at: datetime | None = Field(alias="requestedAt", default=None)


class ScaleService(_Job):
    """Set an ECS service's desired count."""

    type: Literal["scale_service"]
    cluster: str = Field(min_length=1)
    service: str = Field(min_length=1)
    desired_count: int = Field(alias="desiredCount", ge=0, le=1000)


class RestartService(_Job):
    """Force a new deployment of an ECS service (rolling restart)."""

    type: Literal["restart_service"]
    cluster: str = Field(min_length=1)
    service: str = Field(min_length=1)


class RunTask(_Job):
    """Run a one-off task (e.g. a migration) from a task definition, with optional command override."""

    type: Literal["run_task"]
    cluster: str = Field(min_length=1)
    task_definition: str = Field(alias="taskDefinition", min_length=1)
    container: str | None = None
    command: list[str] | None = None
    subnets: list[str] = Field(default_factory=list)
    security_groups: list[str] = Field(alias="securityGroups", default_factory=list)

    @field_validator("command")
    @classmethod
    def _command_needs_container(cls, value: list[str] | None, info):  # type: ignore[no-untyped-def]
        if value is not None and not value:
            raise ValueError("command, when given, must not be empty")
        return value


class CheckSecretRotation(_Job):
    """Report when a secret was last rotated (never reads its value)."""

    type: Literal["check_secret_rotation"]
    secret_id: str = Field(alias="secretId", min_length=1)
    max_age_days: int = Field(alias="maxAgeDays", default=90, ge=1)


Job = Annotated[ScaleService | RestartService | RunTask | CheckSecretRotation, Field(discriminator="type")]
JOB_ADAPTER: TypeAdapter[Job] = TypeAdapter(Job)


class SqsMessage(BaseModel):
    """One message of an SQS ReceiveMessage response (the fields the worker uses)."""

    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(alias="MessageId")
    receipt_handle: str = Field(alias="ReceiptHandle")
    body: str = Field(alias="Body")
    attributes: dict[str, str] = Field(alias="Attributes", default_factory=dict)

    @property
    def receive_count(self) -> int:
        return int(self.attributes.get("ApproximateReceiveCount", "1"))

    def job(self) -> Job:
        return JOB_ADAPTER.validate_python(json.loads(self.body))
