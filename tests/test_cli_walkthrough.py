"""The README's CLI walkthrough ("## The CLI"), run as pasted: one bash, line after line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the .venv's bin, where pip put the versioned-action script


def walkthrough(readme: str) -> list[str]:
    """The lines of the first ```bash block under the "## The CLI" heading."""
    section = readme.split("\n## The CLI\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```bash\n(.*?)^```$", section, re.S | re.M)
    assert block, 'no ```bash block under "## The CLI"'
    return block.group(1).splitlines()


def as_run(line: str) -> str:
    """The line bash runs: itself, but ``pip install`` is a no-op here (and says why)."""
    if line.lstrip().startswith("pip install"):
        return f": # {line.strip()} -- skipped: the test's .venv has this checkout installed"
    return line


def test_the_readme_walkthrough_runs_as_pasted(moto_endpoint, unique, tmp_path):
    lines = walkthrough((ROOT / "README.md").read_text())
    assert any(line.startswith("versioned-action ") for line in lines)
    for number, name in enumerate(sorted(set(re.findall(r"\bdist/[\w.-]+", "\n".join(lines))))):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(f"build {number} of {name}\n".encode())
    assert (BIN / "versioned-action").exists(), "pip install -e . provides the command"
    env = {
        **os.environ,  # fake AWS credentials and region, from conftest's aws_env
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),  # the checkout under test, wherever pip installed from
        "VERSIONED_ENDPOINT_URL": moto_endpoint,
        "VERSIONED_PREFIX": f"walkthrough-{unique}",  # the session's moto is shared by tests
    }
    # -e: stop at the first line that fails; the trap names it as the README has it.
    script = "\n".join(
        [
            "set -euo pipefail",
            "trap 'echo \"README line failed (status $?): $BASH_COMMAND\" >&2' ERR",
            *map(as_run, lines),
        ]
    )
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "README line failed" not in done.stderr
    for path in re.findall(r"--path (\S+)", "\n".join(lines)):
        assert (tmp_path / path).is_file(), f"{path} was not downloaded"
