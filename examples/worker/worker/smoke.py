"""One worker iteration without network: a sample SQS batch handled against stubbed clients (botocore Stubber).

Every AWS call the worker makes is checked against the service model (parameter validation) and answered by the
stub, so this exercises the models, the handlers, the SQS/ECS/Logs/Secrets Manager/STS clients and their data
files — everything but the network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from botocore.stub import ANY, Stubber

from .clients import Clients
from .config import Settings
from .loop import Worker

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/ops-jobs"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"


def sample_messages() -> list[dict[str, object]]:
    jobs = [
        {
            "type": "scale_service",
            "jobId": "job-1",
            "cluster": "prod",
            "service": "api",
            "desiredCount": 4,
            "requestedBy": "oncall",
            "requestedAt": "2026-11-27T03:00:00Z",
        },
        {
            "type": "run_task",
            "jobId": "job-2",
            "cluster": "prod",
            "taskDefinition": "api-migrate:42",
            "container": "api",
            "command": ["python", "-m", "app.migrate"],
            "subnets": ["subnet-0abc"],
            "securityGroups": ["sg-0def"],
        },
        {"type": "check_secret_rotation", "jobId": "job-3", "secretId": "prod/api", "maxAgeDays": 30},
        {"type": "reboot_universe", "jobId": "job-4"},  # invalid: dropped
    ]
    return [
        {
            "MessageId": f"m-{i}",
            "ReceiptHandle": f"rh-{i}",
            "Body": json.dumps(job),
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MD5OfBody": "0" * 32,
        }
        for i, job in enumerate(jobs, start=1)
    ]


def run_smoke(clients: Clients) -> dict[str, object]:
    settings = Settings(region="us-east-1", queue_url=QUEUE_URL, wait_seconds=0)
    stubs = {name: Stubber(client) for name, client in clients.all().items()}
    now = datetime.now(UTC)

    stubs["sts"].add_response(
        "get_caller_identity",
        {
            "UserId": "AIDEXAMPLE",
            "Account": "123456789012",
            "Arn": "arn:aws:sts::123456789012:assumed-role/ops-worker/task",
        },
        {},
    )
    stubs["sqs"].add_response(
        "receive_message",
        {"Messages": sample_messages()},
        {
            "QueueUrl": QUEUE_URL,
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": 0,
            "VisibilityTimeout": 120,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        },
    )
    stubs["ecs"].add_response(
        "update_service",
        {"service": {"serviceName": "api", "desiredCount": 4, "clusterArn": CLUSTER_ARN}},
        {"cluster": "prod", "service": "api", "desiredCount": 4},
    )
    stubs["ecs"].add_response(
        "run_task",
        {"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/0123"}], "failures": []},
        {
            "cluster": "prod",
            "taskDefinition": "api-migrate:42",
            "count": 1,
            "launchType": "FARGATE",
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": ["subnet-0abc"], "securityGroups": ["sg-0def"]}
            },
            "overrides": {"containerOverrides": [{"name": "api", "command": ["python", "-m", "app.migrate"]}]},
        },
    )
    stubs["secretsmanager"].add_response(
        "describe_secret",
        {"Name": "prod/api", "RotationEnabled": True, "LastRotatedDate": now - timedelta(days=3)},
        {"SecretId": "prod/api"},
    )
    stubs["logs"].add_response(
        "put_log_events",
        {"nextSequenceToken": "1"},
        {"logGroupName": "/ecs/ops-worker", "logStreamName": "worker-us-east-1", "logEvents": ANY},
    )
    stubs["sqs"].add_response(
        "delete_message_batch",
        {"Successful": [{"Id": str(i)} for i in range(4)], "Failed": []},
        {"QueueUrl": QUEUE_URL, "Entries": ANY},
    )

    with stubs["sts"], stubs["sqs"], stubs["ecs"], stubs["secretsmanager"], stubs["logs"]:
        identity = clients.sts.get_caller_identity()
        processed = Worker(settings, clients).run_once()
        for stub in stubs.values():
            stub.assert_no_pending_responses()
    if processed != 4:
        raise AssertionError(f"expected 4 messages processed, got {processed}")
    return {"account": identity["Account"], "processed": processed}
