"""Load a JSON secret from AWS Secrets Manager into the environment, then exec the given command.

    python -m app.load_secrets -- gunicorn app.main:app ...

* Without `APP_SECRETS_ID` it execs the command unchanged.
* With it, it calls GetSecretValue once, checks that `SecretString` is a JSON object of scalar values whose
  keys are valid environment variable names, and execs the command with those keys added to the environment
  (plus `APP_SECRET_KEYS`, the comma-separated key *names*, so the app can tell that the secret was loaded).
* Secret values never reach stdout, stderr, a file or the command line: they exist only in this process's
  memory and, after `execvpe`, in the environment of the command.
* Endpoint, region and credentials come from botocore's usual chain: `AWS_ENDPOINT_URL_SECRETS_MANAGER` /
  `AWS_ENDPOINT_URL`, `AWS_REGION` / `AWS_DEFAULT_REGION`, the ECS task role, …
* On any failure it prints one line naming the secret id and the error class to stderr and exits 78
  (EX_CONFIG) before the command starts, so the orchestrator sees a failed start instead of a half-configured
  service.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

EXIT_CONFIG = 78
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Variables a secret must not override: they steer this loader, the interpreter or the process itself.
PROTECTED = frozenset({"APP_SECRETS_ID", "APP_SECRET_KEYS", "PATH", "HOME", "USER", "PYTHONPATH", "LD_PRELOAD"})


class SecretLoadError(Exception):
    """Why the secret could not be turned into environment variables. Never carries a value."""


def _fail(secret_id: str, reason: str) -> NoReturn:
    print(f"load_secrets: cannot load secret {secret_id!r} from Secrets Manager: {reason}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CONFIG)


def fetch_secret_string(secret_id: str) -> str:
    """GetSecretValue with short timeouts and few retries: a broken configuration must fail the start quickly."""
    import boto3
    from botocore.config import Config

    timeout = float(os.environ.get("APP_SECRETS_TIMEOUT", "5"))
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": int(os.environ.get("APP_SECRETS_ATTEMPTS", "2"))},
    )
    # botocore reads AWS_DEFAULT_REGION; ECS (and many CI systems) also set AWS_REGION, which botocore ignores.
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or None
    client = boto3.session.Session(region_name=region).client("secretsmanager", config=config)
    response = client.get_secret_value(SecretId=secret_id)
    if "SecretString" not in response:
        raise SecretLoadError("the secret has no SecretString (binary secrets are not supported)")
    return response["SecretString"]


def parse_secret(secret_string: str) -> dict[str, str]:
    """The secret's JSON object as environment variables. Error messages name keys, never values."""
    try:
        data = json.loads(secret_string)
    except json.JSONDecodeError as exc:
        # exc.msg / exc.pos describe the position only; exc.doc (the secret) is deliberately not used.
        raise SecretLoadError(f"SecretString is not JSON (JSONDecodeError: {exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise SecretLoadError(f"SecretString is JSON but not an object (got {type(data).__name__})")
    env: dict[str, str] = {}
    for key, value in data.items():
        if not ENV_NAME.match(key):
            raise SecretLoadError(f"key {key!r} is not a valid environment variable name")
        if key in PROTECTED:
            raise SecretLoadError(f"key {key!r} may not be set from a secret")
        if isinstance(value, bool):
            env[key] = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            env[key] = str(value)
        else:
            raise SecretLoadError(f"key {key!r} holds a {type(value).__name__}; only strings, numbers and booleans")
    return env


def merged_environment(base: Mapping[str, str], secret_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update(secret_env)
    env["APP_SECRET_KEYS"] = ",".join(sorted(secret_env))
    return env


def describe(exc: BaseException) -> str:
    """Error class plus, for AWS errors, the error code; messages from botocore name endpoints, not payloads."""
    name = type(exc).__name__
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return f"{name} ({code})" if code else name
    if isinstance(exc, SecretLoadError):
        return str(exc)
    return f"{name}: {exc}"


def main(argv: Sequence[str]) -> None:
    args = list(argv)
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        print("usage: python -m app.load_secrets -- COMMAND [ARG...]", file=sys.stderr)
        raise SystemExit(2)

    env = dict(os.environ)
    secret_id = env.get("APP_SECRETS_ID", "").strip()
    if secret_id:
        try:
            secret_env = parse_secret(fetch_secret_string(secret_id))
        except Exception as exc:  # noqa: BLE001 - every failure ends the start with one clear line
            _fail(secret_id, describe(exc))
        env = merged_environment(env, secret_env)
        names = ", ".join(sorted(secret_env)) or "(none)"
        print(f"load_secrets: loaded {len(secret_env)} keys from {secret_id!r}: {names}", file=sys.stderr, flush=True)
        del secret_env

    try:
        os.execvpe(args[0], args, env)
    except OSError as exc:
        print(f"load_secrets: cannot exec {args[0]!r}: {exc.strerror}", file=sys.stderr, flush=True)
        raise SystemExit(127) from None


if __name__ == "__main__":
    main(sys.argv[1:])
