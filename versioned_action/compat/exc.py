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
    """No such artifact or version (this project's ArtifactNotFound, VersionNotFound), with
    its ``name`` and, for a missing version, its ``version``.

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.get_artifact_version(bsm, "app", version=9)
    Traceback (most recent call last):
    versioned_action.compat.exc.ArtifactNotFoundError: version 9 of artifact 'app' not found...
    """

    name: str
    version: str | None = None  # None: the artifact itself is missing


class AliasNotFoundError(AliasNotFound):
    """No such alias: this project's AliasNotFound (``name``, ``alias``), as 1.x names it.

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.get_alias(bsm, "app", "staging")
    Traceback (most recent call last):
    versioned_action.compat.exc.AliasNotFoundError: alias 'staging' of artifact 'app' not found...
    """


class ArtifactS3BackendError(VersionedError):
    """1.x's error for a malformed S3 folder; never raised, kept so ``except`` clauses work.

    >>> from versioned_action.compat import exc
    >>> issubclass(exc.ArtifactS3BackendError, VersionedError)
    True
    """


class InvalidArgumentError(InvalidInput, ValueError):
    """A malformed name, version or weight, refused before any request (1.x: ValueError).

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.put_alias(bsm, "app", "bad-name")
    Traceback (most recent call last):
    versioned_action.compat.exc.InvalidArgumentError: invalid alias: 'bad-name'...
    """


_Kinds = type[VersionedError] | tuple[type[VersionedError], ...]
_STANDS_FOR: tuple[tuple[_Kinds, type[VersionedError]], ...] = (
    ((ArtifactNotFound, VersionNotFound), ArtifactNotFoundError),
    (AliasNotFound, AliasNotFoundError),
    (InvalidInput, InvalidArgumentError),
)


def translate(err: VersionedError) -> VersionedError:
    """The 1.x exception for ``err``; ``err`` itself where 1.x has none (AccessDenied, ...)."""
    for ours, theirs in _STANDS_FOR:
        if isinstance(err, ours) and not isinstance(err, theirs):
            new = theirs.__new__(theirs)
            VersionedError.__init__(new, err.args[0] if err.args else "", hint=err.template)
            new.__dict__.update(err.__dict__)
            return new
    return err
