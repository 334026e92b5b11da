"""The Ceph RGW tier: every operation on a production S3 implementation started by the project
(scripts/rgw), as on AWS, on both backends (``s3-dynamodb`` keeps its table on moto).

RGW 16 hands metadata keys back with '-' for '_', wants If-Match ETags unquoted, ignores
CopyObject's conditions and If-Match on DeleteObject, and completes multipart uploads without
an ETag; run with ``scripts/test --rgw``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid

import pytest
from publishers import run_mixed, version_keys_written_once

from versioned_action import LATEST, UnsupportedServer, open_repository
from versioned_action.server import Enforcement

pytestmark = pytest.mark.rgw


@pytest.fixture
def rgw_repo(rgw_env, backend):
    name = f"rgw-{uuid.uuid4().hex[:12]}"
    repo = open_repository(backend, bucket=name, table=name, prefix="artifacts")
    repo.bootstrap()
    return repo


def test_what_rgw_enforces_is_learned(rgw_repo):
    assert rgw_repo.server.enforcement() == Enforcement(
        conditional_put=True,
        copy_conditions=False,
        conditional_delete=False,
        quoted_if_match=False,
    )


def test_every_operation_as_on_aws(rgw_repo):
    repo = rgw_repo
    v1, v2 = b"build one", b"build two"
    first = repo.put_artifact("app", v1)
    assert first.changed and first.sha256 == hashlib.sha256(v1).hexdigest()
    again = repo.put_artifact("app", v1)
    assert not again.changed and again.sha256 == first.sha256 and again.size == len(v1)
    one = repo.publish_artifact_version("app")
    assert (one.version, one.sha256, one.size) == ("1", first.sha256, len(v1))
    assert repo.publish_artifact_version("app").changed is False
    _, two = repo.put_and_publish("app", v2)
    assert two.version == "2" and two.sha256 == hashlib.sha256(v2).hexdigest()

    assert repo.put_alias("app", "prod", 1).changed
    moved = repo.put_alias("app", "prod", 2, expected_version=1)
    assert moved.changed and moved.previous.version == "1" and moved.sha256 == two.sha256
    assert [e.new.version for e in repo.get_alias_history("app", "prod")] == ["2", "1"]
    back = repo.rollback("app", "prod")
    assert back.version == "1" and back.sha256 == one.sha256
    history = repo.get_alias_history("app", "prod")
    assert [e.new.version for e in history] == ["1", "2", "1"]

    listed = repo.list_artifact_versions("app")
    assert [a.version for a in listed] == [LATEST, "2", "1"]
    assert all(a.sha256 and a.size for a in listed)
    got = repo.get_artifact_version("app", 1)
    assert got.sha256 == one.sha256 and got.size == len(v1)
    assert repo.get_artifact_content("app", 2) == v2

    deletion = repo.delete_alias("app", "prod", expected_version=1)
    assert deletion.previous.version == "1" and repo.list_aliases("app") == []


def test_a_large_put_and_publish(rgw_repo, tmp_path):
    """A multipart upload (RGW completes it without an ETag) published as a version."""
    data = os.urandom(20 * 1024 * 1024)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    latest, version = rgw_repo.put_and_publish("model", path)
    assert latest.changed and version.version == "1"
    assert version.sha256 == hashlib.sha256(data).hexdigest() == latest.sha256
    assert rgw_repo.put_artifact("model", path).changed is False
    assert rgw_repo.publish_artifact_version("model").version == "1"
    assert hashlib.sha256(rgw_repo.get_artifact_content("model", 1)).hexdigest() == version.sha256


def test_twelve_racing_publishers(rgw_repo, rgw_env, backend):
    """Each of 12 steps gets its own number, 1..12, holding its own bytes. With s3-dynamodb
    the bucket keeps every object version, which shows no version key was written twice
    (RGW enforces no conditional PutObject in a versioned bucket, so backend s3 refuses to
    publish there: test_s3_backend_refuses_a_versioned_rgw_bucket)."""
    repo = rgw_repo
    if backend == "s3-dynamodb":
        repo.s3.put_bucket_versioning(
            Bucket=repo.s3_bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    jobs = [("put-and-publish", f"build {i}") for i in range(12)]
    results = run_mixed(repo, backend, None, jobs)
    assert sorted(int(r["version"]) for r in results) == list(range(1, 13))
    for result in results:
        stored = repo.get_artifact_content("app", result["version"])
        assert stored == result["payload"].encode()
        assert result["sha256"] == hashlib.sha256(stored).hexdigest()
    if backend == "s3-dynamodb":
        version_keys_written_once(repo, "app", range(1, 13))


def test_s3_backend_refuses_a_versioned_rgw_bucket(rgw_env):
    """RGW 16 ignores If-None-Match and If-Match on PutObject in a versioned bucket: a store
    that enforces no conditional write, where backend s3 stops and names s3-dynamodb."""
    bucket = f"rgw-versioned-{uuid.uuid4().hex[:8]}"
    repo = open_repository("s3", bucket=bucket, prefix="artifacts")
    repo.bootstrap()
    repo.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    repo.put_artifact("app", b"build")
    with pytest.raises(UnsupportedServer) as refused:
        repo.publish_artifact_version("app")
    assert "s3-dynamodb" in refused.value.hint
    assert [a.version for a in repo.list_artifact_versions("app")] == [LATEST]


def test_the_cli_on_rgw(rgw_env, backend, tmp_path):
    """The CLI as a user runs it against the gateway: no traceback, outputs as on AWS."""
    bucket = f"rgw-cli-{uuid.uuid4().hex[:10]}"
    build = tmp_path / "app.zip"
    build.write_bytes(b"zip bytes")
    common = ["--backend", backend, "--bucket", bucket, "--table", bucket, "--create-resources"]

    def cli(*args):
        run = subprocess.run(
            [sys.executable, "-m", "versioned_action.cli", *common, "--json", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    put = cli("put", "app", str(build), "--publish")
    assert put["version"] == "1" and put["sha256"] == hashlib.sha256(b"zip bytes").hexdigest()
    assert cli("put", "app", str(build))["changed"] is False
    build.write_bytes(b"zip bytes 2")
    assert cli("put", "app", str(build), "--publish")["version"] == "2"
    assert cli("promote", "app", "production", "--version", "1")["version"] == "1"
    assert cli("promote", "app", "production", "--version", "2")["previous_version"] == "1"
    assert cli("rollback", "app", "production")["version"] == "1"
    history = cli("history", "app", "production")
    assert [e["new"]["version"] for e in history["details"]["entries"]] == ["1", "2", "1"]
