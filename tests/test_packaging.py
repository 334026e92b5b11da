"""The container's recipe and pins: what the runner builds must match what the tests run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_dockerfile_follows_the_runner_contract():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert lines[0].startswith("FROM python:3.11-slim")
    assert 'ENTRYPOINT ["python", "/app/entrypoint/main.py"]' in lines
    assert not any(line.startswith("USER") for line in lines)  # the workspace needs root
    text = "\n".join(lines)
    assert "PYTHONUNBUFFERED=1" in text and "requirements.lock" in text


def test_container_dependencies_are_pinned_and_agree_with_the_test_pins():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip()).groups()
        lock[name.lower()] = version
    constraints = dict(
        line.strip().lower().split("==")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    )
    assert {"boto3", "botocore", "pynamodb", "click"} <= set(lock)
    for name, version in lock.items():
        assert constraints.get(name) == version.lower(), name
