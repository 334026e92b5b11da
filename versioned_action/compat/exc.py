"""The exceptions of ``versioned.exc`` (1.x), raised in place of this project's own.

Each is also a :class:`~versioned_action.VersionedError` and keeps the attributes (``name``,
``version``, ``alias``, ``field``) and the hint of the error it stands for, which it chains.
"""

from __future__ import annotations

from ..errors import (
    AliasNotFound,
    ArtifactNotFound,
    InvalidInput,
    NotFound,
    VersionedError,
    VersionNotFound,
)


class ArtifactNotFoundError(NotFound):
    """No such artifact or version (this project's ArtifactNotFound, VersionNotFound)."""


class AliasNotFoundError(NotFound):
    """No such alias (this project's AliasNotFound)."""


class ArtifactS3BackendError(VersionedError):
    """1.x's error for a malformed S3 folder; kept so that ``except`` clauses still name it."""


class InvalidArgumentError(InvalidInput, ValueError):
    """A malformed name, version or weight; a ValueError, as 1.x raised for these."""


_STANDS_FOR: tuple[tuple[type[VersionedError], type[VersionedError]], ...] = (
    ((ArtifactNotFound, VersionNotFound), ArtifactNotFoundError),
    (AliasNotFound, AliasNotFoundError),
    (InvalidInput, InvalidArgumentError),
)


def translate(err: VersionedError) -> VersionedError:
    """The 1.x exception for ``err``; ``err`` itself where 1.x has none (AccessDenied, ...)."""
    for ours, theirs in _STANDS_FOR:
        if isinstance(err, ours) and not isinstance(err, theirs):
            new = theirs.__new__(theirs)
            VersionedError.__init__(new, err.args[0] if err.args else "", hint=err.hint)
            new.__dict__.update(err.__dict__)
            return new
    return err
