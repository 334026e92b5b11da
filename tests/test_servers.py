"""The write protocols on the servers users run: moto as shipped (which ignores CopyObject's
conditions), a store that enforces no conditional write at all (the fault proxy drops the
headers), and what the library learns each one enforces."""

from __future__ import annotations

import hashlib

import pytest
from conftest import STRICT_S3
from faultproxy import CONDITIONAL_HEADERS, Action, op
from publishers import run_mixed, version_keys_written_once
from storage_check import NEW

from versioned_action import LATEST, UnsupportedServer, open_repository
from versioned_action.server import AWS, is_aws


def test_what_moto_as_shipped_enforces_is_learned(http_repo):
    enforcement = http_repo().server.enforcement()
    assert enforcement.conditional_put and enforcement.conditional_delete
    assert enforcement.quoted_if_match
    assert enforcement.copy_conditions is STRICT_S3  # moto 5.2 ignores them unless patched


def test_amazon_s3_is_known_without_a_probe():
    assert is_aws(None) and is_aws("https://s3.eu-west-1.amazonaws.com")
    assert not is_aws("http://127.0.0.1:9000") and not is_aws("https://storage.example.com")
    repo = open_repository("s3", bucket="no-such-bucket-anywhere", region="us-east-1")
    assert repo.server.enforcement() == AWS  # no request made: the bucket does not exist


def test_racing_publishers_write_each_version_key_once(http_repo, backend, moto_endpoint):
    """Six steps put and publish their own builds while three publish LATEST, all at once,
    on a bucket that keeps every object version: each version key was written once, the
    numbers are 1..N, and every step reports a version holding the bytes it says."""
    repo = http_repo()
    repo.s3.put_bucket_versioning(
        Bucket=repo.s3_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    repo.put_artifact("app", b"first build")
    jobs = [("put-and-publish", f"build {i}") for i in range(6)]
    jobs += [("publish", "-")] * 3
    results = run_mixed(repo, backend, moto_endpoint, jobs)

    built = [r for r in results if r["mode"] == "put-and-publish"]
    assert len({r["version"] for r in built}) == len(built), built
    for result in results:
        stored = repo.get_artifact_content("app", result["version"])
        assert hashlib.sha256(stored).hexdigest() == result["sha256"], result
        if result["mode"] == "put-and-publish":
            assert stored == result["payload"].encode(), result
    numbers = sorted(
        int(v.version) for v in repo.list_artifact_versions("app") if v.version != LATEST
    )
    assert numbers == list(range(1, len(numbers) + 1))
    assert {r["version"] for r in results} <= {str(n) for n in numbers}

    version_keys_written_once(repo, "app", numbers)


@pytest.fixture
def enforces_nothing(proxy):
    """The fault proxy as a store that ignores every conditional header."""
    proxy.drop_headers = CONDITIONAL_HEADERS
    return proxy


def test_s3_backend_refuses_what_it_cannot_make_safe(enforces_nothing, make_store):
    store = make_store("s3")
    store.direct.bootstrap()
    repo = store.repo(enforces_nothing.url)
    assert repo.put_artifact(store.name, NEW).changed  # LATEST is last-writer-wins anyway
    with pytest.raises(UnsupportedServer) as publish:
        repo.publish_artifact_version(store.name)
    assert "does not enforce conditional writes" in str(publish.value)
    assert "s3-dynamodb" in publish.value.hint
    direct = store.direct
    assert [v.version for v in direct.list_artifact_versions(store.name)] == [LATEST]

    direct.publish_artifact_version(store.name)
    with pytest.raises(UnsupportedServer, match="cannot move aliases"):
        repo.put_alias(store.name, "prod", 1)
    assert direct.list_aliases(store.name) == []
    assert direct.get_alias_history(store.name, "prod") == []
    listed = direct.s3.list_objects_v2(Bucket=store.bucket, Prefix=f"artifacts/{store.name}/")
    assert not [o for o in listed.get("Contents", []) if "/history/" in o["Key"]]


def test_s3_dynamodb_stays_safe_where_s3_enforces_nothing(enforces_nothing, make_store):
    store = make_store("s3-dynamodb")
    store.direct.bootstrap()
    repo = store.repo(enforces_nothing.url)
    latest, version = repo.put_and_publish(store.name, NEW)
    assert version.version == "1" and version.sha256 == hashlib.sha256(NEW).hexdigest()
    assert repo.publish_artifact_version(store.name).changed is False
    prod = repo.put_alias(store.name, "prod", 1)
    assert prod.changed and store.direct.get_alias(store.name, "prod").version == "1"
    assert repo.server.enforcement().conditional_put is False


def test_the_action_says_why_it_stops_where_nothing_is_enforced(
    enforces_nothing, make_store, make_runner
):
    """Through the entrypoint: one ::error naming the endpoint and s3-dynamodb, no outputs,
    no version and no alias written."""
    store = make_store("s3")
    store.direct.bootstrap()
    runner = make_runner()
    inputs = {**store_inputs(store, enforces_nothing.url), "path": "app.bin", "publish": "true"}
    step = runner.step(operation="put", **inputs)
    assert step.returncode == 1 and len(step.errors) == 1, step.stdout
    assert "does not enforce conditional writes" in step.errors[0]
    assert "s3-dynamodb" in step.errors[0] and enforces_nothing.url in step.errors[0]
    assert "version" not in step.outputs
    assert [v.version for v in store.direct.list_artifact_versions(store.name)] == [LATEST]

    store.direct.publish_artifact_version(store.name)
    step = runner.step(
        operation="promote", alias="prod", **store_inputs(store, enforces_nothing.url)
    )
    assert step.returncode == 1 and "cannot move aliases" in step.errors[0]
    assert store.direct.list_aliases(store.name) == []


def store_inputs(store, endpoint):
    return {
        "backend": store.backend,
        "bucket": store.bucket,
        "prefix": store.prefix,
        "endpoint_url": endpoint,
        "name": store.name,
    }


def test_a_role_that_may_not_delete_still_learns_the_endpoint(proxy, make_store):
    """The probe's conditional delete refused as AccessDenied counts as not enforced (the
    alias deletion then checks before it deletes); the probe object may stay behind."""
    store = make_store("s3")
    store.direct.bootstrap()
    proxy.add_rule(op("DeleteObject"), Action("answer", status=403, error="AccessDenied"), 2)
    enforcement = store.repo(proxy.url).server.enforcement()
    assert enforcement.conditional_put and not enforcement.conditional_delete
