"""Workflow commands and the step summary, escaped the way the runner unescapes them."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


class Reporter:
    """Writes ``::command::`` lines to stdout and markdown to the step summary file."""

    def __init__(self, stream: TextIO | None = None, summary_path: str | None = None):
        self.stream = stream or sys.stdout
        self.summary_path = summary_path

    def command(self, name: str, message: str, **properties: str) -> None:
        props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v)
        head = f"{name} {props}" if props else name
        self.stream.write(f"::{head}::{escape_data(message)}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self.stream.write(message + "\n")

    def notice(self, message: str, title: str = "") -> None:
        self.command("notice", message, title=title)

    def warning(self, message: str, title: str = "") -> None:
        self.command("warning", message, title=title)

    def error(self, message: str, title: str = "") -> None:
        self.command("error", message, title=title)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self.command("group", title)
        try:
            yield
        finally:
            self.command("endgroup", "")

    def summary(self, markdown: str) -> None:
        if self.summary_path:
            with open(self.summary_path, "a", encoding="utf-8") as out:
                out.write(markdown.rstrip("\n") + "\n")
