"""`python -m worker [--smoke | --exit-on-ready]`

* default: create the clients, print the ready line, then long-poll `WORKER_QUEUE_URL` until SIGTERM;
* `--exit-on-ready`: create the clients, print the ready line, exit 0 (start-up benchmarks);
* `--smoke`: create the clients, print the ready line, run one iteration against stubbed clients, exit 0.

The ready line goes to stdout as `worker ready in <ms> ms (...)`; <ms> counts from the first import of the
`worker` package (see worker/__init__.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from . import STARTED, __version__

EXIT_CONFIG = 78


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description="ECS operations queue worker")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true", help="one iteration against stubbed clients, no network")
    mode.add_argument("--exit-on-ready", action="store_true", help="exit 0 right after the ready line")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=os.environ.get("WORKER_LOG_LEVEL", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    import boto3  # noqa: F401  (timed as part of the imports)
    import pydantic  # noqa: F401

    from .clients import SERVICES, create_clients
    from .config import Settings, SettingsError

    imported = time.perf_counter()
    try:
        settings = Settings.from_env()
        if args.smoke:
            # No network, no credential lookup: explicit throwaway credentials for the stubbed clients.
            settings = settings.model_copy(update={"region": "us-east-1"})
            session = boto3.session.Session(
                aws_access_key_id="smoke", aws_secret_access_key="smoke", region_name="us-east-1"
            )
        else:
            session = boto3.session.Session()
            if not args.exit_on_ready and not settings.queue_url:
                raise SettingsError("WORKER_QUEUE_URL is not set")
    except SettingsError as exc:
        print(f"worker: {exc}", file=sys.stderr, flush=True)
        return EXIT_CONFIG

    clients = create_clients(settings.region, session)
    ready = time.perf_counter()
    print(
        f"worker ready in {(ready - STARTED) * 1000:.1f} ms "
        f"(imports {(imported - STARTED) * 1000:.1f} ms, {len(SERVICES)} clients {(ready - imported) * 1000:.1f} ms, "
        f"region {settings.region}, v{__version__})",
        flush=True,
    )

    if args.exit_on_ready:
        return 0
    if args.smoke:
        from .smoke import run_smoke

        result = run_smoke(clients)
        print(f"worker smoke ok: {result['processed']} messages, account {result['account']}", flush=True)
        return 0

    from .loop import Worker

    worker = Worker(settings, clients)
    worker.install_signal_handlers()
    worker.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
