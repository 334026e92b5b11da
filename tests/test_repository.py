"""Every repository operation on both backends, over HTTP and in-process moto."""

from __future__ import annotations

import hashlib
import random

import pytest
from conftest import STRICT_S3
from requests_counter import watch

from versioned_action import (
    LATEST,
    AliasNotFound,
    ArtifactNotFound,
    BucketNotFound,
    Conflict,
    HistoryNotFound,
    InvalidInput,
    TableNotFound,
    VersionNotFound,
    layout,
    operations,
)
from versioned_action.models import utc_now
from versioned_action.request import parse


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_put_then_get_latest(repo):
    artifact = repo.put_artifact(
        "app", b"v1", content_type="application/zip", metadata={"build": "7"}, tags={"team": "a"}
    )
    assert (artifact.version, artifact.sha256, artifact.size, artifact.changed) == (
        LATEST,
        sha(b"v1"),
        2,
        True,
    )
    assert artifact.s3uri == repo.s3uri("app", LATEST)
    stored = repo.get_artifact_version("app")
    assert (stored.version, stored.sha256) == (LATEST, sha(b"v1"))
    head = repo.s3.head_object(Bucket=repo.s3_bucket, Key=repo.object_key("app", LATEST))
    assert head["Metadata"] == {"build": "7", "artifact_name": "app", "artifact_sha256": sha(b"v1")}
    assert head["ContentType"] == "application/zip"
    tagging = repo.s3.get_object_tagging(Bucket=repo.s3_bucket, Key=repo.object_key("app", LATEST))
    assert tagging["TagSet"] == [{"Key": "team", "Value": "a"}]
    assert repo.get_artifact_content("app") == b"v1"


def test_put_same_content_skips_the_upload(repo):
    repo.put_artifact("app", b"same")
    stored = repo.get_artifact_version("app")
    calls = watch(repo)
    again = repo.put_artifact("app", b"same")
    # no body sent; s3-dynamodb reads the object and its record, to repair a record that a
    # put killed between its two writes left stale
    assert sum(calls.values()) == (1 if repo.backend == "s3" else 2), calls
    assert not any("Put" in op or "Upload" in op for op in calls)
    assert (again.changed, again.update_at) == (False, stored.update_at)


def test_put_accepts_paths_and_streams(repo, tmp_path):
    path = tmp_path / "build.bin"
    path.write_bytes(b"from a file")
    assert repo.put_artifact("app", path).sha256 == sha(b"from a file")
    with path.open("rb") as stream:
        assert repo.put_artifact("app", stream).changed is False
    with pytest.raises(InvalidInput, match="path"):
        repo.put_artifact("app", tmp_path / "missing.bin")


def test_publish_numbers_versions_and_dedupes(repo):
    with pytest.raises(ArtifactNotFound):
        repo.publish_artifact_version("app")
    repo.put_artifact("app", b"v1")
    v1 = repo.publish_artifact_version("app")
    assert (v1.version, v1.changed, v1.sha256) == ("1", True, sha(b"v1"))
    same = repo.publish_artifact_version("app")
    assert (same.version, same.changed) == ("1", False)
    repo.put_artifact("app", b"v2")
    v2 = repo.publish_artifact_version("app")
    assert v2.version == "2"
    assert [a.version for a in repo.list_artifact_versions("app")] == [LATEST, "2", "1"]
    assert repo.get_artifact_content("app", 1) == b"v1"
    assert repo.get_artifact_version("app", "000002").sha256 == sha(b"v2")


def test_published_version_keeps_metadata_and_tags(repo):
    repo.put_artifact("app", b"v1", content_type="text/plain", metadata={"k": "v"}, tags={"t": "1"})
    repo.publish_artifact_version("app")
    key = repo.object_key("app", "1")
    head = repo.s3.head_object(Bucket=repo.s3_bucket, Key=key)
    assert head["Metadata"]["k"] == "v" and head["ContentType"] == "text/plain"
    assert repo.s3.get_object_tagging(Bucket=repo.s3_bucket, Key=key)["TagSet"] == [
        {"Key": "t", "Value": "1"}
    ]


