"""A full tour on this machine, no AWS account needed.

put -> publish -> promote (blue/green) -> canary -> promote -> rollback, each step run through
the action's real entrypoint exactly as the GitHub runner runs it, against an S3 and DynamoDB
endpoint embedded on 127.0.0.1 (moto).

    python examples/demo.py [--backend s3|s3-dynamodb|both]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from local_runner import Runner
from moto.server import ThreadedMotoServer

STEPS = [
    (
        "Build 1: upload, publish, point staging at it",
        {"operation": "put", "path": "app.zip", "publish": "true", "alias": "staging"},
        b"build 1",
    ),
    (
        "Build 2: upload and publish",
        {"operation": "put", "path": "app.zip", "publish": "true"},
        b"build 2",
    ),
    (
        "Blue/green: production takes what staging has",
        {"operation": "promote", "alias": "production", "from-alias": "staging"},
        None,
    ),
    (
        "Canary: 10% of production traffic to version 2",
        {
            "operation": "promote",
            "alias": "production",
            "version": "1",
            "secondary-version": "2",
            "secondary-weight": "10",
        },
        None,
    ),
    (
        "Complete the rollout",
        {"operation": "promote", "alias": "production", "version": "2", "expected-version": "1"},
        None,
    ),
    (
        "Something is wrong: roll production back one step",
        {"operation": "rollback", "alias": "production"},
        None,
    ),
    (
        "Pin production to version 1 alone",
        {"operation": "rollback", "alias": "production", "version": "1"},
        None,
    ),
    (
        "Download what production serves",
        {"operation": "get", "alias": "production", "path": "deployed/app.zip"},
        None,
    ),
    ("What is stored", {"operation": "list"}, None),
]
SHOWN = (
    "version",
    "alias",
    "previous-version",
    "secondary-version",
    "secondary-weight",
    "s3-uri",
    "changed",
    "path",
)


def tour(backend: str, endpoint: str, workspace: Path) -> bool:
    runner = Runner(workspace)
    common = {
        "backend": backend,
        "bucket": f"demo-{backend}",
        "table": f"demo-{backend}",
        "endpoint-url": endpoint,
        "create-resources": "true",
        "name": "app",
    }
    print(f"\n=== backend {backend} ===")
    for number, (title, inputs, content) in enumerate(STEPS, start=1):
        if content is not None:
            (workspace / "app.zip").write_bytes(content)
        given = {**common, **inputs}
        step = runner.step(**{k.replace("-", "_"): v for k, v in given.items()})
        shown = " ".join(f"{k}={v}" for k, v in inputs.items())
        print(f"\n[{number}] {title}\n    inputs: {shown}")
        if step.returncode:
            print("    FAILED:", *step.errors, step.stderr, sep="\n    ")
            return False
        for key in SHOWN:
            if step.outputs.get(key):
                print(f"    {key:>18}: {step.outputs[key]}")
    served = (workspace / "deployed" / "app.zip").read_bytes()
    print(f"\nproduction serves {served!r}")
    return served == b"build 1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["s3", "s3-dynamodb", "both"], default="both")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    print(f"local S3 + DynamoDB endpoint: {endpoint}")
    backends = ["s3", "s3-dynamodb"] if args.backend == "both" else [args.backend]
    try:
        for backend in backends:
            with tempfile.TemporaryDirectory() as tmp:
                workspace = Path(tmp) / "workspace"
                workspace.mkdir()
                if not tour(backend, endpoint, workspace):
                    return 1
    finally:
        server.stop()
    print("\ndemo finished: every step ran through entrypoint/main.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
