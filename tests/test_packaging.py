"""The container's recipe and pins: what the runner builds must match what the tests run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}")


def dockerfile() -> list[str]:
    return [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]


def lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, hashes)`` of a pip-compile lock with hashes."""
    text = path.read_text().replace("\\\n", " ")
    entries = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==(\S+)\s*(.*)", line.strip())
        if match:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group(3))
            entries[match.group(1).lower()] = (match.group(2), hashes)
    return entries


def constraints() -> dict[str, str]:
    return dict(
        line.strip().lower().split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    )


def test_every_base_image_is_pinned_by_digest_and_runs_the_tested_python():
    froms = [line for line in dockerfile() if line.startswith("FROM ")]
    assert len(froms) == 2  # the build stage and the image the runner starts
    for line in froms:
        assert DIGEST.search(line), line
        assert line.split()[1].startswith("python:3.11-"), "CI tests Python 3.11"


def test_the_image_follows_the_runner_contract():
    lines = dockerfile()
    assert lines[-1] == 'ENTRYPOINT ["python", "/app/entrypoint/main.py"]'
    assert not any(line.startswith("USER") for line in lines)  # the workspace needs root
    text = "\n".join(lines)
    assert "PYTHONUNBUFFERED=1" in text and "PYTHONPATH=/app:/app/site-packages" in text
    final = text[text.rindex("FROM ") :]
    assert "pip uninstall --yes --quiet --root-user-action=ignore pip setuptools wheel" in final
    assert "rm -rf /usr/local/lib/python3.11/ensurepip /usr/local/bin/pip*" in final
    assert "COPY --from=build /app /app" in final
    for label in ("source", "revision", "version", "licenses"):
        assert f"org.opencontainers.image.{label}=" in final


def test_the_build_stage_installs_the_lock_by_its_hashes():
    text = "\n".join(dockerfile())
    assert "RUN sh /src/image-app /app /src/action.txt" in text
    assert "COPY requirements/action.txt scripts/image-app /src/" in text
    script = (ROOT / "scripts" / "image-app").read_text()
    assert "--require-hashes --no-deps" in script and "--only-binary=:all:" in script


def test_the_image_lock_covers_the_runtime_dependencies_and_agrees_with_the_test_pins():
    entries = lock(ROOT / "requirements" / "action.txt")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower() for spec in declared}
    assert names <= set(entries)
    assert {"jmespath", "urllib3", "python-dateutil", "six"} <= set(entries)  # botocore's
    assert "boto3" not in entries and "s3transfer" not in entries  # never imported
    pins = constraints()
    for name, (version, hashes) in entries.items():
        assert pins.get(name) == version.lower(), name
        assert hashes, f"{name} has no hash"


def test_the_smoke_lock_is_hashed_and_agrees_with_the_test_pins():
    entries = lock(ROOT / "requirements" / "smoke.txt")
    assert "moto" in entries and "flask" in entries
    pins = constraints()
    for name, (version, hashes) in entries.items():
        assert hashes, f"{name} has no hash"
        assert pins.get(name, version.lower()) == version.lower(), name


def test_nothing_imports_boto3_or_s3transfer():
    for path in (ROOT / "versioned_action").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from) (boto3|s3transfer)\b", text, re.M), path


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else():
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = set()
    for line in dockerfile():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(part.rstrip("/") for part in line.split()[1:-1])
    assert copied == allowed
