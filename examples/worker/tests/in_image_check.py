"""Acceptance checks that run INSIDE the built worker image (issue 4), as its runtime user, read-only rootfs.

Run it without writing anything into the container, e.g.

    docker run --rm --read-only --tmpfs /tmp --network none --entrypoint python IMAGE -c "$(cat in_image_check.py)"

or pipe it on stdin (`... -i --entrypoint python IMAGE - < in_image_check.py`). Exit code 0 when every check
passes; the last stdout line is a JSON summary `{"ok": bool, "checks": {name: {"ok": bool, "detail": ...}}}`.

Checks
  clients        ecs, secretsmanager, sts, logs, sqs clients created in us-east-1 and eu-west-1 with regional
                 endpoints; a request per service is serialized, endpoint-resolved and SigV4-signed (stopped at
                 before-send, no network)
  paginators     every paginator and every waiter of the five services loads
  unknown        boto3.client("ec2") raises botocore.exceptions.UnknownServiceError
  resource       boto3.resource("sqs") and a Queue from it
  tls            ssl's default context loads the image's CA bundle (OpenSSL's default cafile) and verifies
  removed        pip, setuptools, wheel, pygments (and pkg_resources, _distutils_hack) are not importable
  bytecode       every .py under the venv and the app has a .pyc at importlib's cache path whose header has the
                 current magic number, the hash-based flag, and the source's hash; sourceless .pyc (a venv built
                 with PY_SOURCES=drop) have the current magic number and the hash-based flag
  no-writes      `python -m worker --exit-on-ready` (a child process with an audit hook) neither opens a file for
                 writing, creates/renames/removes a path, nor compiles a .py source; /tmp stays empty; it is not root
  ready          the worker prints its ready line and exits 0; `--smoke` passes

Environment: CHECK_VENV (default: sys.prefix), CHECK_APP (default /app), CHECK_REGIONS (default us-east-1,eu-west-1).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

SERVICES = ("ecs", "secretsmanager", "sts", "logs", "sqs")
REMOVED = ("pip", "setuptools", "wheel", "pygments", "pkg_resources", "_distutils_hack")
REGIONS = tuple(r for r in os.environ.get("CHECK_REGIONS", "us-east-1,eu-west-1").split(",") if r)
VENV = Path(os.environ.get("CHECK_VENV", sys.prefix))
APP = Path(os.environ.get("CHECK_APP", "/app"))

# One cheap, signed request per service (parameters valid for the model).
SAMPLE_CALLS = {
    "ecs": ("list_clusters", {}),
    "secretsmanager": ("describe_secret", {"SecretId": "prod/api"}),
    "sts": ("get_caller_identity", {}),
    "logs": ("describe_log_groups", {"limit": 1}),
    "sqs": ("list_queues", {}),
}

results: dict[str, dict[str, object]] = {}


def check(name: str):  # type: ignore[no-untyped-def]
    def wrap(fn):  # type: ignore[no-untyped-def]
        try:
            detail = fn()
            results[name] = {"ok": True, "detail": detail}
            print(f"ok    {name}: {detail}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report every failing check, not just the first
            results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc(file=sys.stderr)
        return fn

    return wrap


class _Intercepted(Exception):
    pass


@check("clients")
def _clients() -> str:
    import boto3

    session = boto3.session.Session(aws_access_key_id="AKIDCHECK", aws_secret_access_key="check")
    made = 0
    for region in REGIONS:
        for service in SERVICES:
            client = session.client(service, region_name=region)
            assert client.meta.region_name == region, (service, region, client.meta.region_name)
            host = client.meta.endpoint_url.split("://", 1)[1]
            assert host.endswith(".amazonaws.com") and region in host, (service, region, host)
            seen: dict[str, str] = {}

            def before_send(request, _seen=seen, **_kwargs):  # type: ignore[no-untyped-def]
                auth = request.headers.get("Authorization")
                _seen["url"] = request.url
                _seen["auth"] = auth.decode() if isinstance(auth, bytes) else str(auth or "")
                raise _Intercepted()

            client.meta.events.register("before-send", before_send)
            operation, params = SAMPLE_CALLS[service]
            try:
                getattr(client, operation)(**params)
                raise AssertionError(f"{service}.{operation} was not intercepted")
            except _Intercepted:
                pass
            assert region in seen["url"], (service, seen["url"])
            assert seen["auth"].startswith("AWS4-HMAC-SHA256") and f"/{region}/" in seen["auth"], (service, "unsigned")
            made += 1
    return f"{made} clients ({', '.join(SERVICES)} in {', '.join(REGIONS)}), each request endpoint-resolved and signed"


@check("paginators")
def _paginators() -> str:
    import boto3

    paginators = waiters = 0
    for service in SERVICES:
        client = boto3.client(service, region_name=REGIONS[0], aws_access_key_id="x", aws_secret_access_key="x")
        for py_name in client.meta.method_to_api_mapping:
            if client.can_paginate(py_name):
                client.get_paginator(py_name)
                paginators += 1
        for name in client.waiter_names:
            client.get_waiter(name)
            waiters += 1
    assert paginators > 0 and waiters > 0, (paginators, waiters)
    return f"{paginators} paginators, {waiters} waiters loaded"


@check("unknown")
def _unknown() -> str:
    import boto3
    from botocore.exceptions import UnknownServiceError

    try:
        boto3.client("ec2", region_name=REGIONS[0])
    except UnknownServiceError as exc:
        return f"ec2 → UnknownServiceError ({str(exc)[:80]}…)"
    raise AssertionError("boto3.client('ec2') succeeded: botocore data was not trimmed")


@check("resource")
def _resource() -> str:
    import boto3

    sqs = boto3.resource("sqs", region_name=REGIONS[0], aws_access_key_id="x", aws_secret_access_key="x")
    queue = sqs.Queue(f"https://sqs.{REGIONS[0]}.amazonaws.com/123456789012/check")
    assert queue.url.endswith("/check"), queue.url
    return f"boto3.resource('sqs') works ({type(queue).__name__} for {queue.url.rsplit('/', 1)[-1]})"


@check("tls")
def _tls() -> str:
    import ssl

    paths = ssl.get_default_verify_paths()
    assert paths.cafile and Path(paths.cafile).is_file(), f"no CA bundle at OpenSSL's default {paths.openssl_cafile}"
    context = ssl.create_default_context()
    cas = context.cert_store_stats()["x509_ca"]
    assert cas > 0, f"no CA certificate loaded from {paths.cafile}"
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    return f"default context verifies with {cas} CA certificates from {paths.cafile} ({ssl.OPENSSL_VERSION})"


@check("removed")
def _removed() -> str:
    present = [name for name in REMOVED if importlib.util.find_spec(name) is not None]
    assert not present, f"importable: {', '.join(present)}"
    return f"not importable: {', '.join(REMOVED)}"


def _pyc_mode(source: Path) -> str:
    """The .pyc's invalidation mode; raises ValueError saying why it is not a valid hash-based .pyc."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    try:
        data = cached.read_bytes()
    except FileNotFoundError:
        raise ValueError("no .pyc") from None
    if len(data) < 16:
        raise ValueError("truncated .pyc")
    if data[:4] != importlib.util.MAGIC_NUMBER:
        raise ValueError("wrong magic number")
    flags = int.from_bytes(data[4:8], "little")
    if not flags & 0b01:
        raise ValueError("timestamp-based .pyc (not hash-based)")
    if data[8:16] != importlib.util.source_hash(source.read_bytes()):
        raise ValueError("source hash mismatch")
    return "checked-hash" if flags & 0b10 else "unchecked-hash"


