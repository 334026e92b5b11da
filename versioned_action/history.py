"""Alias history: one stored JSON form for both backends, and the changes that happened.

What a rollback restores from it is decided in :mod:`versioned_action.rollback`.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from .models import AliasRecord, AliasTarget, HistoryEntry, utc_now

_EPOCH_LIMIT = 10**16  # microseconds; keys stay 16 digits until the year 2286


def new_id() -> str:
    """A change's id: random, so that a write can recognise itself after a lost answer."""
    return secrets.token_hex(8)


@dataclasses.dataclass(frozen=True)
class Change:
    """Who makes an alias change and why, turned into a history entry per attempt."""

    actor: str | None
    reason: str | None
    request: str | None

    def entry(
        self, name: str, alias: str, record: AliasRecord | None, target: AliasTarget | None
    ) -> HistoryEntry:
        return HistoryEntry(
            name,
            alias,
            utc_now(),
            record.target if record else None,
            target,
            self.actor,
            self.reason,
            id=new_id(),
            previous_entry=record.entry if record else None,
            request=self.request,
        )


def _target_dict(target: AliasTarget | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {
        "version": target.version,
        "secondary_version": target.secondary_version,
        "secondary_version_weight": target.secondary_version_weight,
    }


def _target(data: dict[str, Any] | None) -> AliasTarget | None:
    return None if data is None else AliasTarget(**data)


def encode_target(target: AliasTarget | None) -> str:
    """A target as compact ASCII JSON (``null`` for none), for metadata and item attributes."""
    return json.dumps(_target_dict(target), separators=(",", ":"), sort_keys=True)


def decode_target(raw: str) -> AliasTarget | None:
    return _target(json.loads(raw))


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
            "id": entry.id,
            "previous_entry": entry.previous_entry,
            "request": entry.request,
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
        id=data.get("id"),
        previous_entry=data.get("previous_entry"),
        request=data.get("request"),
    )


def micros(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def newest_first_key(entry: HistoryEntry) -> str:
    """A key part that sorts newest first in an ascending listing, unique per change."""
    return f"{_EPOCH_LIMIT - micros(entry.changed_at):016d}-{entry.id}"


def oldest_first_key(entry: HistoryEntry) -> str:
    return f"{micros(entry.changed_at):016d}-{entry.id}"


def committed(entries: list[HistoryEntry], current_entry: str | None) -> list[HistoryEntry]:
    """The entries of changes that happened, newest first.

    An entry is written before the alias moves (so a move never lacks its entry); a run that
    died in between leaves an entry nobody links to. Walking back from the alias's own entry
    along ``previous_entry`` skips those. Entries older than the chain (written before ids
    existed, or before a deletion) are kept as they are.
    """
    if current_entry is None:
        return entries
    kept: list[HistoryEntry] = []
    cursor: str | None = current_entry
    for entry in entries:
        if cursor is None:
            kept.append(entry)
        elif entry.id == cursor:
            kept.append(entry)
            cursor = entry.previous_entry
    return kept
