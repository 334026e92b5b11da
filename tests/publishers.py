"""Publishing steps as separate processes that start at the same moment, as parallel
workflow runs do, and what a bucket that keeps object versions shows of their writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict

WORKER = """
import json, sys, time
from versioned_action import open_repository
backend, bucket, table, endpoint, start, mode, payload = sys.argv[1:]
repo = open_repository(backend, bucket=bucket, table=table, prefix="artifacts",
                       endpoint_url=endpoint or None, region="us-east-1")
time.sleep(max(0.0, float(start) - time.time()))
if mode == "put-and-publish":
    latest, version = repo.put_and_publish("app", payload.encode())
else:
    version = repo.publish_artifact_version("app")
print(json.dumps({"mode": mode, "payload": payload, "version": version.version,
                  "sha256": version.sha256, "changed": version.changed}))
"""


def run_mixed(repo, backend, endpoint, jobs):
    """Run (mode, payload) jobs as separate processes starting at the same moment (``endpoint``
    None: the one the environment names)."""
    start = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                backend,
                repo.s3_bucket,
                getattr(repo, "dynamodb_table_name", "unused"),
                endpoint or "",
                str(start),
                mode,
                payload,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for mode, payload in jobs
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


def version_keys_written_once(repo, name, numbers):
    """On a bucket that keeps object versions: each version's key was only ever written with
    one content."""
    written = defaultdict(set)
    paginator = repo.s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=repo.s3_bucket, Prefix=f"artifacts/{name}/"):
        for version in page.get("Versions", []):
            written[version["Key"]].add(version["ETag"].strip('"'))
    version_keys = {repo.object_key(name, str(n)) for n in numbers}
    assert version_keys <= set(written)
    for key in version_keys:
        assert len(written[key]) == 1, f"{key} was written with {len(written[key])} contents"
