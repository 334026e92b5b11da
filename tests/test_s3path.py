"""S3 paths as s3pathlib objects where a library user wants a path, at no cost to the action."""

from __future__ import annotations

import subprocess
import sys

from s3pathlib import S3Path


def test_a_version_and_an_alias_give_s3paths(repo):
    repo.put_artifact("app", b"one")
    repo.publish_artifact_version("app")
    repo.put_artifact("app", b"two")
    version = repo.publish_artifact_version("app")
    assert isinstance(version.s3path, S3Path)
    assert version.s3path.uri == version.s3uri
    assert version.s3path.bucket == repo.s3_bucket
    alias = repo.put_alias("app", "prod", 1, secondary_version=2, secondary_version_weight=10)
    assert alias.version_s3path.uri == alias.version_s3uri
    assert alias.secondary_version_s3path.uri == alias.secondary_version_s3uri
    assert repo.put_alias("app", "stage", 2).secondary_version_s3path is None


def test_the_action_and_the_cli_never_import_s3pathlib():
    """s3pathlib imports boto3, smart_open and more: about half a second a step."""
    code = (
        "import sys, versioned_action.github.action, versioned_action.cli; "
        "print(sorted(m for m in ('s3pathlib', 'boto3', 's3transfer') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
