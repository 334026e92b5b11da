"""Alias history: one stored JSON form for both backends, and what a rollback picks."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from .errors import HistoryNotFound
from .models import AliasTarget, HistoryEntry

_EPOCH_LIMIT = 10**16  # microseconds; keys stay 16 digits until the year 2286


def _target_dict(target: AliasTarget | None) -> dict | None:
    if target is None:
        return None
    return {
        "version": target.version,
        "secondary_version": target.secondary_version,
        "secondary_version_weight": target.secondary_version_weight,
    }


def _target(data: dict | None) -> AliasTarget | None:
    return None if data is None else AliasTarget(**data)


def encode_entry(entry: HistoryEntry) -> str:
    return json.dumps(
        {
            "name": entry.name,
            "alias": entry.alias,
            "changed_at": entry.changed_at.isoformat(),
            "previous": _target_dict(entry.previous),
            "new": _target_dict(entry.new),
            "actor": entry.actor,
            "reason": entry.reason,
        },
        sort_keys=True,
    )


def decode_entry(raw: str | bytes) -> HistoryEntry:
    data = json.loads(raw)
    return HistoryEntry(
        name=data["name"],
        alias=data["alias"],
        changed_at=datetime.fromisoformat(data["changed_at"]),
        previous=_target(data["previous"]),
        new=_target(data["new"]),
        actor=data.get("actor"),
        reason=data.get("reason"),
    )


def micros(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def newest_first_token(moment: datetime) -> str:
    """A key part that sorts newest first in an ascending listing, unique per writer."""
    return f"{_EPOCH_LIMIT - micros(moment):016d}-{secrets.token_hex(4)}"


def oldest_first_token(moment: datetime) -> str:
    return f"{micros(moment):016d}-{secrets.token_hex(4)}"


def rollback_target(
    name: str, alias: str, current: AliasTarget, entries: list[HistoryEntry]
) -> AliasTarget:
    """The configuration one step back: the ``previous`` of the newest recorded change.

    Rolling back twice returns to where it started, like ``kubectl rollout undo``.
    """
    if not entries:
        raise HistoryNotFound(name, alias)
    last = entries[0]
    if last.new != current:
        raise HistoryNotFound(
            name,
            alias,
            f"points at {current.describe()}, but its last recorded change set "
            f"{last.new.describe() if last.new else 'nothing'}: it was changed by a tool that "
            "keeps no history",
        )
    if last.previous is None:
        raise HistoryNotFound(
            name, alias, "was created by its only recorded change; there is nothing before it"
        )
    return last.previous
