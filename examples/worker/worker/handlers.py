"""What each job does, expressed as AWS calls. Handlers return a small JSON-able result for the audit log."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from .clients import Clients
from .models import CheckSecretRotation, Job, RestartService, RunTask, ScaleService


class JobFailed(RuntimeError):
    """The job is well-formed but could not be applied; the message is retried until max attempts."""


def handle(job: Job, clients: Clients) -> dict[str, Any]:
    if isinstance(job, ScaleService):
        response = clients.ecs.update_service(cluster=job.cluster, service=job.service, desiredCount=job.desired_count)
        service = response["service"]
        return {"service": service["serviceName"], "desiredCount": service["desiredCount"]}
    if isinstance(job, RestartService):
        response = clients.ecs.update_service(cluster=job.cluster, service=job.service, forceNewDeployment=True)
        deployments = response["service"].get("deployments", [])
        return {"service": response["service"]["serviceName"], "deployments": len(deployments)}
    if isinstance(job, RunTask):
        params: dict[str, Any] = {"cluster": job.cluster, "taskDefinition": job.task_definition, "count": 1}
        if job.subnets:
            params["launchType"] = "FARGATE"
            params["networkConfiguration"] = {
                "awsvpcConfiguration": {"subnets": job.subnets, "securityGroups": job.security_groups}
            }
        if job.command:
            if not job.container:
                raise JobFailed("run_task: a command override needs the container name")
            params["overrides"] = {"containerOverrides": [{"name": job.container, "command": job.command}]}
        response = clients.ecs.run_task(**params)
        if response.get("failures"):
            reasons = ", ".join(f.get("reason", "?") for f in response["failures"])
            raise JobFailed(f"run_task failed: {reasons}")
        return {"tasks": [t["taskArn"] for t in response.get("tasks", [])]}
    if isinstance(job, CheckSecretRotation):
        meta = clients.secretsmanager.describe_secret(SecretId=job.secret_id)
        last = meta.get("LastRotatedDate") or meta.get("CreatedDate")
        age_days = (datetime.now(UTC) - last).days if last else None
        return {
            "secret": meta.get("Name", job.secret_id),
            "rotationEnabled": bool(meta.get("RotationEnabled")),
            "ageDays": age_days,
            "stale": age_days is None or age_days > job.max_age_days,
        }
    raise JobFailed(f"no handler for {type(job).__name__}")


def audit_event(message_id: str, job: Job, outcome: str, detail: dict[str, Any]) -> dict[str, Any]:
    import json

    return {
        "timestamp": int(time.time() * 1000),
        "message": json.dumps(
            {"messageId": message_id, "jobId": job.job_id, "type": job.type, "outcome": outcome, **detail},
            default=str,
            sort_keys=True,
        ),
    }
