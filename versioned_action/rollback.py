"""What a rollback restores, and when a request is a re-run of one already done.

Every alias change records a request id (``HistoryEntry.request``, and the alias record's):
the caller's ``request`` followed by what it asked, for example
``acme/app/4242/deploy/__run#1 rollback version=- expected=2``. The action and the CLI pass
``repository/run/job/step#attempt`` (:func:`versioned_action.request.step_identity`): a re-run
of a job keeps everything before ``#`` and counts the attempt up, while two commands of one
``run:`` step, or two steps that share that identity, share all of it.

A recorded change counts as an earlier run of a request only when it is a genuine re-run:
the same step identity, a lower attempt, the same ask. Everything else (another attempt
number, the same attempt, another ask, a request id without ``#attempt``, a change recorded
before ids named attempts) is a new request.
"""

from __future__ import annotations

import dataclasses
import re

from .errors import AliasNotFound, HistoryNotFound
from .history import committed
from .models import AliasRecord, AliasTarget, HistoryEntry
from .syntax import run_hint

# Recorded changes searched for the one that set the configuration a rollback restores.
RESTORE_WINDOW = 3  # a rollback to the previous configuration (and its re-run)
RESTORE_WINDOW_VERSION = 10  # a rollback to a given version

_UNSET = "-"
_STEP = r"(?P<step>.+)#(?P<attempt>[0-9]{1,9})"
_REQUEST = re.compile(_STEP)
_RECORDED = re.compile(_STEP + r" (?P<ask>[a-z-]+ version=[^ ]+ expected=[^ ]+)")


@dataclasses.dataclass(frozen=True)
class Ask:
    """What a request asks of an alias: the operation and the inputs that decide its effect.

    >>> str(Ask("rollback", expected="2"))
    'rollback version=- expected=2'
    """

    operation: str  # "promote", "rollback" or "delete-alias"
    version: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        version, expected = self.version or _UNSET, self.expected or _UNSET
        return f"{self.operation} version={version} expected={expected}"

    def recorded(self, request: str | None) -> str | None:
        """The request id a change made for ``request`` records (None without one)."""
        return None if request is None else f"{request} {self}"

    @property
    def window(self) -> int:
        """How many recorded changes a rollback reads to find the one it restores."""
        return RESTORE_WINDOW if self.version is None else RESTORE_WINDOW_VERSION


def earlier_attempt(recorded: str | None, request: str | None, ask: Ask) -> bool:
    """Whether ``recorded`` (the request id of a change) is an earlier attempt of ``request``
    asking the same: ``request`` is ``STEP#N`` and ``recorded`` is ``STEP#M`` and ``ask``,
    with M < N.

    >>> earlier_attempt("a/7/j/s#1 rollback version=- expected=-", "a/7/j/s#2", Ask("rollback"))
    True
    >>> earlier_attempt("a/7/j/s#2 rollback version=- expected=-", "a/7/j/s#2", Ask("rollback"))
    False
    """
    if recorded is None or request is None:
        return False
    now, then = _REQUEST.fullmatch(request), _RECORDED.fullmatch(recorded)
    if now is None or then is None:
        return False
    return (
        then["step"] == now["step"]
        and int(then["attempt"]) < int(now["attempt"])
        and then["ask"] == str(ask)
    )


def repeats_rollback(record: AliasRecord, request: str | None, ask: Ask) -> bool:
    """Whether a rollback asking ``ask`` is a genuine re-run of the one that set ``record``.

    ``record`` is the alias as stored, so its request id is that of the alias's last change,
    and its target is what that change set. The rollback is a re-run when:

    - that change is a rollback by an earlier attempt of the same step that asked the same
      ``version`` and ``expected-version`` (:func:`earlier_attempt`); and
    - the alias is as that rollback left it with both asks met: it points at ``version``
      alone when one was asked, and the configuration the rollback replaced pointed at
      ``expected`` when one was asked (the compare-and-swap held when it ran).

    A re-run changes nothing; any other rollback is checked against ``expected`` and moves
    the alias as a fresh one would.
    """
    if not earlier_attempt(record.request, request, ask):
        return False
    if ask.version is not None and record.target != AliasTarget(ask.version):
        return False
    replaced = record.previous
    return ask.expected is None or (replaced is not None and replaced.version == ask.expected)


def repeats_deletion(newest: HistoryEntry | None, request: str | None, ask: Ask) -> bool:
    """Whether a deletion asking ``ask`` of an alias that is gone is a genuine re-run of the
    one that removed it: ``newest``, the alias's newest recorded change, is a deletion by an
    earlier attempt of the same step asking the same, and what it removed pointed at
    ``expected`` when one was asked."""
    if newest is None or newest.new is not None:
        return False
    if not earlier_attempt(newest.request, request, ask):
        return False
    removed = newest.previous
    return ask.expected is None or (removed is not None and removed.version == ask.expected)


def deleted(name: str, alias: str, newest: list[HistoryEntry]) -> AliasNotFound | None:
    """For a rollback of an alias that is gone: the error that says who deleted it, when, and
    how to bring it back, if its newest recorded change (``newest[0]``) is that deletion."""
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


def target(
    name: str, alias: str, record: AliasRecord, ask: Ask, entries: list[HistoryEntry]
) -> AliasTarget:
    """Where a rollback points the alias: ``version`` alone when asked, else the configuration
    its last change replaced (from the record, or for an alias whose record names no change,
    from ``entries``, its recorded changes newest first)."""
    if ask.version is not None:
        return AliasTarget(ask.version)
    if record.entry is None:  # written before aliases named their change, or by a peer
        return previous_configuration(name, alias, record.target, entries)
    if record.previous is None:
        raise HistoryNotFound(
            name, alias, "was created by its only recorded change; there is nothing before it"
        )
    return record.previous


def previous_configuration(
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


def restored(
    entries: list[HistoryEntry], record: AliasRecord, target: AliasTarget, *, rerun: bool
) -> HistoryEntry | None:
    """The newest committed change that set ``target``; for a re-run, the newest before the
    rollback's own entry (the alias's last change)."""
    chain = committed(entries, record.entry)
    if rerun and chain and chain[0].id == record.entry:
        chain = chain[1:]
    return next((entry for entry in chain if entry.new == target), None)
