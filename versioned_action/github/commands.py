"""Workflow commands, plain log lines and the step summary, each escaped so no value forges any.

The runner reads a line as a command when it starts (after blanks) with ``::``, or when it
holds ``##[`` anywhere; it splits lines at CR and LF. So a command's data is escaped the way
the runner unescapes it; a plain line or summary text keeps every character but those that
end a line (shown as ``\n``, ``\r``, ...), and never a leading ``::`` or a ``##[``.
"""

from __future__ import annotations

import contextlib
import re
import string
import sys
import traceback
from collections.abc import Iterator
from typing import TextIO

# The runner's data escaping, plus the line breaks other readers (and str.splitlines) know.
_DATA = {ord("%"): "%25", ord("\r"): "%0D", ord("\n"): "%0A"}
_DATA.update({ord(ch): ch.encode("unicode_escape").decode() for ch in "\v\f\x1c\x1d\x1e\x85"})
_DATA.update({ord(ch): ch.encode("unicode_escape").decode() for ch in "\u2028\u2029"})
_PROPERTY = {**_DATA, ord(":"): "%3A", ord(","): "%2C"}
# Plain lines and summary text: the runner unescapes only command data, so there a `%` stays a
# `%` and a character that would end the line is shown as its Python escape (``\\n``).
_BREAKS = {ord(ch): ch.encode("unicode_escape").decode() for ch in "\r\n\v\f\x1c\x1d\x1e\x85"}
_BREAKS.update({ord(ch): ch.encode("unicode_escape").decode() for ch in "\u2028\u2029"})
_MARKDOWN_ESCAPES = {ord(ch): "\\" + ch for ch in string.punctuation}


def escape_data(value: str) -> str:
    """Data of a workflow command, as the runner unescapes it."""
    return value.translate(_DATA)


def escape_property(value: str) -> str:
    return value.translate(_PROPERTY)


def escape_text(value: str) -> str:
    """``value`` on one line, for a plain log line or the summary: line breaks shown escaped."""
    return value.translate(_BREAKS)


def escape_line(value: str) -> str:
    """One plain log line that the runner cannot read as a command."""
    line = escape_text(value).replace("##[", "##\\[")
    body = line.lstrip()
    if body.startswith("::"):
        line = line[: len(line) - len(body)] + "\\" + body
    return line


def table_code(value: str) -> str:
    """A code span showing ``value`` literally inside a table cell: it keeps the row one line,
    escapes ``|`` and uses a longer backtick fence than any run of backticks in the value."""
    return _code(escape_text(value).replace("|", "\\|"))


def inline_code(value: str) -> str:
    """A code span showing ``value`` literally in running text (outside a table)."""
    return _code(escape_text(value))


def _code(text: str) -> str:
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_text(value: str) -> str:
    """``value`` as one line of plain text: every ASCII punctuation character is escaped."""
    return escape_text(value).translate(_MARKDOWN_ESCAPES)


def markdown_block(text: str) -> str:
    """``text`` as a fenced code block no line of it can close."""
    fence = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}\n"


class Reporter:
    """Writes ``::command::`` and log lines to stdout, tracebacks to stderr, and markdown to the
    step summary file."""

    def __init__(
        self,
        stream: TextIO | None = None,
        summary_path: str | None = None,
        errors: TextIO | None = None,
    ):
        self.stream = stream or sys.stdout
        self.errors = errors or sys.stderr
        self.summary_path = summary_path

    def command(self, name: str, message: str, **properties: str) -> None:
        props = ",".join(f"{k}={escape_property(v)}" for k, v in properties.items() if v)
        head = f"{name} {props}" if props else name
        self.stream.write(f"::{head}::{escape_data(message)}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        self.stream.write(escape_line(message) + "\n")
        self.stream.flush()

    def notice(self, message: str, title: str = "") -> None:
        self.command("notice", message, title=title)

    def warning(self, message: str, title: str = "") -> None:
        self.command("warning", message, title=title)

    def error(self, message: str, title: str = "") -> None:
        self.command("error", message, title=title)

    def traceback(self, err: BaseException) -> None:
        """The traceback of ``err`` on stderr, every line of it escaped like a log line."""
        for chunk in traceback.format_exception(err):
            for line in chunk.splitlines():
                self.errors.write(escape_line(line) + "\n")
        self.errors.flush()

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        self.command("group", title)
        try:
            yield
        finally:
            self.command("endgroup", "")

    def summary(self, markdown: str) -> None:
        """Append ``markdown``, built with the escaping helpers above, to the step summary."""
        if self.summary_path:
            with open(self.summary_path, "a", encoding="utf-8") as out:
                out.write(markdown.rstrip("\n") + "\n")
