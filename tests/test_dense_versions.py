"""Version numbers stay dense: no gap under concurrent publishers, lost responses or a dead
publisher's claim.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from faultproxy import BLOCK_AFTER_FORWARD, DROP_RESPONSE, once_per_key
from storage_check import NEW, assert_consistent, prepare, sha

PROCESSES, ROUNDS = 6, 2
WORKER = """
import json, sys, time
from versioned_action import open_repository
backend, bucket, table, name, endpoint, start, payloads = sys.argv[1:]
repo = open_repository(backend, bucket=bucket, table=table, prefix="artifacts",
                       endpoint_url=endpoint, region="us-east-1")
time.sleep(max(0.0, float(start) - time.time()))
results = []
for payload in json.loads(payloads):
    latest, version = repo.put_and_publish(name, payload.encode())
    results.append({"payload": payload, "version": version.version,
                    "sha256": version.sha256, "changed": version.changed})
print(json.dumps(results))
"""


def run_publishers(store, endpoint: str) -> list[dict]:
    """PROCESSES processes, each putting and publishing ROUNDS builds, all starting at once."""
    start = time.time() + 2.5  # every process is up before the first one starts
    procs = []
    for p in range(PROCESSES):
        payloads = json.dumps([f"build {p}.{r}" for r in range(ROUNDS)])
        args = [store.backend, store.bucket, store.table, store.name, endpoint, str(start)]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER, *args, payloads],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(os.environ),
            )
        )
    results, errors = [], []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err = "timed out after 120 s\n" + err
        if proc.returncode == 0:
            results += json.loads(out)
        else:
            errors.append(err[-3000:])
    assert not errors, "a publisher failed:\n" + "\n---\n".join(errors)
    return results


def assert_dense_and_each_its_own(store, results: list[dict]) -> None:
    versions = sorted(int(r["version"]) for r in results)
    count = PROCESSES * ROUNDS
    assert versions == list(range(1, count + 1)), f"published {versions}, not 1..{count}"
    repo = store.direct
    for r in results:
        assert r["changed"] and r["sha256"] == sha(r["payload"].encode()), r
        assert repo.get_artifact_content(store.name, r["version"]) == r["payload"].encode(), r
    state = assert_consistent(store)
    assert state.numbered() == versions


def test_concurrent_publishers_get_dense_numbers(backend, make_store):
    store = make_store(backend)
    store.direct.bootstrap()
    assert_dense_and_each_its_own(store, run_publishers(store, store.endpoint))


def test_concurrent_publishers_with_lost_responses_get_dense_numbers(backend, make_store, proxy):
    store = make_store(backend)
    store.direct.bootstrap()
    spread = once_per_key(lambda r: r.is_write and r.write_number % 5 == 2)
    rule = proxy.add_rule(spread, DROP_RESPONSE, times=4)
    results = run_publishers(store, proxy.url)
    assert rule.fired == 4, proxy.faults()
    assert_dense_and_each_its_own(store, results)


@pytest.mark.parametrize("later", ["same-bytes", "new-bytes"])
def test_dead_publishers_claim_blocks_no_longer_than_its_lease(
    later, make_store, make_runner, proxy
):
    """A publisher SIGKILLed right after claiming number 2 leaves the claim behind; the next
    publish (another run) still gets 2, once the claim's lease (2 s) is over."""
    store = make_store("s3-dynamodb")
    prepare(store, "pending")  # 1 holds OLD, LATEST holds NEW
    lease = {"VERSIONED_CLAIM_LEASE": "2"}
    claim = f"{store.name}/000002"
    rule = proxy.add_rule(
        lambda r: r.service == "dynamodb" and r.is_write and claim in r.key, BLOCK_AFTER_FORWARD
    )
    inputs = {
        "operation": "publish",
        "backend": store.backend,
        "bucket": store.bucket,
        "table": store.table,
        "prefix": store.prefix,
        "name": store.name,
    }
    dead = make_runner(GITHUB_RUN_ID="1001", **lease).start(**inputs, endpoint_url=proxy.url)
    deadline = time.monotonic() + 60
    while not rule.event.wait(0.02) and dead.process.poll() is None:
        assert time.monotonic() < deadline, "the publisher never claimed a number"
    dead.kill()
    assert rule.event.is_set(), "the publisher ended before it claimed number 2"
    item = store.client("dynamodb").get_item(
        TableName=store.table,
        Key={"pk": {"S": store.name}, "sk": {"S": "000002"}},
        ConsistentRead=True,
    )
    assert item.get("Item", {}).get("is_deleted") == {"BOOL": True}, item  # a hidden claim

    content = NEW
    if later == "new-bytes":
        content = b"a newer build\n" * 300
        store.direct.put_artifact(store.name, content)
    later_run = make_runner(GITHUB_RUN_ID="1002", **lease)
    try:
        step = later_run.start(**inputs, endpoint_url=store.endpoint).finish(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the later publish was still waiting after 30 s (VERSIONED_CLAIM_LEASE=2)")
    assert step.returncode == 0, step.stdout + step.stderr
    outputs = step.outputs
    assert (outputs["version"], outputs["changed"]) == ("2", "true"), outputs
    assert outputs["sha256"] == sha(content)
    assert store.direct.get_artifact_content(store.name, 2) == content
    assert assert_consistent(store).numbered() == [1, 2]
