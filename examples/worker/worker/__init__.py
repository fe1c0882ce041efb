"""ECS operations worker: consumes jobs from an SQS queue and applies them with the AWS APIs.

`worker.STARTED` is taken when this package is first imported, before boto3 or pydantic, so the ready line
(`worker ready in … ms`) measures what the image controls: imports and client creation. The interpreter's own
start-up before that (about 10-15 ms) is not included; measure it from outside the process.
"""

import time as _time

STARTED = _time.perf_counter()

__version__ = "2.3.0"