def test_put_and_publish(repo):
    latest, version = repo.put_and_publish("app", b"release")
    assert (latest.changed, version.version, version.changed) == (True, "1", True)
    latest, version = repo.put_and_publish("app", b"release")
    assert (latest.changed, version.version, version.changed) == (False, "1", False)


def test_put_and_publish_ships_its_own_bytes_when_latest_moves(repo, monkeypatch):
    """Another run replaces LATEST between this step's put and its publish."""
    original = repo._newest

    def racing_newest(name, **kwargs):
        other = repo.put_artifact(name, b"another run's build")
        assert other.changed
        monkeypatch.setattr(repo, "_newest", original)
        return original(name, **kwargs)

    monkeypatch.setattr(repo, "_newest", racing_newest)
    _, version = repo.put_and_publish("app", b"my build")
    assert version.sha256 == sha(b"my build")
    assert repo.get_artifact_content("app", version.version) == b"my build"
    assert repo.get_artifact_content("app") == b"another run's build"


def test_versions_missing(repo):
    repo.put_artifact("app", b"v1")
    with pytest.raises(VersionNotFound):
        repo.get_artifact_version("app", 5)
    with pytest.raises(ArtifactNotFound):
        repo.get_artifact_version("nope")


def test_list_artifact_names(repo):
    for name in ("b-app", "a-app"):
        repo.put_artifact(name, b"x")
    assert repo.list_artifact_names() == ["a-app", "b-app"]


def test_delete_version(repo):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    with pytest.raises(Conflict, match="prod"):
        repo.delete_artifact_version("app", 1)
    repo.delete_alias("app", "prod")
    repo.delete_artifact_version("app", 1)
    with pytest.raises(VersionNotFound):
        repo.get_artifact_version("app", 1)
    with pytest.raises(VersionNotFound):
        repo.delete_artifact_version("app", 1)


def test_soft_delete_in_dynamodb_hard_delete_in_s3(make_repo, backend):
    repo = make_repo(backend)
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.delete_artifact_version("app", 1)
    key = repo.object_key("app", "1")
    listed = repo.s3.list_objects_v2(Bucket=repo.s3_bucket, Prefix=key).get("KeyCount", 0)
    assert listed == (1 if backend == "s3-dynamodb" else 0)
    if backend == "s3":
        with pytest.raises(InvalidInput, match="LATEST"):
            repo.delete_artifact_version("app", LATEST)


def test_deleted_newest_number_is_not_reused_in_dynamodb(make_repo):
    repo = make_repo("s3-dynamodb")
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.delete_artifact_version("app", 1)
    assert repo.publish_artifact_version("app").version == "2"


def test_aliases(repo):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_artifact("app", b"v2")
    repo.publish_artifact_version("app")
    dev = repo.put_alias("app", "development")
    assert (dev.version, dev.changed, dev.previous) == (LATEST, True, None)
    prod = repo.put_alias("app", "production", 1)
    assert prod.version_s3uri == repo.s3uri("app", "1")
    canary = repo.put_alias("app", "production", 1, 2, 10)
    assert canary.secondary_version_s3uri == repo.s3uri("app", "2")
    assert canary.previous.version == "1"
    again = repo.put_alias("app", "production", 1, 2, 10)
    assert again.changed is False
    got = repo.get_alias("app", "production")
    assert (got.version, got.secondary_version, got.secondary_version_weight) == ("1", "2", 10)
    assert [a.alias for a in repo.list_aliases("app")] == ["development", "production"]
    with pytest.raises(VersionNotFound):
        repo.put_alias("app", "production", 9)
    with pytest.raises(AliasNotFound):
        repo.get_alias("app", "nope")
    repo.delete_alias("app", "development")
    assert [a.alias for a in repo.list_aliases("app")] == ["production"]


def test_random_artifact_follows_the_weights(repo):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_artifact("app", b"v2")
    repo.publish_artifact_version("app")
    alias = repo.put_alias("app", "prod", 1, 2, 10)
    rng = random.Random(7)
    picks = [alias.random_artifact(rng) for _ in range(2000)]
    share = picks.count(alias.secondary_version_s3uri) / len(picks)
    assert 0.07 < share < 0.13
    assert repo.put_alias("app", "prod", 1).random_artifact(rng) == alias.version_s3uri


