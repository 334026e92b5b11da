"""Several processes publish at once, as parallel workflow runs do: no version is lost."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from versioned_action import LATEST

WORKER = """
import json, sys, time
from versioned_action import open_repository
backend, bucket, table, endpoint, start, mode, payload = sys.argv[1:]
repo = open_repository(backend, bucket=bucket, table=table, prefix="artifacts",
                       endpoint_url=endpoint, region="us-east-1")
time.sleep(max(0.0, float(start) - time.time()))
if mode == "put-and-publish":
    latest, version = repo.put_and_publish("app", payload.encode())
else:
    version = repo.publish_artifact_version("app")
print(json.dumps({"version": version.version, "sha256": version.sha256,
                  "changed": version.changed}))
"""


def run_workers(repo, backend, moto_endpoint, mode, payloads):
    start = time.time() + 2.0  # every process is up before the first one starts
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                backend,
                repo.s3_bucket,
                getattr(repo, "dynamodb_table_name", "unused"),
                moto_endpoint,
                str(start),
                mode,
                p,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for p in payloads
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_parallel_put_and_publish_gives_each_build_its_own_version(
    http_repo, backend, moto_endpoint
):
    repo = http_repo()
    payloads = [f"build {i}" for i in range(6)]
    results = run_workers(repo, backend, moto_endpoint, "put-and-publish", payloads)
    versions = [r["version"] for r in results]
    assert len(set(versions)) == len(payloads), versions
    for payload, result in zip(payloads, results, strict=True):
        assert result["sha256"] == hashlib.sha256(payload.encode()).hexdigest()
        assert repo.get_artifact_content("app", result["version"]) == payload.encode()
    listed = [v.version for v in repo.list_artifact_versions("app") if v.version != LATEST]
    assert sorted(listed, key=int) == sorted(versions, key=int)


def test_parallel_publish_of_one_latest_makes_one_version(http_repo, backend, moto_endpoint):
    repo = http_repo()
    repo.put_artifact("app", b"the one build")
    results = run_workers(repo, backend, moto_endpoint, "publish", ["-"] * 5)
    assert {r["version"] for r in results} == {"1"}
    assert sum(r["changed"] for r in results) == 1
    assert [v.version for v in repo.list_artifact_versions("app")] == [LATEST, "1"]


@pytest.mark.slow
def test_many_parallel_publishers(http_repo, backend, moto_endpoint):
    repo = http_repo()
    payloads = [f"build {i}" for i in range(16)]
    results = run_workers(repo, backend, moto_endpoint, "put-and-publish", payloads)
    assert len({r["version"] for r in results}) == len(payloads)
    for payload, result in zip(payloads, results, strict=True):
        assert repo.get_artifact_content("app", result["version"]) == payload.encode()