def _files(root: Path, suffix: str) -> list[Path]:
    """Regular files under root (symlinked directories such as the venv's lib64 are not followed)."""
    return [Path(d, f) for d, _, files in os.walk(root) for f in files if f.endswith(suffix)]


def _sourceless_mode(pyc: Path) -> str:
    """A sourceless .pyc (no .py beside it) must still be for this interpreter and hash-based."""
    data = pyc.read_bytes()
    if len(data) < 16 or data[:4] != importlib.util.MAGIC_NUMBER:
        raise ValueError("not a .pyc for this interpreter")
    flags = int.from_bytes(data[4:8], "little")
    if not flags & 0b01:
        raise ValueError("timestamp-based .pyc (not hash-based)")
    return "sourceless"


@check("bytecode")
def _bytecode() -> str:
    roots = [r for r in (VENV, APP) if r.is_dir()]
    sources = [p for root in roots for p in _files(root, ".py")]
    sourceless = [p for root in roots for p in _files(root, ".pyc") if p.parent.name != "__pycache__"]
    assert sources or sourceless, f"no Python modules found under {roots}"
    problems: dict[str, str] = {}
    modes: set[str] = set()
    for source in sources:
        try:
            modes.add(_pyc_mode(source))
        except ValueError as why:
            problems[str(source)] = str(why)
    for pyc in sourceless:
        try:
            modes.add(_sourceless_mode(pyc))
        except ValueError as why:
            problems[str(pyc)] = str(why)
    if problems:
        sample = "; ".join(f"{k}: {v}" for k, v in list(problems.items())[:5])
        raise AssertionError(f"{len(problems)} of {len(sources)} .py without a valid hash-based .pyc, e.g. {sample}")
    pycs = sum(len(_files(root, ".pyc")) for root in roots)
    where = ", ".join(map(str, roots))
    return f"{len(sources)} .py and {len(sourceless)} sourceless modules under {where}, all valid {'/'.join(sorted(modes))} .pyc ({pycs} .pyc in all)"


