"""Alias operations shared by both backends: compare-and-swap updates, history, rollback.

A backend supplies ``_read_alias``, ``_write_alias``, ``_list_alias_records``, ``_history``
and ``_get``; everything decided about aliases is decided here once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from . import layout, rollback
from .aws_failures import aws_call
from .errors import AliasNotFound, Conflict, VersionNotFound
from .history import Change, committed
from .models import Alias, AliasRecord, AliasTarget, Artifact, HistoryEntry, utc_now
from .rollback import Ask
from .storage import Storage

ALIAS_ATTEMPTS = 8
HISTORY_SLACK = 5  # entries read beyond the limit, for those of changes that never happened


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
        Conflict). ``actor``, ``reason`` and ``request`` (an id of the request, see
        :meth:`rollback`) go into its history entry; the entry's ``request`` adds what was
        asked (``promote version=2 expected=1``).

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
        change = Change(actor, reason, Ask("promote", version, expected).recorded(request))
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
        An alias that is gone raises AliasNotFound; with ``expected_version`` a Conflict, unless
        ``request`` is a later attempt of the deletion that removed it (see :meth:`rollback`).

        >>> deletion = repo.delete_alias("app", "prod", actor="alice")
        >>> deletion.previous.version, deletion.new, deletion.actor
        ('1', None, 'alice')
        >>> repo.list_aliases("app")
        []
        """
        layout.validate_name(name)
        layout.validate_alias(alias)
        expected = optional_version(expected_version, "expected-version")
        ask = Ask("delete-alias", expected=expected)
        change = Change(actor, reason, ask.recorded(request))
        mine: HistoryEntry | None = None
        for _ in range(ALIAS_ATTEMPTS):
            record = self._read_alias(name, alias)
            if record is None:
                if mine is not None:
                    return mine  # our deletion landed though its answer was lost
                raise self._gone(name, alias, request, ask)
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

    def _gone(self, name: str, alias: str, request: str | None, ask: Ask) -> AliasNotFound:
        """A deletion of an alias that is gone: the Conflict of an expected-version that no
        longer holds (raised), unless it is a re-run of the deletion that removed the alias;
        else the AliasNotFound that callers take for "nothing to delete"."""
        if ask.expected is not None:
            newest = self.get_alias_history(name, alias, limit=1)
            if not rollback.repeats_deletion(newest[0] if newest else None, request, ask):
                _check_expected(name, alias, None, ask.expected)  # raises the Conflict
        return AliasNotFound(name, alias)

    def _deleted(self, name: str, alias: str) -> AliasNotFound | None:
        """For an alias that is gone: the error that says who deleted it, if it was deleted."""
        return rollback.deleted(name, alias, self.get_alias_history(name, alias, limit=1))

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

        With ``expected_version`` it only happens if the alias points there now (else
        Conflict). HistoryNotFound without a recorded change to go back from. For re-run
        safety pass ``request="<id>#<attempt>"``: the same ``<id>`` for every attempt of one
        request and a higher attempt each time it is retried. A later attempt of the rollback
        that made the alias's last change, asking the same, changes nothing, so a retry never
        rolls back twice; any other call, the same attempt again included, is a new rollback.

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
        ``RESTORE_WINDOW_VERSION`` for a given ``version``) set it. A re-run (see
        :func:`versioned_action.rollback.repeats_rollback`: the alias's last change is a
        rollback by an earlier attempt of ``request``, asking the same ``version`` and
        ``expected_version``, which it met) returns the alias as that rollback left it,
        unchanged, even where the alias no longer points at ``expected_version``: the
        rollback itself moved it. Otherwise ``expected_version`` is checked against the
        alias now and ``version`` is where it goes, as on a first run.

        >>> _ = repo.put_alias("app", "prod", 2)
        >>> prod, restored = repo.rollback_restoring("app", "prod")
        >>> prod.version, restored.new.version, restored.previous  # the change that created it
        ('1', '1', None)
        """
        try:
            record = self._current(name, alias)
        except AliasNotFound as err:
            raise self._deleted(name, alias) or err from None
        ask = Ask(
            "rollback",
            optional_version(version, "version"),
            optional_version(expected_version, "expected-version"),
        )
        if not dry_run and rollback.repeats_rollback(record, request, ask):
            primary = self._primary(name, record.target)
            entries = self._history(name, alias, ask.window)
            current = self._alias(
                name,
                alias,
                record.target,
                record.update_at,
                previous=record.previous,
                artifact=primary,
            )
            return current, rollback.restored(entries, record, record.target, rerun=True)
        _check_expected(name, alias, record.target, ask.expected)
        entries = self._history(name, alias, ask.window)
        target = rollback.target(name, alias, record, ask, entries)
        primary = self._primary(name, target)
        restored = rollback.restored(entries, record, target, rerun=False)
        change = Change(actor, reason or "rollback", ask.recorded(request))
        moved = self._set_alias(
            name, alias, target, record.target.version, change, dry_run, primary
        )
        return moved, restored


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
