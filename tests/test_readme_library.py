"""The README's library examples ("## The library" and its "### Errors"), run as written, one
after the other, against a moto server over HTTP: a bucket ``acme-artifacts`` and the two
builds they upload (``dist/app.zip``, ``dist/app-next.zip``) are all they assume."""

from __future__ import annotations

import re
from pathlib import Path

from versioned_action import open_repository

ROOT = Path(__file__).parents[1]


def library_blocks(readme: str) -> list[str]:
    section = readme.split("\n## The library\n", 1)[1].split("\n### Moving an app", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_library_examples_run_as_written(moto_endpoint, monkeypatch, tmp_path):
    blocks = library_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 2, "the library section and its errors each have one python block"
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist/app.zip").write_bytes(b"build 1")
    (tmp_path / "dist/app-next.zip").write_bytes(b"build 2")
    open_repository("s3", bucket="acme-artifacts").bootstrap()

    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"README.md library block {number}", "exec"), namespace)

    repo = namespace["repo"]
    production = repo.get_alias("app", "production")
    assert (production.version, production.secondary_version) == ("1", "2")
    assert production.secondary_version_weight == 10
    assert (tmp_path / "app.zip").read_bytes() == b"build 1"
    assert repo.get_artifact_version("app", 1).metadata["commit"] == "abc123"
