"""Step outputs in the ``GITHUB_OUTPUT`` file, each as a heredoc with a random delimiter."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def format_outputs(outputs: Mapping[str, str]) -> str:
    """``name<<ghadelimiter_…`` blocks; a delimiter never occurs in its value, so no value
    can end its block early and forge another output."""
    blocks = []
    for name, value in outputs.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"invalid output name {name!r}")
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
        blocks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(blocks)


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(format_outputs(outputs))