def test_alias_compare_and_swap(repo):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_artifact("app", b"v2")
    repo.publish_artifact_version("app")
    with pytest.raises(Conflict, match="does not exist"):
        repo.put_alias("app", "prod", 1, expected_version=1)
    repo.put_alias("app", "prod", 1)
    with pytest.raises(Conflict, match="points at 1, not 2"):
        repo.put_alias("app", "prod", 2, expected_version=2)
    assert repo.put_alias("app", "prod", 2, expected_version=1).version == "2"


def test_alias_write_conflict_is_retried_from_a_fresh_read(repo, monkeypatch):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_artifact("app", b"v2")
    repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    original = repo._read_alias
    calls = []

    def interleaved(name, alias):
        state = original(name, alias)
        if not calls:
            calls.append(1)
            repo.put_alias("app", "prod", LATEST)  # someone else writes after our read
        return state

    monkeypatch.setattr(repo, "_read_alias", interleaved)
    result = repo.put_alias("app", "prod", 2)
    assert result.previous.version == LATEST  # the retry saw the other writer's change
    history = repo.get_alias_history("app", "prod")
    assert [e.new.version for e in history] == ["2", LATEST, "1"]


def test_history_and_rollback(repo):
    for content in (b"v1", b"v2", b"v3"):
        repo.put_artifact("app", content)
        repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1, actor="alice", reason="first release")
    with pytest.raises(HistoryNotFound, match="nothing before it"):
        repo.rollback("app", "prod")
    repo.put_alias("app", "prod", 1, 2, 20)
    repo.put_alias("app", "prod", 2)
    back = repo.rollback("app", "prod", actor="bob")
    assert back.target.describe() == "1 (80%) + 2 (20%)"
    assert back.previous.version == "2"
    history = repo.get_alias_history("app", "prod")
    assert history[0].reason == "rollback" and history[0].actor == "bob"
    assert history[-1].actor == "alice" and history[-1].reason == "first release"
    assert repo.rollback("app", "prod").version == "2"  # undo the undo
    pinned = repo.rollback("app", "prod", version=3)
    assert (pinned.version, pinned.secondary_version) == ("3", None)
    with pytest.raises(Conflict):
        repo.rollback("app", "prod", expected_version=1)
    with pytest.raises(AliasNotFound):
        repo.rollback("app", "staging")


def test_rollback_dry_run_changes_nothing(repo):
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", LATEST)
    repo.put_alias("app", "prod", 1)
    planned = repo.rollback("app", "prod", dry_run=True)
    assert (planned.version, planned.changed) == (LATEST, True)
    assert repo.get_alias("app", "prod").version == "1"
    assert len(repo.get_alias_history("app", "prod")) == 2


def test_rollback_without_our_history_fails_clearly(repo):
    """An alias written by a tool that keeps no history (the peer) cannot be undone blindly."""
    repo.put_artifact("app", b"v1")
    repo.publish_artifact_version("app")
    with pytest.raises(AliasNotFound):
        repo.rollback("app", "prod")
    repo.put_alias("app", "prod", 1)
    # another tool moves the alias to LATEST and records nothing (its write has none of ours)
    if repo.backend == "s3":
        body = layout.encode_alias_document("app", "prod", LATEST, None, None, "s3://x", None)
        repo.s3.put_object(Bucket=repo.s3_bucket, Key=repo._alias_key("app", "prod"), Body=body)
    else:
        repo._Alias(
            pk=layout.alias_pk("app"), sk="prod", update_at=utc_now(), version=LATEST
        ).save()
    with pytest.raises(HistoryNotFound, match="keeps no history"):
        repo.rollback("app", "prod")


