"""Result values returned by the repository; plain frozen dataclasses, JSON-friendly."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def s3path(uri: str):
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


@dataclasses.dataclass(frozen=True)
class Artifact:
    """One stored version of an artifact (``LATEST`` or a number)."""

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
    def s3path(self):
        """The version's object as an ``s3pathlib.S3Path`` (s3pathlib imported on first use)."""
        return s3path(self.s3uri)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["update_at"] = self.update_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class AliasTarget:
    """Where an alias sends traffic: a primary version and an optional weighted canary."""

    version: str
    secondary_version: str | None = None
    secondary_version_weight: int | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions this target sends traffic to."""
        if self.secondary_version is None:
            return (self.version,)
        return (self.version, self.secondary_version)

    def describe(self) -> str:
        if self.secondary_version is None:
            return self.version
        primary = 100 - (self.secondary_version_weight or 0)
        return (
            f"{self.version} ({primary}%) + {self.secondary_version} "
            f"({self.secondary_version_weight}%)"
        )


@dataclasses.dataclass(frozen=True)
class Alias:
    """A named pointer to one version, or to two with a traffic split."""

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
        return AliasTarget(self.version, self.secondary_version, self.secondary_version_weight)

    @property
    def version_s3path(self):
        """The primary version's object as an ``s3pathlib.S3Path``."""
        return s3path(self.version_s3uri)

    @property
    def secondary_version_s3path(self):
        """The canary version's object as an ``s3pathlib.S3Path``, or None without a canary."""
        return (
            None if self.secondary_version_s3uri is None else s3path(self.secondary_version_s3uri)
        )

    def random_artifact(self, rng: random.Random | None = None) -> str:
        """Pick the S3 URI of the primary or the secondary version by the alias's weights."""
        if self.secondary_version_s3uri is None or not self.secondary_version_weight:
            return self.version_s3uri
        draw = (rng or random).randint(1, 100)
        if draw <= self.secondary_version_weight:
            return self.secondary_version_s3uri
        return self.version_s3uri

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["update_at"] = self.update_at.isoformat()
        return data


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of an alias; ``new`` is None when the alias was deleted."""

    name: str
    alias: str
    changed_at: datetime
    previous: AliasTarget | None
    new: AliasTarget | None
    actor: str | None = None
    reason: str | None = None
    id: str | None = None  # unique per change; None in entries written before ids existed
    previous_entry: str | None = None  # id of the change this one followed
    request: str | None = None  # identity of the step that made it (survives re-runs)

    def to_dict(self) -> dict:
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
    purge_time: datetime
    deleted: tuple[Artifact, ...]
    kept_for_aliases: tuple[str, ...] = ()  # versions spared because an alias points at them
    dry_run: bool = False

    def __iter__(self):
        """Unpack like the seeds' ``(purge_time, deleted)`` tuple."""
        return iter((self.purge_time, list(self.deleted)))
