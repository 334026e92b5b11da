"""AWS requests per operation: this project against the peer ``versioned==1.0.1``.

Counts botocore ``before-call`` events (one per API call) against a local moto server, so
the figures are stable on any machine. Needs the peer installed for its column.

    python benchmarks/request_counts.py
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

from moto.server import ThreadedMotoServer

TESTS = Path(__file__).parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from requests_counter import watch  # noqa: E402

from versioned_action import open_repository  # noqa: E402

STEPS = [
    ("put (new content)", "put_artifact", {"name": "app", "content": "v1"}),
    ("put (same content)", "put_artifact", {"name": "app", "content": "v1"}),
    ("publish", "publish_artifact_version", {"name": "app"}),
    ("publish (unchanged)", "publish_artifact_version", {"name": "app"}),
    ("put v2", "put_artifact", {"name": "app", "content": "v2"}),
    ("publish v2", "publish_artifact_version", {"name": "app"}),
    ("get version", "get_artifact_version", {"name": "app", "version": 1}),
    ("list versions (3)", "list_artifact_versions", {"name": "app"}),
    ("put alias", "put_alias", {"name": "app", "alias": "prod", "version": 1}),
    (
        "put alias (canary)",
        "put_alias",
        {
            "name": "app",
            "alias": "prod",
            "version": 1,
            "secondary_version": 2,
            "secondary_version_weight": 10,
        },
    ),
    ("get alias", "get_alias", {"name": "app", "alias": "prod"}),
    ("list aliases (1)", "list_aliases", {"name": "app"}),
    (
        "purge versions",
        "purge_artifact_versions",
        {"name": "app", "keep_last_n": 0, "purge_older_than_secs": 0},
    ),
]


def ours(backend: str, endpoint: str) -> list[int]:
    suffix = uuid.uuid4().hex[:8]
    repo = open_repository(
        backend,
        bucket=f"ours-{suffix}",
        table=f"ours-{suffix}",
        endpoint_url=endpoint,
        region="us-east-1",
    )
    repo.bootstrap()
    counter = watch(repo)
    counts = []
    for _, method, kwargs in STEPS:
        kwargs = dict(kwargs)
        if "content" in kwargs:
            kwargs["content"] = kwargs["content"].encode()
        before = sum(counter.values())
        getattr(repo, method)(**kwargs)
        counts.append(sum(counter.values()) - before)
    return counts


def peer(backend: str, endpoint: str) -> list[int | None]:
    suffix = uuid.uuid4().hex[:8]
    settings = {"s3_bucket": f"peer-{suffix}", "s3_prefix": "versioned-artifacts"}
    if backend == "s3-dynamodb":
        settings["dynamodb_table_name"] = f"peer-{suffix}"
    request = {
        "backend": backend,
        "repo": settings,
        "steps": [[method, kwargs] for _, method, kwargs in STEPS],
    }
    done = subprocess.run(
        [sys.executable, str(TESTS / "peer_driver.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_ENDPOINT_URL": endpoint},
        check=False,
    )
    if done.returncode:
        return [None] * len(STEPS)
    return [r.get("requests") for r in json.loads(done.stdout)]


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        print("| operation | s3: ours | s3: peer | s3-dynamodb: ours | s3-dynamodb: peer |")
        print("| --- | --- | --- | --- | --- |")
        columns = [f(b, endpoint) for b in ("s3", "s3-dynamodb") for f in (ours, peer)]
        for i, (label, _, _) in enumerate(STEPS):
            cells = ["-" if c[i] is None else str(c[i]) for c in columns]
            print(f"| {label} | " + " | ".join(cells) + " |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
