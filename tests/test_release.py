"""The release: scripts/release.py's steps, its dry run, and the workflow that calls them."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import release  # noqa: E402

DIGEST = "ghcr.io/acme/versioned-action@sha256:" + "ab" * 32
CHANGELOG = """# Changelog

## [Unreleased]

## [1.2.0] - 2026-12-01

### Added

- history and delete-alias.

## [1.1.0] - 2026-11-01

### Fixed

- a thing.

[1.2.0]: https://example.invalid/compare/v1.1.0...v1.2.0
"""


@pytest.fixture
def tree(tmp_path):
    """A copy of what the release reads: pyproject.toml, CHANGELOG.md and action.yml."""
    for name in ("pyproject.toml", "action.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    text = (tmp_path / "pyproject.toml").read_text()
    text = re.sub(r'^version = ".*"$', 'version = "1.2.0"', text, flags=re.M)
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_a_tag_that_agrees_with_pyproject_and_the_changelog_passes(tree):
    assert release.check("v1.2.0", tree) == "1.2.0"


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("1.2.0", "is not vMAJOR"),
        ("v1.2", "is not vMAJOR"),
        ("v01.2.0", "is not vMAJOR"),
        ("v1.1.0", "pyproject.toml says version '1.2.0'"),
    ],
)
def test_a_tag_that_does_not_agree_is_refused_before_any_build(tree, tag, message):
    with pytest.raises(release.ReleaseError, match=re.escape(message)):
        release.check(tag, tree)


def test_a_version_without_a_dated_changelog_section_is_refused(tree):
    (tree / "CHANGELOG.md").write_text(CHANGELOG.replace("## [1.2.0] - 2026-12-01", "## [1.2.0]"))
    with pytest.raises(release.ReleaseError, match="no release date"):
        release.check("v1.2.0", tree)
    (tree / "CHANGELOG.md").write_text(CHANGELOG.replace("## [1.2.0] - 2026-12-01\n", ""))
    with pytest.raises(release.ReleaseError, match=r"no section '## \[1.2.0\]"):
        release.check("v1.2.0", tree)


def test_a_tag_on_a_release_commit_is_refused(tree):
    (tree / "action.yml").write_text(release.pinned((tree / "action.yml").read_text(), DIGEST))
    with pytest.raises(release.ReleaseError, match="release commit"):
        release.check("v1.2.0", tree)


def test_the_notes_are_the_versions_section_alone(tree):
    notes = release.changelog_section("1.2.0", tree)
    assert notes == "### Added\n\n- history and delete-alias.\n"
    assert release.changelog_section("1.1.0", tree) == "### Fixed\n\n- a thing.\n"


def test_pinning_changes_only_the_image_line():
    before = (ROOT / "action.yml").read_text()
    after = release.pinned(before, DIGEST)
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [("  image: Dockerfile", f"  image: docker://{DIGEST}")]
    assert yaml.safe_load(after)["runs"] == {"using": "docker", "image": f"docker://{DIGEST}"}


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/versioned-action:v1.2.0",  # a tag moves; a digest does not
        "ghcr.io/Acme/versioned-action@sha256:" + "ab" * 32,  # registries want lower case
        "docker.io/acme/versioned-action@sha256:" + "ab" * 32,
        "ghcr.io/acme/versioned-action@sha256:" + "ab" * 31,
        "ghcr.io/acme/versioned-action@sha256:" + "ab" * 32 + "\n  extra: 1",
    ],
)
def test_pinning_refuses_anything_but_a_ghcr_digest(image):
    with pytest.raises(release.ReleaseError):
        release.pinned((ROOT / "action.yml").read_text(), image)


@pytest.mark.parametrize(
    ("tag", "others", "newest"),
    [
        ("v1.2.0", ["v1.1.0", "v1.0.3", "v1"], True),
        ("v1.2.0", [], True),
        ("v1.1.5", ["v1.2.0", "v1.1.4"], False),  # a fix of an older minor keeps v1 where it is
        ("v2.0.0", ["v1.9.9"], True),
        ("v1.10.0", ["v1.9.0"], True),  # numbers, not strings
    ],
)
def test_the_major_tag_moves_only_to_the_newest_release_of_its_major(tag, others, newest):
    assert release.is_newest(tag, others) is newest


def test_the_command_line_reports_a_refusal_with_exit_1():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "check", "1.0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "release: tag '1.0' is not vMAJOR" in done.stderr


def test_the_dry_run_builds_the_package_and_the_image_filesystem_and_runs_it():
    """Every release step that needs no GitHub: the dist files, /app from the hashed lock,
    the entrypoint run from /app alone against moto, and the one-line release commit."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "dry-run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    steps = [line for line in done.stdout.splitlines() if line.startswith("== ")]
    try:
        release.check(f"v{release.package_version()}")
        assert done.returncode == 0, done.stdout + done.stderr
    except release.ReleaseError as err:  # no dated CHANGELOG section for this version yet
        assert done.returncode == 1, done.stdout + done.stderr
        version = release.package_version()
        assert steps[-1] == f"== result: v{version} cannot be released as the tree is: {err}"
    text = "\n".join(steps)
    assert re.search(r"== package: versioned_action-\S+-py3-none-any\.whl", text)
    assert re.search(r"== image /app: [\d.]+ MiB, 7 packages: botocore", text)
    assert text.count("== image smoke:") == 4
    assert "image: docker://ghcr.io/owner/repo@sha256:" in text
    github_only = [line for line in steps if line.startswith("== needs GitHub:")]
    assert any("attest" in line for line in github_only)
    assert any("PyPI by trusted publishing" in line for line in github_only)


def release_workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())


def test_the_release_workflow_runs_on_a_version_tag_with_least_privilege():
    workflow = release_workflow()
    assert workflow[True] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    writes = {name: job["permissions"] for name, job in jobs.items()}
    assert writes["test"] == writes["dist"] == {"contents": "read"}
    assert [n for n, p in writes.items() if "id-token" in p] == ["image", "pypi"]
    assert [n for n, p in writes.items() if p.get("contents") == "write"] == [
        "release-commit",
        "github-release",
        "major-tag",
    ]
    assert jobs["pypi"]["environment"]["name"] == "pypi"
    order = {name: job.get("needs", []) for name, job in jobs.items()}
    assert order["release-commit"] == ["image", "dist"]  # tags move only after the image
    assert order["pypi"] == "github-release"
    assert order["major-tag"] == ["release-commit", "pypi"]  # last: a refused move loses nothing


def test_the_release_workflow_calls_the_steps_the_dry_run_shows():
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    for command in ("release.py check", "release.py pin", "release.py newest", "release.py notes"):
        assert command in text
    assert "bash .ci/run" in text
    assert "platforms: linux/amd64,linux/arm64" in text
    for job in release_workflow()["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
