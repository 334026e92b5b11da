"""Result values returned by the repository; plain frozen dataclasses, JSON-friendly."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime
from typing import Any


def utc_now() -> datetime:
    return datetime.now(UTC)


def s3path(uri: str) -> Any:  # an s3pathlib.S3Path (s3pathlib is untyped)
    """``uri`` as an ``s3pathlib.S3Path``. s3pathlib is imported here, on first use: it brings
    boto3 and half a second of imports that the action and the CLI never need (install it with
    ``pip install "versioned-action[s3pathlib]"``)."""
    try:
        from s3pathlib import S3Path
    except ImportError as err:
        raise ImportError(
            'S3Path results need s3pathlib: pip install "versioned-action[s3pathlib]"'
        ) from err
    return S3Path(uri)


def weighted_pick(
    primary: str, secondary: str | None, weight: int | None, rng: random.Random | None = None
) -> str:
    """``secondary`` with a chance of ``weight`` in 100, else ``primary``: a canary's draw."""
    if secondary is None or not weight:
        return primary
    return secondary if (rng or random).randint(1, 100) <= weight else primary


@dataclasses.dataclass(frozen=True)
class Artifact:
    """One stored version of an artifact (``LATEST`` or a number).

    >>> artifact = repo.get_artifact_version("app", 1)
    >>> artifact.name, artifact.version, artifact.size
    ('app', '1', 2)
    """

    name: str
    version: str
    update_at: datetime
    s3uri: str
    sha256: str
    size: int | None = None
    changed: bool = False  # did the call that returned this write anything
    # the object's user metadata where the call read it from S3 (None: not read); not
    # compared, so a version equals itself however it was read
    metadata: dict[str, str] | None = dataclasses.field(default=None, compare=False)

    @property
    def s3path(self) -> Any:
        """The version's object as an ``s3pathlib.S3Path`` (s3pathlib imported on first use).

        >>> repo.get_artifact_version("app", 1).s3path.key
        'versioned-artifacts/app/versions/999999_000001'
        """
        return s3path(self.s3uri)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict, ``update_at`` in ISO 8601.

        >>> data = repo.get_artifact_version("app", 1).to_dict()
        >>> data["version"], data["sha256"], data["update_at"]
        ('1', '3bfc2695...', '20...+00:00')
        """
        data = dataclasses.asdict(self)
        data["update_at"] = self.update_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class AliasTarget:
    """Where an alias sends traffic: a primary version and an optional weighted canary.

    >>> repo.get_alias("app", "prod").target == AliasTarget("1")
    True
    """

    version: str
    secondary_version: str | None = None
    secondary_version_weight: int | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions this target sends traffic to.

        >>> AliasTarget("2", secondary_version="1", secondary_version_weight=20).versions
        ('2', '1')
        """
        if self.secondary_version is None:
            return (self.version,)
        return (self.version, self.secondary_version)

    def describe(self) -> str:
        """The target in words, for messages and summaries.

        >>> AliasTarget("1").describe()
        '1'
        >>> AliasTarget("2", secondary_version="1", secondary_version_weight=20).describe()
        '2 (80%) + 1 (20%)'
        """
        if self.secondary_version is None:
            return self.version
        primary = 100 - (self.secondary_version_weight or 0)
        return (
            f"{self.version} ({primary}%) + {self.secondary_version} "
            f"({self.secondary_version_weight}%)"
        )


