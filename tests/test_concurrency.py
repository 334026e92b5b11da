"""Several processes publish at once, as parallel workflow runs do: no version is lost."""

from __future__ import annotations

import hashlib

import pytest
from publishers import run_mixed

from versioned_action import LATEST


def run_workers(repo, backend, moto_endpoint, mode, payloads):
    return run_mixed(repo, backend, moto_endpoint, [(mode, p) for p in payloads])


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