# A child process: install an audit hook first, then run `python -m worker <args>` exactly as the image does.
_CHILD = r"""
import os, sys, json
events = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return
        if (mode and any(c in str(mode) for c in "wax+")) or (mode is None and flags and flags & WRITE):
            events.append(["open-for-write", str(path)])
    elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate",
                   "os.chmod", "os.chown", "os.utime", "shutil.copyfile", "shutil.rmtree", "shutil.move"):
        events.append([event, str(args[0])])
    elif event == "compile":
        filename = args[1] if len(args) > 1 else None
        if isinstance(filename, (str, bytes)) and str(filename).endswith(".py"):
            events.append(["compile-source", str(filename)])
sys.addaudithook(hook)
import runpy
sys.argv = ["worker"] + ARGS
code = 0
try:
    runpy.run_module("worker", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
sys.stdout.flush()
print("AUDIT " + json.dumps({"events": events, "exit": code}), file=sys.stderr, flush=True)
os._exit(code)
"""


def _run_worker(*args: str) -> tuple[int, str, dict[str, object]]:
    child = _CHILD.replace("ARGS", json.dumps(list(args)))
    proc = subprocess.run([sys.executable, "-c", child], cwd=str(APP), capture_output=True, text=True, timeout=120)
    audit_lines = [line for line in proc.stderr.splitlines() if line.startswith("AUDIT ")]
    assert audit_lines, f"worker {' '.join(args)} exited {proc.returncode} before reporting: {proc.stderr[-600:]}"
    return proc.returncode, proc.stdout, json.loads(audit_lines[-1][len("AUDIT ") :])


@check("no-writes")
def _no_writes() -> str:
    tmp_before = sorted(os.listdir("/tmp")) if os.path.isdir("/tmp") else []
    code, _stdout, audit = _run_worker("--exit-on-ready")
    assert code == 0, f"exit code {code}"
    events = audit["events"]
    assert not events, f"{len(events)} write/compile events at start, e.g. {events[:5]}"
    tmp_after = sorted(os.listdir("/tmp")) if os.path.isdir("/tmp") else []
    assert tmp_after == tmp_before, f"/tmp changed: {sorted(set(tmp_after) - set(tmp_before))}"
    assert os.geteuid() != 0, "running as root"
    return f"no file written, no source compiled at start (uid {os.geteuid()})"


@check("ready")
def _ready() -> str:
    code, stdout, _ = _run_worker("--exit-on-ready")
    ready = [line for line in stdout.splitlines() if line.startswith("worker ready in ")]
    assert code == 0 and ready, f"exit {code}, stdout {stdout[-300:]!r}"
    code, stdout, audit = _run_worker("--smoke")
    assert code == 0 and "worker smoke ok" in stdout, f"--smoke exit {code}, stdout {stdout[-300:]!r}"
    compiled = [e for e in audit["events"] if e[0] == "compile-source"]
    assert not compiled, f"--smoke compiled sources: {compiled[:5]}"
    return ready[0]


def main() -> int:
    ok = all(bool(r["ok"]) for r in results.values())
    print(json.dumps({"ok": ok, "checks": results}, default=str), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
