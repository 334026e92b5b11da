"""What every repository holds (its bucket, prefix, clients) and what a backend provides.

A backend says where things live: object keys, version records, alias records and history.
:class:`Storage` names those hooks; the layers above it (aliases, lifecycle, the publish
protocol, :class:`~versioned_action.repository.Repository`) decide what happens with them.
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from . import layout, publishing, transfer
from .aws import AwsSettings
from .aws_failures import BUCKET_MISSING, KEY_MISSING, error_code
from .errors import BucketNotFound, VersionedError
from .models import AliasRecord, AliasTarget, Artifact, HistoryEntry
from .publishing import Claim, Tip
from .server import Server
from .transfer import ObjectInfo, TransferConfig

if TYPE_CHECKING:
    from .aws import S3Client


class Storage(abc.ABC):
    """One bucket and prefix (and for ``s3-dynamodb``, one table), and a backend's records."""

    backend: ClassVar[str]
    # Is a version's object its own record (so a key holding one is a number taken)?
    objects_are_records: ClassVar[bool] = True
    _aws_errors: tuple[type[BaseException], ...] = (ClientError, BotoCoreError)

    def __init__(
        self,
        s3_bucket: str,
        s3_prefix: str = "versioned-artifacts",
        suffix: str = "",
        *,
        aws_region: str | None = None,
        endpoint_url: str | None = None,
        transfer_config: TransferConfig | None = None,
    ) -> None:
        self.s3_bucket = layout.validate_bucket(s3_bucket)
        self.s3_prefix = layout.validate_prefix(s3_prefix)
        self.suffix = layout.validate_suffix(suffix)
        self.aws = AwsSettings.resolve(aws_region, endpoint_url)
        self.transfer = transfer_config or TransferConfig()
        self.s3: S3Client = self.aws.s3_client(max_pool=max(16, self.transfer.max_workers * 2))
        self.server = Server(self.s3, self.s3_bucket, self.s3_prefix, self.aws.s3_endpoint)
        self.claim_lease = publishing.claim_lease()
        self._once_client: S3Client | None = None

    @property
    def _s3_once(self) -> S3Client:
        """An S3 client that sends each request once: for a write that must not be repeated
        blindly (the caller looks at what landed before it tries again)."""
        if self._once_client is None:
            self._once_client = self.aws.s3_client(max_pool=4, max_attempts=1)
        return self._once_client

    def _error_context(self) -> dict[str, Any]:
        return {"bucket": self.s3_bucket, "region": self.aws.region, "prefix": self.s3_prefix}

    # ----- what a backend provides ---------------------------------------------------------

    @abc.abstractmethod
    def object_key(self, name: str, version: str) -> str:
        """S3 key of a version's content.

        >>> repo.object_key("app", "1")
        'versioned-artifacts/app/versions/999999_000001'
        >>> repo.object_key("app", LATEST)
        'versioned-artifacts/app/versions/000000_LATEST'
        """

    @abc.abstractmethod
    def _get(self, name: str, version: str) -> Artifact:
        """The stored version, or VersionNotFound / ArtifactNotFound."""

    @abc.abstractmethod
    def _latest(self, name: str) -> Artifact | None:
        """LATEST as the backend records it (for deduplicating a put), or None."""

    @abc.abstractmethod
    def _list_versions(self, name: str) -> list[Artifact]:
        """Live versions, LATEST first, then newest number first."""

    @abc.abstractmethod
    def _newest(self, name: str, like: ObjectInfo | None = None) -> Tip:
        """The newest live published version, the highest number taken, any claim on it.
        ``like``: an object we hold, whose sha256 may spare reading the newest's; ``newest``
        may then be None when the listing alone shows it holds other bytes."""

    def _pending_claim(self, name: str, above: int) -> Claim | None:
        """A claim of a number above ``above`` that no version holds yet, where claims are
        kept apart from versions (in ``_newest``'s Tip elsewhere)."""
        return None

    def _record_latest(self, name: str, info: ObjectInfo) -> None:
        """Record a new LATEST next to its content (nothing to do where S3 is the record)."""

    def _reserve(self, name: str, number: int, sha256: str, owner: str) -> bool:
        """Claim a version number before its content is written; False if another run has it.
        (Where S3 alone keeps the records, the version's conditional create is the claim.)"""
        return True

    def _take_over(self, name: str, claim: Claim, sha256: str, owner: str) -> bool:
        """Take a claim whose lease is over; False if another run changed it first."""
        return True

    def _commit(self, name: str, number: int, info: ObjectInfo) -> None:
        """Reveal a claimed version as the object at its key holds it (idempotent)."""

    def _release(self, name: str, number: int, owner: str) -> None:
        """Give back our claim of a number whose content we failed to write."""

    def _abandon(self, name: str, number: int) -> None:
        """Keep a claimed number as a permanent gap: its key holds an object not ours."""

    def _check_publishable(self) -> None:
        """Refuse to publish where this backend cannot number versions safely."""

    @abc.abstractmethod
    def _delete_version(self, name: str, version: str) -> None: ...

    @abc.abstractmethod
    def _read_alias(self, name: str, alias: str) -> AliasRecord | None:
        """The stored alias (target, write token, the change that set it), or None."""

    @abc.abstractmethod
    def _write_alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget | None,
        token: object,
        entry: HistoryEntry,
    ) -> datetime:
        """Set (or with ``target=None`` delete) the alias if it still matches ``token``, naming
        ``entry``, and record ``entry`` so that no move ever lacks it; raise Conflict when the
        condition fails. Returns the update time."""

    @abc.abstractmethod
    def _list_alias_records(self, name: str) -> list[tuple[str, AliasTarget, datetime]]: ...

    @abc.abstractmethod
    def _history(self, name: str, alias: str, limit: int) -> list[HistoryEntry]:
        """Recorded changes of an alias, newest first."""

    @abc.abstractmethod
    def _purge_records(self, name: str | None) -> None:
        """Remove the backend's records of one artifact (or all, with None)."""

    def _bootstrap_records(self) -> None:
        """Create the backend's own resources (the table) if missing."""

    # ----- helpers ------------------------------------------------------------------------

    def _where(self) -> str:
        return f"s3://{self.s3_bucket}/{self.s3_prefix}"

    def s3uri(self, name: str, version: str) -> str:
        """S3 URI of a version's content.

        >>> repo.s3uri("app", "1")
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return layout.s3_uri(self.s3_bucket, self.object_key(name, version))

    def _artifact_prefix(self, name: str) -> str:
        return layout.join_key(self.s3_prefix, name) + "/"

    def _artifact(self, name: str, version: str, info: ObjectInfo, changed: bool) -> Artifact:
        return Artifact(
            name=name,
            version=version,
            update_at=info.last_modified,
            s3uri=self.s3uri(name, version),
            sha256=info.sha256 or "",
            size=info.size,
            changed=changed,
            metadata=info.user_metadata,
        )

    def _not_found(self, err: ClientError, missing: VersionedError) -> VersionedError:
        """A 404 means a missing key or a missing bucket; tell which."""
        if error_code(err) == "NoSuchBucket":
            return BucketNotFound(self.s3_bucket)
        if error_code(err) in KEY_MISSING:
            try:
                self.s3.head_bucket(Bucket=self.s3_bucket)
            except ClientError as bucket_err:
                if error_code(bucket_err) in BUCKET_MISSING:
                    return BucketNotFound(self.s3_bucket)
                raise
            return missing
        raise err

    def _head(self, key: str, missing: VersionedError) -> ObjectInfo:
        try:
            return transfer.head(self.s3, self.s3_bucket, key)
        except ClientError as err:
            raise self._not_found(err, missing) from err

    def _head_or_none(self, key: str) -> ObjectInfo | None:
        return transfer.head_or_none(self.s3, self.s3_bucket, key)
