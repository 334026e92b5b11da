"""Markdown output: the machine header, tables, and the number formats every table shares."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import statistics
import sys
from collections.abc import Sequence

MISSING = "-"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def header(argv: Sequence[str], awscli_version: str | None) -> str:
    """The title, the machine and versions, and the command that produced the tables."""
    versions = [
        f"Python {platform.python_version()}",
        f"boto3 {_version('boto3')}",
        f"moto {_version('moto')}",
        f"versioned-action {_version('versioned-action')}",
        f"peer versioned {_version('versioned')}",
    ]
    if awscli_version:
        versions.append(f"awscli {awscli_version}")
    command = "python -m benchmarks " + shlex.join(argv)
    return "\n".join(
        [
            "## versioned-action benchmarks",
            "",
            f"Machine: {cpu_model()}, {os.cpu_count()} cores, {memory_gib()}, "
            f"{platform.system()} {platform.release()}; " + ", ".join(versions) + ".",
            f"Command: `{command.strip()}`. Storage: moto server on 127.0.0.1 in its own "
            "process (loopback, so times show client work and moto, not a network).",
            "",
        ]
    )


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], notes=()) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |"]
    lines.append("| " + " | ".join("---" for _ in columns) + " |")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if notes:
        lines.append("")
        lines += list(notes)
    return "\n".join(lines) + "\n"


def seconds(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def mib(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f}"


def ratio(ours: float | None, other: float | None) -> str:
    if ours is None or not other:
        return MISSING
    return f"{ours / other:.2f}"


def count(values: Sequence[int] | int | None) -> str:
    """A request count; several runs that differ show as a range."""
    if values is None:
        return MISSING
    if isinstance(values, int):
        return str(values)
    if not values:
        return MISSING
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
