"""How messages name inputs: placeholders that errors and hints carry, and each front end's
way of saying them (a workflow's ``version: 3``, the CLI's ``--version 3``, the library's
``version=3``)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence

# Placeholders that name an input in a message or a hint, written by input_hint / run_hint and
# rendered by each front end in its own syntax (a :class:`Syntax`).
_PLACEHOLDER = re.compile(r"\{(input|run):([^{}\s][^{}]*)\}")


def input_hint(name: str, value: str | None = None) -> str:
    """A placeholder for input ``name`` (with ``value``): ``version: 3`` in a workflow,
    ``--version 3`` on the command line."""
    return "{input:" + _pair(name, value) + "}"


def run_hint(operation: str, **inputs: str) -> str:
    """A placeholder for a run of ``operation`` with ``inputs`` (``from_alias=`` for
    ``from-alias``): ``operation: promote, alias: prod`` or ``versioned-action promote ...``."""
    pairs = [_pair(key.replace("_", "-"), str(value)) for key, value in inputs.items()]
    return "{run:" + " ".join([urllib.parse.quote(operation, safe=""), *pairs]) + "}"


def _pair(name: str, value: str | None) -> str:
    if value is None:
        return name
    return f"{name}={urllib.parse.quote(value, safe='')}"


def _unpair(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition("=")
    return name, urllib.parse.unquote(value) if sep else None


class Syntax:
    """How a front end names inputs in messages; this one is a workflow's (``version: 3``).
    :data:`PYTHON` says ``version=3`` and ``repo.put_alias(...)``, the CLI ``--version 3``."""

    def field(self, name: str) -> str | None:
        """The name an InvalidInput about ``name`` starts with; None: ``invalid NAME: ...``."""
        return None

    def input(self, name: str, value: str | None) -> str:
        return name if value is None else f"{name}: {value}"

    def run(self, operation: str, inputs: Sequence[tuple[str, str]]) -> str:
        return ", ".join([f"operation: {operation}", *(self.input(k, v) for k, v in inputs)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def render(self, text: str) -> str:
        """``text`` with its placeholders in this syntax."""
        return _PLACEHOLDER.sub(self._substitute, text)

    def _substitute(self, match: re.Match[str]) -> str:
        kind, body = match.groups()
        if kind == "input":
            return self.input(*_unpair(body))
        operation, *pairs = body.split()
        found = [_unpair(pair) for pair in pairs]
        return self.run(urllib.parse.unquote(operation), [(k, v or "") for k, v in found])


# The library's names of inputs whose name as a workflow input differs (the rest: "-" to "_").
PARAMETERS = {
    "aws-region": "region",
    "secondary-weight": "secondary_version_weight",
    "keep-last": "keep_last_n",
    "older-than": "purge_older_than_secs",
}
# Inputs the library has as a call to make, not as a parameter.
CALLS = {"create-resources": "repo.bootstrap()"}
# An operation of the action and the CLI as the Repository method that does it.
METHODS = {
    "put": "put_artifact",
    "publish": "publish_artifact_version",
    "list": "list_artifact_versions",
    "promote": "put_alias",
    "history": "get_alias_history",
    "get": "download_artifact",
    "purge": "purge_artifact_versions",
}
_POSITIONAL = ("name", "alias")
_REQUIRED = {"put": ["content"]}  # arguments a hint has no value for, by their names


class PythonSyntax(Syntax):
    """A library caller's: parameters as keyword arguments (``version=3``), operations as
    the calls that do them (``repo.put_alias("app", "prod", version=3)``)."""

    def field(self, name: str) -> str | None:
        return f"invalid {parameter(name)}"

    def input(self, name: str, value: str | None) -> str:
        if name in CALLS:
            return CALLS[name]
        return parameter(name) if value is None else f"{parameter(name)}={_literal(value)}"

    def run(self, operation: str, inputs: Sequence[tuple[str, str]]) -> str:
        given = dict(inputs)
        arguments = [repr(given.pop(key)) for key in _POSITIONAL if key in given]
        arguments += _REQUIRED.get(operation, [])
        arguments += [self.input(key, value) for key, value in given.items()]
        method = METHODS.get(operation, operation.replace("-", "_"))
        return f"repo.{method}({', '.join(arguments)})"


def parameter(name: str) -> str:
    """The library's name of a workflow input (``secondary-weight``:
    ``secondary_version_weight``)."""
    return PARAMETERS.get(name, name.replace("-", "_"))


def _literal(value: str) -> str:
    return value if value.isdigit() or value == "N" else repr(value)


WORKFLOW = Syntax()
PYTHON = PythonSyntax()