@dataclasses.dataclass(frozen=True)
class Alias:
    """A named pointer to one version, or to two with a traffic split.

    >>> prod = repo.get_alias("app", "prod")
    >>> prod.alias, prod.version, prod.version_s3uri
    ('prod', '1', 's3://my-bucket/versioned-artifacts/app/versions/999999_000001')
    """

    name: str
    alias: str
    update_at: datetime
    version: str
    secondary_version: str | None
    secondary_version_weight: int | None
    version_s3uri: str
    secondary_version_s3uri: str | None
    changed: bool = False
    previous: AliasTarget | None = None  # the configuration this call replaced
    sha256: str | None = None  # of the primary version, where the call read it
    size: int | None = None

    @property
    def target(self) -> AliasTarget:
        """The versions and weight the alias points at, as one value.

        >>> repo.get_alias("app", "prod").target
        AliasTarget(version='1', secondary_version=None, secondary_version_weight=None)
        """
        return AliasTarget(self.version, self.secondary_version, self.secondary_version_weight)

    @property
    def version_s3path(self) -> Any:
        """The primary version's object as an ``s3pathlib.S3Path``.

        >>> repo.get_alias("app", "prod").version_s3path.uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return s3path(self.version_s3uri)

    @property
    def secondary_version_s3path(self) -> Any:
        """The canary version's object as an ``s3pathlib.S3Path``, or None without a canary.

        >>> print(repo.get_alias("app", "prod").secondary_version_s3path)
        None
        >>> canary = repo.put_alias(
        ...     "app", "prod", 2, secondary_version=1, secondary_version_weight=10
        ... )
        >>> canary.secondary_version_s3path.key
        'versioned-artifacts/app/versions/999999_000001'
        """
        return (
            None if self.secondary_version_s3uri is None else s3path(self.secondary_version_s3uri)
        )

    def random_artifact(self, rng: random.Random | None = None) -> str:
        """Pick the S3 URI of the primary or the secondary version by the alias's weights.

        >>> import random
        >>> canary = repo.put_alias(
        ...     "app", "prod", 2, secondary_version=1, secondary_version_weight=10
        ... )
        >>> canary.random_artifact(random.Random(2))  # this draw falls in the canary's 10%
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return weighted_pick(
            self.version_s3uri,
            self.secondary_version_s3uri,
            self.secondary_version_weight,
            rng,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict, ``update_at`` in ISO 8601.

        >>> data = repo.get_alias("app", "prod").to_dict()
        >>> data["alias"], data["version"], data["update_at"]
        ('prod', '1', '20...+00:00')
        """
        data = dataclasses.asdict(self)
        data["update_at"] = self.update_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of an alias; ``new`` is None when the alias was deleted.

    >>> created = repo.get_alias_history("app", "prod")[0]
    >>> created.previous, created.new.version
    (None, '1')
    """

    name: str
    alias: str
    changed_at: datetime
    previous: AliasTarget | None
    new: AliasTarget | None
    actor: str | None = None
    reason: str | None = None
    id: str | None = None  # unique per change; None in entries written before ids existed
    previous_entry: str | None = None  # id of the change this one followed
    request: str | None = None  # who asked: step#attempt and what it asked (rollback.py)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict, ``changed_at`` in ISO 8601.

        >>> data = repo.get_alias_history("app", "prod")[0].to_dict()
        >>> data["new"], data["changed_at"]
        ({'version': '1', 'secondary_version': None, 'secondary_version_weight': None}, '20...')
        """
        data = dataclasses.asdict(self)
        data["changed_at"] = self.changed_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class AliasRecord:
    """An alias as stored: its target, the token for a conditional write, and the change
    that set it (``entry`` is None for an alias written by a tool that keeps no history)."""

    target: AliasTarget
    token: object
    update_at: datetime
    entry: str | None = None
    previous: AliasTarget | None = None  # what ``entry`` replaced; None: created by it
    request: str | None = None


@dataclasses.dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (with ``dry_run``: would delete), and the old versions it kept
    because an alias points at them. (The compat layer returns 1.x's ``(purge_time,
    deleted)`` tuple.)

    >>> result = repo.purge_artifact_versions("app", keep_last_n=0, purge_older_than_secs=0)
    >>> [artifact.version for artifact in result.deleted], result.kept_for_aliases
    (['2'], ('1',))
    """

    purge_time: datetime
    deleted: tuple[Artifact, ...]
    kept_for_aliases: tuple[str, ...] = ()  # versions spared because an alias points at them
    dry_run: bool = False
