"""Alias operations shared by both backends: compare-and-swap updates, history, rollback.

A backend supplies ``_read_alias``, ``_write_alias``, ``_list_alias_records``, ``_history``
and ``_get``; everything decided about aliases is decided here once.
"""

from __future__ import annotations

from datetime import datetime

from . import layout
from .errors import AliasNotFound, Conflict, aws_call
from .history import rollback_target
from .models import Alias, AliasTarget, HistoryEntry, utc_now

ALIAS_ATTEMPTS = 8


def optional_version(value: str | int | None, field: str) -> str | None:
    return None if value is None else layout.normalize_version(value, field)


class AliasOperations:
    """Mixed into :class:`~versioned_action.repository.Repository`."""

    def _alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget,
        update_at: datetime,
        *,
        changed: bool = False,
        previous: AliasTarget | None = None,
    ) -> Alias:
        secondary = target.secondary_version
        return Alias(
            name=name,
            alias=alias,
            update_at=update_at,
            version=target.version,
            secondary_version=secondary,
            secondary_version_weight=target.secondary_version_weight,
            version_s3uri=self.s3uri(name, target.version),
            secondary_version_s3uri=None if secondary is None else self.s3uri(name, secondary),
            changed=changed,
            previous=previous,
        )

    @aws_call
    def put_alias(
        self,
        name: str,
        alias: str,
        version: str | int | None = None,
        secondary_version: str | int | None = None,
        secondary_version_weight: int | None = None,
        *,
        expected_version: str | int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> Alias:
        """Point ``alias`` at a version (and optionally a weighted canary); record history.

        With ``expected_version`` the change only happens if the alias points there now.
        """
        layout.validate_name(name)
        layout.validate_alias(alias)
        version = layout.normalize_version(version)
        secondary = optional_version(secondary_version, "secondary-version")
        weight = layout.validate_weight(version, secondary, secondary_version_weight)
        expected = optional_version(expected_version, "expected-version")
        target = AliasTarget(version, secondary, weight)
        for number in target.versions:
            self._get(name, number)
        return self._set_alias(name, alias, target, expected, actor, reason, dry_run)

    def _set_alias(self, name, alias, target, expected, actor, reason, dry_run) -> Alias:
        for _ in range(ALIAS_ATTEMPTS):
            current, token, update_at = self._read_alias(name, alias)
            _check_expected(name, alias, current, expected)
            if current == target:
                return self._alias(name, alias, target, update_at, previous=current)
            if dry_run:
                return self._alias(name, alias, target, utc_now(), changed=True, previous=current)
            entry = HistoryEntry(name, alias, utc_now(), current, target, actor, reason)
            try:
                written = self._write_alias(name, alias, target, token, entry)
            except Conflict:
                continue  # changed between our read and write: read again
            return self._alias(name, alias, target, written, changed=True, previous=current)
        raise Conflict(f"alias {alias!r} of {name!r} kept changing while we tried to update it")

    @aws_call
    def get_alias(self, name: str, alias: str) -> Alias:
        current, _, update_at = self._current(name, alias)
        return self._alias(name, alias, current, update_at)

    @aws_call
    def list_aliases(self, name: str) -> list[Alias]:
        layout.validate_name(name)
        return [
            self._alias(name, alias, target, update_at)
            for alias, target, update_at in sorted(self._list_alias_records(name))
        ]

    @aws_call
    def delete_alias(
        self,
        name: str,
        alias: str,
        *,
        expected_version: str | int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Delete an alias (recorded in its history); the versions stay."""
        current, token, _ = self._current(name, alias, expected_version)
        entry = HistoryEntry(name, alias, utc_now(), current, None, actor, reason)
        self._write_alias(name, alias, None, token, entry)

    def _current(
        self, name: str, alias: str, expected_version: str | int | None = None
    ) -> tuple[AliasTarget, object, datetime]:
        """Target, write token and update time of an alias that must exist (and point at
        ``expected_version`` when given)."""
        layout.validate_name(name)
        layout.validate_alias(alias)
        expected = optional_version(expected_version, "expected-version")
        current, token, update_at = self._read_alias(name, alias)
        if current is None:
            raise AliasNotFound(name, alias)
        _check_expected(name, alias, current, expected)
        return current, token, update_at

    @aws_call
    def get_alias_history(self, name: str, alias: str, limit: int = 20) -> list[HistoryEntry]:
        """Recorded changes of an alias, newest first."""
        layout.validate_name(name)
        layout.validate_alias(alias)
        return self._history(name, alias, limit)

    @aws_call
    def rollback(
        self,
        name: str,
        alias: str,
        version: str | int | None = None,
        *,
        expected_version: str | int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        dry_run: bool = False,
    ) -> Alias:
        """Restore the alias's previous configuration, or point it at ``version`` alone."""
        current, _, _ = self._current(name, alias, expected_version)
        if version is not None:
            target = AliasTarget(layout.normalize_version(version))
        else:
            target = rollback_target(name, alias, current, self._history(name, alias, 1))
        for number in target.versions:
            self._get(name, number)
        return self._set_alias(
            name, alias, target, current.version, actor, reason or "rollback", dry_run
        )


def _check_expected(name: str, alias: str, current: AliasTarget | None, expected: str | None):
    if expected is None:
        return
    if current is None:
        raise Conflict(
            f"alias {alias!r} of {name!r} does not exist, expected it at version {expected}"
        )
    if current.version != expected:
        raise Conflict(
            f"alias {alias!r} of {name!r} points at {current.version}, not {expected}",
            hint="Someone moved it meanwhile; check its state and retry",
        )
