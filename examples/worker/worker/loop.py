"""The receive → handle → audit → delete loop."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from pydantic import ValidationError

from .clients import Clients
from .config import Settings
from .handlers import JobFailed, audit_event, handle
from .models import SqsMessage

log = logging.getLogger("worker")


class Worker:
    def __init__(self, settings: Settings, clients: Clients) -> None:
        self.settings = settings
        self.clients = clients
        self.stopping = threading.Event()
        self.log_stream = f"worker-{settings.region}"

    def install_signal_handlers(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            log.info("signal %d: finishing the current batch", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            self.run_once()

    def run_once(self) -> int:
        """One long-poll; returns the number of messages processed (deleted or left for retry)."""
        assert self.settings.queue_url, "queue_url is required"
        response = self.clients.sqs.receive_message(
            QueueUrl=self.settings.queue_url,
            MaxNumberOfMessages=self.settings.batch_size,
            WaitTimeSeconds=self.settings.wait_seconds,
            VisibilityTimeout=self.settings.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = [SqsMessage.model_validate(m) for m in response.get("Messages", [])]
        events: list[dict[str, Any]] = []
        done: list[SqsMessage] = []
        for message in messages:
            try:
                job = message.job()
            except (ValidationError, ValueError) as exc:
                # A malformed job never becomes valid: drop it (the queue's DLQ policy keeps a copy if configured).
                log.error("message %s: invalid job, dropped: %s", message.message_id, str(exc).splitlines()[0])
                done.append(message)
                continue
            try:
                result = handle(job, self.clients)
                events.append(audit_event(message.message_id, job, "ok", result))
                done.append(message)
            except JobFailed as exc:
                last = message.receive_count >= self.settings.max_attempts
                events.append(audit_event(message.message_id, job, "failed" if last else "retry", {"error": str(exc)}))
                if last:
                    done.append(message)
        if events:
            self.clients.logs.put_log_events(
                logGroupName=self.settings.log_group, logStreamName=self.log_stream, logEvents=events
            )
        if done:
            self.clients.sqs.delete_message_batch(
                QueueUrl=self.settings.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(done)],
            )
        return len(messages)
