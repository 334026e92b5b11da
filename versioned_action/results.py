"""The result document: one JSON shape for the action's ``result`` output and the CLI's ``--json``.

Its fields are spelled once, as the action's outputs are (``s3_uri``, ``secondary_weight``,
``updated_at``), at the top and in ``details``; the library's dataclasses keep the 1.x names.
``result.schema.json`` next to this module describes it; a change to one needs the other.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any, Protocol

from .models import Alias, AliasTarget, Artifact, HistoryEntry

SCHEMA = 1  # bumped when a field is removed, renamed or changes meaning
SCHEMA_FILE = "result.schema.json"

# The top-level fields of each operation's document, besides schema, operation and changed;
# all of them are always there (null when there is no value).
_OBJECT = ("name", "version", "s3_uri", "sha256", "size")
_CANARY = ("secondary_version", "secondary_weight", "secondary_s3_uri")
FIELDS = {
    "put": (*_OBJECT, "alias", "previous_version", "details"),
    "publish": (*_OBJECT, "alias", "previous_version"),
    "promote": (*_OBJECT, "alias", *_CANARY, "previous_version", "dry_run"),
    "rollback": (*_OBJECT, "alias", *_CANARY, "previous_version", "dry_run", "details"),
    "get": (*_OBJECT, "alias", *_CANARY, "path"),
    "list": (*_OBJECT, "details"),
    "purge": ("name", "deleted_versions", "dry_run", "details"),
    "history": ("name", "alias", "version", "details"),
    "delete-alias": ("name", "alias", "previous_version", "dry_run", "details"),
}


class _Outcome(Protocol):
    """What :func:`document` needs of a Result; it reads the fields of ``FIELDS`` by name."""

    operation: str
    changed: bool


def document(result: _Outcome) -> dict[str, Any]:
    """The document of an :class:`~versioned_action.operations.Result`."""
    data = {"schema": SCHEMA, "operation": result.operation, "changed": result.changed}
    for field in FIELDS[result.operation]:
        value = getattr(result, field)
        data[field] = dict(value) if field == "details" else value
    return data


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the document, as shipped in the package."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _time(moment: datetime) -> str:
    return moment.isoformat()


def version(artifact: Artifact) -> dict[str, Any]:
    """A stored version, as ``list`` shows it."""
    return {
        "version": artifact.version,
        "updated_at": _time(artifact.update_at),
        "s3_uri": artifact.s3uri,
        "sha256": artifact.sha256 or None,
        "size": artifact.size,
        "metadata": None if artifact.metadata is None else dict(artifact.metadata),
    }


def written(artifact: Artifact) -> dict[str, Any]:
    """A version a put wrote (or found unchanged)."""
    return {**version(artifact), "changed": artifact.changed}


def alias(found: Alias) -> dict[str, Any]:
    """An alias, as ``list`` shows it."""
    return {
        "alias": found.alias,
        "version": found.version,
        "s3_uri": found.version_s3uri,
        "secondary_version": found.secondary_version,
        "secondary_weight": found.secondary_version_weight,
        "secondary_s3_uri": found.secondary_version_s3uri,
        "updated_at": _time(found.update_at),
    }


def target(where: AliasTarget | None) -> dict[str, Any] | None:
    """Where an alias sent traffic (None: it did not exist)."""
    if where is None:
        return None
    return {
        "version": where.version,
        "secondary_version": where.secondary_version,
        "secondary_weight": where.secondary_version_weight,
    }


def entry(change: HistoryEntry | None) -> dict[str, Any] | None:
    """One recorded change of the alias the document names."""
    if change is None:
        return None
    return {
        "id": change.id,
        "changed_at": _time(change.changed_at),
        "previous": target(change.previous),
        "new": target(change.new),
        "actor": change.actor,
        "reason": change.reason,
        "previous_entry": change.previous_entry,
        "request": change.request,
    }