def test_purge_keeps_latest_recent_and_aliased(repo):
    for i in range(1, 6):
        repo.put_artifact("app", f"v{i}".encode())
        repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    repo.put_alias("app", "canary", 3, 2, 5)
    planned = repo.purge_artifact_versions(
        "app", keep_last_n=2, purge_older_than_secs=0, dry_run=True
    )
    assert planned.dry_run and [a.version for a in planned.deleted] == []
    assert sorted(planned.kept_for_aliases) == ["1", "2", "3"]
    repo.put_alias("app", "canary", 4)
    purged = repo.purge_artifact_versions("app", keep_last_n=2, purge_older_than_secs=0)
    assert [a.version for a in purged.deleted] == ["3", "2"]
    assert [a.version for a in repo.list_artifact_versions("app")] == [LATEST, "5", "4", "1"]
    kept = repo.purge_artifact_versions("app", keep_last_n=0, purge_older_than_secs=3600)
    assert kept.deleted == ()
    with pytest.raises(InvalidInput, match="invalid keep_last_n"):
        repo.purge_artifact_versions("app", keep_last_n=-1)


@pytest.mark.parametrize("count", [4, 30])
def test_purge_reads_one_listing_and_deletes_in_one_batch(repo, backend, count):
    """No read per version: the listing gives numbers and times. The deletions are one
    DeleteObjects on s3 (1,000 keys a request), one UpdateItem a version on s3-dynamodb."""
    for i in range(1, count + 1):
        repo.put_and_publish("app", f"v{i}".encode())
    repo.put_alias("app", "prod", 1)
    calls = watch(repo)
    purged = repo.purge_artifact_versions("app", keep_last_n=2, purge_older_than_secs=0)
    deleted = count - 3  # all but the newest two and the one prod uses
    assert len(purged.deleted) == deleted and purged.kept_for_aliases == ("1",)
    if backend == "s3":  # list versions, list aliases + GET prod, one DeleteObjects
        assert dict(calls) == {
            "s3.ListObjectsV2": 2,
            "s3.GetObject": 1,
            "s3.DeleteObjects": 1,
        }, calls
    else:  # query aliases, query versions, one UpdateItem (soft delete) a version
        assert dict(calls) == {"dynamodb.Query": 2, "dynamodb.UpdateItem": deleted}, calls
    listed = [a.version for a in repo.list_artifact_versions("app")]
    assert listed == [LATEST, str(count), str(count - 1), "1"]


def test_purge_artifact_and_all(repo):
    for name in ("one", "two"):
        repo.put_artifact(name, b"x")
        repo.publish_artifact_version(name)
        repo.put_alias(name, "prod", 1)
    repo.purge_artifact("one")
    assert repo.list_artifact_names() == ["two"]
    with pytest.raises(ArtifactNotFound):
        repo.get_artifact_version("one")
    assert repo.list_aliases("one") == []
    repo.purge_all()
    assert repo.list_artifact_names() == []
    assert repo.list_aliases("two") == []


def test_download_verifies_and_leaves_nothing_on_mismatch(repo, tmp_path):
    repo.put_artifact("app", b"good bytes")
    target = tmp_path / "out" / "app.bin"
    artifact = repo.download_artifact("app", target)
    assert target.read_bytes() == b"good bytes" and artifact.size == 10
    key = repo.object_key("app", LATEST)
    repo.s3.put_object(
        Bucket=repo.s3_bucket,
        Key=key,
        Body=b"tampered",
        Metadata={"artifact_name": "app", "artifact_sha256": sha(b"good bytes")},
    )
    bad = tmp_path / "bad.bin"
    with pytest.raises(Exception, match="sha256") as info:
        repo.download_artifact("app", bad)
    assert type(info.value).__name__ == "IntegrityError"
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]


def test_missing_bucket_is_named(make_repo, backend):
    make_repo(backend)  # the table exists; only the bucket is missing
    repo = make_repo(backend, bootstrap=False, bucket="no-such-bucket-here")
    with pytest.raises(BucketNotFound, match="no-such-bucket-here"):
        repo.put_artifact("app", b"x")
    with pytest.raises(BucketNotFound):
        repo.list_artifact_names()
    if backend == "s3":
        with pytest.raises(BucketNotFound):
            repo.get_artifact_version("app")


def test_missing_table_is_named(make_repo):
    repo = make_repo("s3-dynamodb", bootstrap=False, table="no-such-table")
    with pytest.raises(TableNotFound, match="no-such-table"):
        repo.get_artifact_version("app")


