"""The two seed quick starts (S3 only, S3 + DynamoDB), replayed step by step."""

from __future__ import annotations

import random

from versioned_action import LATEST


def content(tag: str) -> bytes:
    return f"Binary content for {tag} - timestamp: 2024-01-01".encode()


def canary_share(alias, draws=1000) -> float:
    rng = random.Random(42)
    hits = sum(alias.random_artifact(rng) == alias.secondary_version_s3uri for _ in range(draws))
    return hits / draws


def keys(repo) -> list[str]:
    listed = repo.s3.list_objects_v2(Bucket=repo.s3_bucket, Prefix=repo.s3_prefix + "/")
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def test_s3_only_quick_start(make_repo):
    repo = make_repo("s3", prefix="artifacts", suffix=".bin")
    name = "my_application"
    v1, v2, v3 = content("version 1.0"), content("version 2.0 - enhanced"), content("3.0")

    artifact = repo.put_artifact(
        name,
        v1,
        content_type="application/octet-stream",
        metadata={"description": "core", "version": "1.0", "created_by": "dev_team"},
    )
    assert (
        artifact.s3uri
        == f"s3://{repo.s3_bucket}/artifacts/my_application/versions/000000_LATEST.bin"
    )
    assert repo.get_artifact_content(name) == v1
    assert repo.list_artifact_names() == [name]

    published = repo.publish_artifact_version(name)
    assert published.version == "1"
    assert published.s3uri.endswith("/my_application/versions/999999_000001.bin")
    assert [v.version for v in repo.list_artifact_versions(name)] == [LATEST, "1"]

    repo.put_artifact(name, v2, metadata={"version": "2.0", "changes": "enhanced"})
    assert repo.publish_artifact_version(name).version == "2"

    assert repo.put_alias(name, "development").version == LATEST
    assert repo.put_alias(name, "production", version=1).version == "1"
    assert repo.put_alias(name, "staging", version=2).version == "2"

    assert repo.get_alias(name, "production").version == "1"
    assert repo.get_alias(name, "staging").version == "2"
    blue_green = repo.put_alias(name, "production", version=2)
    assert repo.get_artifact_content(name, blue_green.version) == v2

    repo.put_artifact(name, v3, metadata={"version": "3.0"})
    assert repo.publish_artifact_version(name).version == "3"
    canary = repo.put_alias(
        name, "production", version=2, secondary_version=3, secondary_version_weight=10
    )
    assert 0.07 < canary_share(canary) < 0.13
    half = repo.put_alias(
        name, "production", version=2, secondary_version=3, secondary_version_weight=50
    )
    assert 0.45 < canary_share(half) < 0.55
    assert repo.put_alias(name, "production", version=3).version == "3"

    assert repo.put_alias(name, "production", version=2).version == "2"  # emergency
    assert repo.get_artifact_content(name, repo.get_alias(name, "production").version) == v2

    assert len(repo.list_artifact_versions(name)) == 4
    purged = repo.purge_artifact_versions(name, keep_last_n=2, purge_older_than_secs=0)
    assert [d.version for d in purged.deleted] == ["1"]
    assert [v.version for v in repo.list_artifact_versions(name)] == [LATEST, "3", "2"]
    assert keys(repo) == sorted(
        [
            f"artifacts/{name}/versions/000000_LATEST.bin",
            f"artifacts/{name}/versions/999998_000002.bin",
            f"artifacts/{name}/versions/999997_000003.bin",
        ]
        + [f"artifacts/{name}/aliases/{a}.json" for a in ("development", "production", "staging")]
        + [k for k in keys(repo) if k.startswith(f"artifacts/{name}/history/")]
        # where copies are not conditional (moto as shipped), numbers are claimed first
        + [k for k in keys(repo) if k.startswith(f"artifacts/{name}/claims/")]
    )
    claims = [k for k in keys(repo) if "/claims/" in k]
    assert len(claims) == (0 if repo.server.enforcement().copy_conditions else 3)

    # beyond the seed: undo the emergency switch from the recorded history
    assert repo.rollback(name, "production").version == "3"


def test_s3_dynamodb_quick_start(make_repo):
    repo = make_repo("s3-dynamodb", prefix="artifacts", table="myartifacts")
    name = "customer_analytics_db"
    v1 = b"Database content for version 1.0 with user_tables, basic_indexes"
    v2 = b"Database content for version 2.0 with user_tables, advanced_indexes, analytics_views"
    v3 = b"Database content for version 3.0 with ml_features"

    artifact = repo.put_artifact(
        name,
        v1,
        content_type="application/x-sqlite3",
        metadata={"schema_version": "1.0", "created_by": "data_team"},
    )
    assert artifact.s3uri == f"s3://{repo.s3_bucket}/artifacts/{name}/LATEST"
    assert repo.get_artifact_content(name) == v1
    assert repo.list_artifact_names() == [name]
    assert repo.get_artifact_version(name).sha256 == artifact.sha256

    assert repo.publish_artifact_version(name).s3uri.endswith(f"/{name}/000001")
    versions = repo.list_artifact_versions(name)
    assert [v.version for v in versions] == [LATEST, "1"]
    assert versions[0].sha256 == versions[1].sha256

    repo.put_artifact(name, v2, content_type="application/x-sqlite3")
    assert repo.publish_artifact_version(name).version == "2"

    repo.put_alias(name, "development")
    repo.put_alias(name, "staging", version=2)
    repo.put_alias(name, "production", version=1)
    assert {a.alias: a.version for a in repo.list_aliases(name)} == {
        "development": LATEST,
        "production": "1",
        "staging": "2",
    }

    new_prod = repo.put_alias(name, "production", version=2)
    assert repo.get_artifact_content(name, new_prod.version) == v2

    repo.put_artifact(name, v3, metadata={"canary_candidate": "true"})
    assert repo.publish_artifact_version(name).version == "3"
    canary = repo.put_alias(
        name, "production", version=2, secondary_version=3, secondary_version_weight=10
    )
    assert 0.07 < canary_share(canary) < 0.13
    repo.put_alias(name, "production", version=2, secondary_version=3, secondary_version_weight=50)
    assert repo.put_alias(name, "production", version=3).version == "3"

    rollback = repo.put_alias(name, "production", version=2)
    assert repo.get_alias(name, "production").version == rollback.version == "2"

    assert len(repo.list_artifact_versions(name)) == 4
    purged = repo.purge_artifact_versions(name, keep_last_n=3, purge_older_than_secs=0)
    assert purged.deleted == ()
    assert len(repo.list_artifact_versions(name)) == 4
    assert repo.get_artifact_content(name, repo.get_alias(name, "production").version) == v2
    assert repo.rollback(name, "production").version == "3"
