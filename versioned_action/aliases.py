"""Alias operations shared by both backends: compare-and-swap updates, history, rollback.

A backend supplies ``_read_alias``, ``_write_alias``, ``_list_alias_records``, ``_history``
and ``_get``; everything decided about aliases is decided here once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from . import layout
from .aws_failures import aws_call
from .errors import AliasNotFound, Conflict, HistoryNotFound, VersionNotFound
from .history import Change, committed, rollback_target
from .models import Alias, AliasRecord, AliasTarget, Artifact, HistoryEntry, utc_now
from .storage import Storage
from .syntax import run_hint

ALIAS_ATTEMPTS = 8
HISTORY_SLACK = 5  # entries read beyond the limit, for those of changes that never happened
# Recorded changes searched for the one that set the configuration a rollback restores.
RESTORE_WINDOW = 3  # a rollback to the previous configuration (and its re-run)
RESTORE_WINDOW_VERSION = 10  # a rollback to a given version


def optional_version(value: str | int | None, field: str) -> str | None:
    return None if value is None else layout.normalize_version(value, field)


class AliasOperations(Storage):
    """Part of :class:`~versioned_action.repository.Repository`, over a :class:`Storage`."""

    def _alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget,
        update_at: datetime,
        *,
        changed: bool = False,
        previous: AliasTarget | None = None,
        artifact: Artifact | None = None,
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
            sha256=artifact.sha256 if artifact else None,
            size=artifact.size if artifact else None,
        )

    def _primary(self, name: str, target: AliasTarget) -> Artifact:
        """Check that every version of ``target`` exists; return the primary with its size."""
        primary, *_ = [self._get(name, number) for number in target.versions]
        if primary.size is None:
            size = self._head(
                self.object_key(name, primary.version), VersionNotFound(name, primary.version)
            ).size
            primary = dataclasses.replace(primary, size=size)
        return primary

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
        request: str | None = None,
        dry_run: bool = False,
    ) -> Alias:
        """Point ``alias`` at a version (and optionally a weighted canary); record history.

        ``version`` None is LATEST, which moves with every put: name a number to pin it. A
        canary sends ``secondary_version_weight`` percent (0..99) to ``secondary_version``.
        With ``expected_version`` the change only happens if the alias points there now (else
        Conflict). ``actor``, ``reason`` and ``request`` (an id of the change, e.g. a CI run)
        go into its history entry.

        >>> prod = repo.put_alias("app", "prod", 2, expected_version=1, reason="release")
        >>> prod.version, prod.previous.version, prod.changed
        ('2', '1', True)
        """
        layout.validate_name(name)
        layout.validate_alias(alias)
        version = layout.normalize_version(version)
        secondary = optional_version(secondary_version, "secondary-version")
        weight = layout.validate_weight(version, secondary, secondary_version_weight)
        expected = optional_version(expected_version, "expected-version")
        target = AliasTarget(version, secondary, weight)
        primary = self._primary(name, target)
        change = Change(actor, reason, request)
        return self._set_alias(name, alias, target, expected, change, dry_run, primary)

    def _set_alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget,
        expected: str | None,
        change: Change,
        dry_run: bool,
        primary: Artifact,
    ) -> Alias:
        """Compare-and-swap the alias to ``target``.

        Each write carries a fresh entry id that the stored alias keeps, so when a write's
        answer is lost and its retry fails the condition, the next read shows whether the
        alias now holds our entry (our write landed) or a competitor's (read again, retry).
        """
        mine: HistoryEntry | None = None
        for _ in range(ALIAS_ATTEMPTS):
            record = self._read_alias(name, alias)
            if mine is not None and record is not None and record.entry == mine.id:
                return self._alias(
                    name,
                    alias,
                    target,
                    record.update_at,
                    changed=True,
                    previous=mine.previous,
                    artifact=primary,
                )
            current = record.target if record else None
            _check_expected(name, alias, current, expected)
            if record is not None and record.target == target:
                return self._alias(
                    name, alias, target, record.update_at, previous=current, artifact=primary
                )
            if dry_run:
                return self._alias(
                    name,
                    alias,
                    target,
                    utc_now(),
                    changed=True,
                    previous=current,
                    artifact=primary,
                )
            mine = change.entry(name, alias, record, target)
            try:
                written = self._write_alias(name, alias, target, record and record.token, mine)
            except Conflict:
                continue  # changed between our read and write, or our answer was lost
            return self._alias(
                name, alias, target, written, changed=True, previous=current, artifact=primary
            )
        raise Conflict(f"alias {alias!r} of {name!r} kept changing while we tried to update it")

    @aws_call
    def get_alias(self, name: str, alias: str) -> Alias:
        """The alias as it is now; AliasNotFound if there is none.

        >>> repo.get_alias("app", "prod").version
        '1'
        """
        record = self._current(name, alias)
        return self._alias(name, alias, record.target, record.update_at)

    @aws_call
    def list_aliases(self, name: str) -> list[Alias]:
        """Every alias of an artifact, by name.

        >>> [(alias.alias, alias.version) for alias in repo.list_aliases("app")]
        [('prod', '1')]
        """
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
        request: str | None = None,
        dry_run: bool = False,
    ) -> HistoryEntry:
        """Delete an alias (recorded in its history); the versions stay.

        Returns the history entry of the deletion (with ``dry_run``, the one it would write).

        >>> deletion = repo.delete_alias("app", "prod", actor="alice")
        >>> deletion.previous.version, deletion.new, deletion.actor
        ('1', None, 'alice')
        >>> repo.list_aliases("app")
        []
        """
        layout.validate_name(name)
        layout.validate_alias(alias)
        expected = optional_version(expected_version, "expected-version")
        change = Change(actor, reason, request)
        mine: HistoryEntry | None = None
        for _ in range(ALIAS_ATTEMPTS):
            record = self._read_alias(name, alias)
            if record is None:
                if mine is None:
                    raise AliasNotFound(name, alias)
                return mine  # our deletion landed though its answer was lost
            _check_expected(name, alias, record.target, expected)
            mine = change.entry(name, alias, record, None)
            if dry_run:
                return mine
            try:
                self._write_alias(name, alias, None, record.token, mine)
            except Conflict:
                continue  # changed between our read and write, or our answer was lost
            return mine
        raise Conflict(f"alias {alias!r} of {name!r} kept changing while we tried to delete it")

    def _deleted(self, name: str, alias: str) -> AliasNotFound | None:
        """For an alias that is gone: the error that says who deleted it, when, and how to
        bring it back, if its newest recorded change is that deletion."""
        newest = self.get_alias_history(name, alias, limit=1)
        if not newest or newest[0].new is not None or newest[0].previous is None:
            return None
        entry, before = newest[0], newest[0].previous
        by = f" by {entry.actor}" if entry.actor else ""
        when = entry.changed_at.strftime("%Y-%m-%d %H:%M UTC")
        return AliasNotFound(
            name,
            alias,
            f": deleted {when}{by}, when it pointed at {before.describe()}",
            hint="Promote it again to bring it back: "
            + run_hint("promote", name=name, alias=alias, version=before.version),
        )

    def _current(
        self, name: str, alias: str, expected_version: str | int | None = None
    ) -> AliasRecord:
        """The stored record of an alias that must exist (and point at ``expected_version``
        when given)."""
        layout.validate_name(name)
        layout.validate_alias(alias)
        expected = optional_version(expected_version, "expected-version")
        record = self._read_alias(name, alias)
        if record is None:
            raise AliasNotFound(name, alias)
        _check_expected(name, alias, record.target, expected)
        return record

    @aws_call
    def get_alias_history(self, name: str, alias: str, limit: int = 20) -> list[HistoryEntry]:
        """Recorded changes of an alias, newest first.

        >>> _ = repo.put_alias("app", "prod", 2, reason="release")
        >>> [(entry.new.version, entry.reason) for entry in repo.get_alias_history("app", "prod")]
        [('2', 'release'), ('1', None)]
        """
        layout.validate_name(name)
        layout.validate_alias(alias)
        record = self._read_alias(name, alias)
        entries = self._history(name, alias, limit + HISTORY_SLACK)
        if record is not None:
            head = record.entry
        else:  # deleted: the chain ends at its newest deletion
            head = next((entry.id for entry in entries if entry.new is None), None)
        return committed(entries, head)[:limit]

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
        request: str | None = None,
        dry_run: bool = False,
    ) -> Alias:
        """Restore the alias's previous configuration, or point it at ``version`` alone.

        A repeat of a rollback already done (same ``request``, e.g. a retried CI job) changes
        nothing, so it never rolls back twice. HistoryNotFound without a recorded change.

        >>> _ = repo.put_alias("app", "prod", 2)
        >>> repo.rollback("app", "prod").version
        '1'
        """
        return self.rollback_restoring(
            name,
            alias,
            version,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
            request=request,
            dry_run=dry_run,
        )[0]

    @aws_call
    def rollback_restoring(
        self,
        name: str,
        alias: str,
        version: str | int | None = None,
        *,
        expected_version: str | int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        request: str | None = None,
        dry_run: bool = False,
    ) -> tuple[Alias, HistoryEntry | None]:
        """:meth:`rollback`, and the recorded change that had set the configuration restored.

        That entry is None when none of the alias's last few changes (``RESTORE_WINDOW``,
        ``RESTORE_WINDOW_VERSION`` for a given ``version``) set it.

        >>> _ = repo.put_alias("app", "prod", 2)
        >>> prod, restored = repo.rollback_restoring("app", "prod")
        >>> prod.version, restored.new.version, restored.previous  # the change that created it
        ('1', '1', None)
        """
        try:
            record = self._current(name, alias)
        except AliasNotFound as err:
            raise self._deleted(name, alias) or err from None
        if request is not None and record.request == request and not dry_run:
            primary = self._primary(name, record.target)
            restored = self._restored(name, alias, record, record.target, rerun=True)
            current = self._alias(
                name,
                alias,
                record.target,
                record.update_at,
                previous=record.previous,
                artifact=primary,
            )
            return current, restored
        expected = optional_version(expected_version, "expected-version")
        _check_expected(name, alias, record.target, expected)
        entries = None
        if version is not None:
            target = AliasTarget(layout.normalize_version(version))
        elif record.entry is not None:
            if record.previous is None:
                raise HistoryNotFound(
                    name,
                    alias,
                    "was created by its only recorded change; there is nothing before it",
                )
            target = record.previous
        else:  # an entry written before aliases named their change, or none at all
            entries = self._history(name, alias, RESTORE_WINDOW)
            target = rollback_target(name, alias, record.target, entries)
        primary = self._primary(name, target)
        restored = self._restored(name, alias, record, target, entries, wide=version is not None)
        change = Change(actor, reason or "rollback", request)
        moved = self._set_alias(
            name, alias, target, record.target.version, change, dry_run, primary
        )
        return moved, restored

    def _restored(
        self,
        name: str,
        alias: str,
        record: AliasRecord,
        target: AliasTarget,
        entries: list[HistoryEntry] | None = None,
        *,
        rerun: bool = False,
        wide: bool = False,
    ) -> HistoryEntry | None:
        """The newest committed change that set ``target``; for a re-run, the newest before
        the rollback's own entry."""
        if entries is None:
            window = RESTORE_WINDOW_VERSION if wide else RESTORE_WINDOW
            entries = self._history(name, alias, window)
        chain = committed(entries, record.entry)
        if rerun and chain and chain[0].id == record.entry:
            chain = chain[1:]
        return next((entry for entry in chain if entry.new == target), None)


def _check_expected(
    name: str, alias: str, current: AliasTarget | None, expected: str | None
) -> None:
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