def test_bad_input_writes_nothing(repo):
    with pytest.raises(InvalidInput, match="name"):
        repo.put_artifact("../evil", b"x")
    with pytest.raises(InvalidInput, match="metadata"):
        repo.put_artifact("app", b"x", metadata={"k": "\u00e9"})
    with pytest.raises(InvalidInput, match="alias"):
        repo.put_alias("app", "blue-green", 1)
    assert repo.s3.list_objects_v2(Bucket=repo.s3_bucket).get("KeyCount", 0) == 0


def test_bootstrap_is_idempotent(repo):
    repo.bootstrap()
    repo.put_artifact("app", b"x")
    repo.bootstrap()
    assert repo.get_artifact_content("app") == b"x"


def test_a_taken_s3_key_becomes_a_gap_in_dynamodb(make_repo, transport):
    """An object already at the next number (a peer's racing copy) is never overwritten."""
    if transport == "inprocess" and not STRICT_S3:
        pytest.skip("in-process moto poses as AWS (no endpoint) but ignores copy conditions")
    repo = make_repo("s3-dynamodb")
    repo.put_artifact("app", b"v1")
    repo.s3.put_object(Bucket=repo.s3_bucket, Key=repo.object_key("app", "1"), Body=b"foreign")
    version = repo.publish_artifact_version("app")
    assert version.version == "2"
    assert repo.get_artifact_content("app", 2) == b"v1"
    body = repo.s3.get_object(Bucket=repo.s3_bucket, Key=repo.object_key("app", "1"))["Body"]
    assert body.read() == b"foreign"
    assert [v.version for v in repo.list_artifact_versions("app")] == [LATEST, "2"]


def test_endpoint_from_the_standard_variables(moto_endpoint, monkeypatch, unique, backend):
    """AWS_ENDPOINT_URL (or the per-service form) is honoured, with checksums only as required."""
    from versioned_action import open_repository

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    repo = open_repository(backend, bucket=f"env-{unique}", table=f"env-{unique}")
    assert repo.s3.meta.endpoint_url == moto_endpoint
    assert repo.s3.meta.config.request_checksum_calculation == "when_required"
    repo.bootstrap()
    repo.put_artifact("app", b"through the variables")
    assert repo.get_artifact_content("app") == b"through the variables"


def test_aws_endpoints_keep_default_checksums(monkeypatch):
    from versioned_action.aws import AwsSettings

    settings = AwsSettings.resolve("eu-west-1", None)
    assert settings.s3_endpoint is None
    assert settings.s3_client().meta.config.request_checksum_calculation == "when_supported"


@pytest.mark.parametrize("count", [3, 25])
def test_promote_to_the_newest_reads_the_top_not_every_version(repo, backend, count):
    """Requests do not grow with the number of versions (s3 used to HEAD every one)."""
    for i in range(1, count + 1):
        repo.put_and_publish("app", f"v{i}".encode())
    request = parse(
        {"operation": "promote", "backend": backend, "bucket": repo.s3_bucket, "name": "app"}
        | {"alias": "prod", "prefix": "artifacts"}
    )
    calls = watch(repo)
    result = operations.run(request, repo=repo)
    assert (result.version, result.changed) == (str(count), True)
    # s3: list the top, then HEAD the version, GET alias, PUT entry, PUT alias;
    # s3-dynamodb: query the top, then GetItem alias and version, one transaction
    assert sum(calls.values()) == {"s3": 5, "s3-dynamodb": 4}[backend], calls


def test_newest_version_skips_a_deleted_top(make_repo):
    repo = make_repo("s3-dynamodb")
    for i in range(1, 4):
        repo.put_and_publish("app", f"v{i}".encode())
    repo.delete_artifact_version("app", 3)
    assert repo.get_newest_version("app").version == "2"
    assert repo.get_newest_version_number("app") == "2"
    empty = make_repo("s3", bucket=f"{repo.s3_bucket}-e")
    assert empty.get_newest_version("app") is None
    assert empty.get_newest_version_number("app") is None
