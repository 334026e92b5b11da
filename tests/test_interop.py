"""Interoperability with the published ``versioned==1.0.1`` on the same moto server.

The peer writes and we read and change; we write and the peer reads. Our own records
(alias history, version claims) must never disturb the peer's listings.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from versioned_action import LATEST, HistoryNotFound, open_repository

pytestmark = pytest.mark.peer
DRIVER = Path(__file__).with_name("peer_driver.py")


def peer_available() -> bool:
    return importlib.util.find_spec("versioned") is not None


if not peer_available():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the interop tests: pip install versioned==1.0.1")
    pytest.skip("the peer versioned==1.0.1 is not installed", allow_module_level=True)


@pytest.fixture
def settings(backend, unique):
    repo = {"s3_bucket": f"peer-{unique}", "s3_prefix": "artifacts", "suffix": ".bin"}
    if backend == "s3-dynamodb":
        repo["dynamodb_table_name"] = f"peer-{unique}"
    return repo


@pytest.fixture
def peer(backend, settings, moto_endpoint):
    def run(*steps):
        env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint}
        request = {"backend": backend, "repo": settings, "steps": [list(s) for s in steps]}
        done = subprocess.run(
            [sys.executable, str(DRIVER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@pytest.fixture
def ours(backend, settings, moto_endpoint):
    repo = open_repository(
        backend,
        bucket=settings["s3_bucket"],
        prefix=settings["s3_prefix"],
        suffix=settings["suffix"],
        table=settings.get("dynamodb_table_name", "unused"),
        endpoint_url=moto_endpoint,
        region="us-east-1",
    )
    return repo


def ok(results):
    for result in results:
        assert "ok" in result, result
    return [r["ok"] for r in results]


def test_peer_writes_we_read_and_change(peer, ours):
    ok(
        peer(
            ("put_artifact", {"name": "app", "content": "v1", "metadata": {"team": "a"}}),
            ("publish_artifact_version", {"name": "app"}),
            ("put_artifact", {"name": "app", "content": "v2"}),
            ("publish_artifact_version", {"name": "app"}),
            (
                "put_alias",
                {
                    "name": "app",
                    "alias": "prod",
                    "version": 1,
                    "secondary_version": 2,
                    "secondary_version_weight": 25,
                },
            ),
        )
    )
    assert ours.list_artifact_names() == ["app"]
    assert [v.version for v in ours.list_artifact_versions("app")] == [LATEST, "2", "1"]
    assert ours.get_artifact_content("app", 1) == b"v1"
    prod = ours.get_alias("app", "prod")
    assert (prod.version, prod.secondary_version, prod.secondary_version_weight) == ("1", "2", 25)
    # the peer keeps no history: a rollback must refuse rather than guess
    with pytest.raises(HistoryNotFound):
        ours.rollback("app", "prod")
    # we change what the peer wrote
    assert ours.put_artifact("app", b"v2").changed is False
    ours.put_artifact("app", b"v3")
    assert ours.publish_artifact_version("app").version == "3"
    ours.put_alias("app", "prod", 3, expected_version=1)
    assert ours.rollback("app", "prod").target.describe() == "1 (75%) + 2 (25%)"


def test_we_write_peer_reads_and_changes(peer, ours):
    ours.bootstrap()
    ours.put_artifact("app", b"v1", metadata={"team": "a"})
    ours.publish_artifact_version("app")
    ours.put_artifact("app", b"v2")
    ours.publish_artifact_version("app")
    ours.put_alias("app", "prod", 1, 2, 30)
    ours.put_alias("app", "prod", 2)  # leaves history behind, which the peer must ignore
    ours.put_alias("app", "dev")
    names, versions, latest, content, alias, aliases = ok(
        peer(
            ("list_artifact_names", {}),
            ("list_artifact_versions", {"name": "app"}),
            ("get_artifact_version", {"name": "app"}),
            ("get_content", {"name": "app", "version": 1}),
            ("get_alias", {"name": "app", "alias": "prod"}),
            ("list_aliases", {"name": "app"}),
        )
    )
    assert names == ["app"]
    assert [v["version"] for v in versions] == [LATEST, "2", "1"]
    assert latest["sha256"] == ours.get_artifact_version("app").sha256
    assert content == "v1"
    assert alias["version"] == "2" and alias["version_s3uri"] == ours.s3uri("app", "2")
    assert sorted(a["alias"] for a in aliases) == ["dev", "prod"]
    # the peer changes what we wrote, and we keep reading it
    _, published = ok(
        peer(
            ("put_artifact", {"name": "app", "content": "v3"}),
            ("publish_artifact_version", {"name": "app"}),
        )
    )
    assert published["version"] == "3"
    ok(peer(("put_alias", {"name": "app", "alias": "prod", "version": 3})))
    assert ours.get_alias("app", "prod").version == "3"
    assert ours.get_artifact_content("app", 3) == b"v3"
    ok(
        peer(
            (
                "purge_artifact_versions",
                {"name": "app", "keep_last_n": 1, "purge_older_than_secs": 0},
            )
        )
    )
    assert [v.version for v in ours.list_artifact_versions("app")][:2] == [LATEST, "3"]


def test_peer_purges_everything_we_stored(peer, ours):
    ours.bootstrap()
    ours.put_artifact("app", b"v1")
    ours.publish_artifact_version("app")
    ours.put_alias("app", "prod", 1)
    ok(peer(("purge_all", {})))
    assert ours.list_artifact_names() == []
    assert ours.list_aliases("app") == []


@pytest.mark.parametrize("backend", ["s3-dynamodb"])  # only it claims numbers before content
def test_a_pending_claim_is_invisible_to_the_peer(peer, ours):
    """A publish that died after claiming its number leaves a gap, never a broken version."""
    ours.bootstrap()
    ours.put_artifact("app", b"v1")
    ours.publish_artifact_version("app")
    assert ours._reserve("app", 2, "0" * 64, "dead")  # as if the process died after the claim
    ours.put_artifact("app", b"v2")
    versions, missing, published = peer(
        ("list_artifact_versions", {"name": "app"}),
        ("get_artifact_version", {"name": "app", "version": 2}),
        ("publish_artifact_version", {"name": "app"}),
    )
    assert [v["version"] for v in versions["ok"]] == [LATEST, "1"]
    assert missing["error"] == "ArtifactNotFoundError"
    assert published["ok"]["version"] == "3"
    assert ours.get_artifact_content("app", 3) == b"v2"
