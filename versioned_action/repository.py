"""The repository interface and every rule both backends share.

A backend says where things live (object keys, version records, alias records, history);
this module decides what happens: validation before any write, deduplication, race-free
publishing, compare-and-swap alias updates with history, rollback and purge.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from . import layout, publishing, transfer
from .aliases import AliasOperations
from .aws import AwsSettings
from .content import LocalContent
from .download import download
from .errors import (
    BUCKET_MISSING,
    KEY_MISSING,
    BucketNotFound,
    InvalidInput,
    VersionedError,
    VersionNotFound,
    aws_call,
    error_code,
)
from .lifecycle import LifecycleOperations
from .models import AliasRecord, AliasTarget, Artifact, HistoryEntry
from .publishing import Claim, Tip
from .transfer import ObjectInfo, TransferConfig

LATEST = layout.LATEST
Content = bytes | str | Path | LocalContent


class Repository(AliasOperations, LifecycleOperations, abc.ABC):
    """Artifacts, versions and aliases in one bucket (and for ``s3-dynamodb``, one table)."""

    backend: ClassVar[str]
    aws_errors: tuple[type[BaseException], ...] = (ClientError, BotoCoreError)

    def __init__(
        self,
        s3_bucket: str,
        s3_prefix: str = "versioned-artifacts",
        suffix: str = "",
        *,
        aws_region: str | None = None,
        endpoint_url: str | None = None,
        transfer_config: TransferConfig | None = None,
    ):
        self.s3_bucket = layout.validate_bucket(s3_bucket)
        self.s3_prefix = layout.validate_prefix(s3_prefix)
        self.suffix = layout.validate_suffix(suffix)
        self.aws = AwsSettings.resolve(aws_region, endpoint_url)
        self.transfer = transfer_config or TransferConfig()
        self.s3 = self.aws.s3_client(max_pool=max(16, self.transfer.max_workers * 2))
        self.claim_lease = publishing.claim_lease()

    def error_context(self) -> dict:
        return {"bucket": self.s3_bucket, "region": self.aws.region, "prefix": self.s3_prefix}

    # ----- what a backend provides ---------------------------------------------------------

    @abc.abstractmethod
    def object_key(self, name: str, version: str) -> str:
        """S3 key of a version's content."""

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

    @abc.abstractmethod
    def _delete_version(self, name: str, version: str) -> None: ...

    @abc.abstractmethod
    def _read_alias(self, name: str, alias: str) -> AliasRecord | None:
        """The stored alias (target, write token, the change that set it), or None."""

    @abc.abstractmethod
    def _write_alias(
        self, name: str, alias: str, target: AliasTarget | None, token, entry: HistoryEntry
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

    def s3uri(self, name: str, version: str) -> str:
        return layout.s3_uri(self.s3_bucket, self.object_key(name, version))

    def artifact_prefix(self, name: str) -> str:
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

    @contextmanager
    def _content(self, content: Content) -> Iterator[LocalContent]:
        if isinstance(content, LocalContent):
            yield content
            return
        if isinstance(content, (str, Path)) and not Path(content).is_file():
            raise InvalidInput("path", f"{str(content)!r} is not a readable file")
        with LocalContent(content) as local:
            yield local

    # ----- setup --------------------------------------------------------------------------

    @aws_call
    def bootstrap(self) -> None:
        """Create the bucket (and table) when missing; leave existing ones untouched."""
        try:
            self.s3.head_bucket(Bucket=self.s3_bucket)
        except ClientError as err:
            if error_code(err) not in BUCKET_MISSING:
                raise
            kwargs: dict = {"Bucket": self.s3_bucket}
            if self.aws.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.aws.region}
            self.s3.create_bucket(**kwargs)
        self._bootstrap_records()

    # ----- artifacts ----------------------------------------------------------------------

    @aws_call
    def put_artifact(
        self,
        name: str,
        content: Content,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> Artifact:
        """Store ``content`` as LATEST; skip the upload when LATEST already has its sha256."""
        send = self._uploader(name, content_type, metadata, tags)
        with self._content(content) as local:
            artifact, _ = self._put(name, local, send)
        return artifact

    def _uploader(self, name, content_type, metadata, tags) -> Callable[..., ObjectInfo]:
        """Validate a put's settings once; return what stores content under a key with them."""
        layout.validate_name(name)
        content_type = layout.validate_content_type(content_type)
        user_metadata = layout.validate_metadata(name, metadata)
        tags = layout.validate_tags(tags)

        def send(
            local: LocalContent, key: str, *, if_none_match: bool, extra: dict | None = None
        ) -> ObjectInfo:
            return transfer.upload(
                self.s3,
                self.s3_bucket,
                key,
                local,
                metadata={**user_metadata, layout.META_SHA256: local.sha256, **(extra or {})},
                content_type=content_type,
                tags=tags,
                if_none_match=if_none_match,
                config=self.transfer,
            )

        return send

    def _put(self, name: str, local: LocalContent, send) -> tuple[Artifact, ObjectInfo | None]:
        current = self._latest(name)
        if current is None or current.size != local.size:
            transfer.prepare_upload(local, self.transfer)
        if current is not None and current.sha256 == local.sha256:
            return dataclasses.replace(current, size=local.size, changed=False), None
        info = send(local, self.object_key(name, LATEST), if_none_match=False)
        self._record_latest(name, info)
        return self._artifact(name, LATEST, info, changed=True), info

    @aws_call
    def publish_artifact_version(self, name: str) -> Artifact:
        """Snapshot LATEST as the next number; return the newest version if it is unchanged."""
        layout.validate_name(name)
        return self._publish(name)

    @aws_call
    def put_and_publish(
        self,
        name: str,
        content: Content,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> tuple[Artifact, Artifact]:
        """Put ``content`` as LATEST and publish exactly these bytes, even if another writer
        replaces LATEST in between (then the version is uploaded from ``content`` itself)."""
        send = self._uploader(name, content_type, metadata, tags)
        with self._content(content) as local:
            latest, receipt = self._put(name, local, send)
            version = self._publish(
                name,
                expected_sha256=local.sha256,
                source=receipt,
                fallback=lambda key, extra: send(local, key, if_none_match=True, extra=extra),
            )
        return latest, version

    def _publish(
        self,
        name: str,
        *,
        expected_sha256: str | None = None,
        source: ObjectInfo | None = None,
        fallback: Callable[[str, dict[str, str]], ObjectInfo] | None = None,
    ) -> Artifact:
        return publishing.Publication(
            self, name, expected_sha256=expected_sha256, source=source, fallback=fallback
        ).run()

    def where(self) -> str:
        return f"s3://{self.s3_bucket}/{self.s3_prefix}"

    @aws_call
    def get_artifact_version(self, name: str, version: str | int | None = None) -> Artifact:
        """One version (LATEST by default)."""
        return self._get(layout.validate_name(name), layout.normalize_version(version))

    @aws_call
    def get_newest_version(self, name: str) -> Artifact | None:
        """The newest published version (not LATEST), or None; reads the top of the
        numbering, not every version."""
        layout.validate_name(name)
        tip = self._newest(name)
        if tip.newest is not None or tip.highest == 0:
            return tip.newest
        # the top number is deleted or being published: look further down
        return next((a for a in self._list_versions(name) if a.version != LATEST), None)

    @aws_call
    def get_newest_version_number(self, name: str) -> str | None:
        """The number of the newest published version, or None, without reading the version
        itself (a promote reads it anyway, to check it exists)."""
        layout.validate_name(name)
        return self._newest_number(name)

    def _newest_number(self, name: str) -> str | None:
        newest = self.get_newest_version(name)
        return None if newest is None else newest.version

    @aws_call
    def list_artifact_versions(self, name: str) -> list[Artifact]:
        """All live versions, LATEST first, then newest first."""
        return self._list_versions(layout.validate_name(name))

    @aws_call
    def list_artifact_names(self) -> list[str]:
        """Names of all artifacts under the prefix."""
        prefix = self.s3_prefix + "/" if self.s3_prefix else ""
        names = []
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.s3_bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        except ClientError as err:
            raise self._not_found(err, BucketNotFound(self.s3_bucket)) from err
        return sorted(names)

    @aws_call
    def download_artifact(
        self, name: str, path: str | Path, version: str | int | None = None
    ) -> Artifact:
        """Stream a version to ``path``, verifying its sha256; nothing is left on failure."""
        layout.validate_name(name)
        version = layout.normalize_version(version)
        stored = self._get(name, version)
        key = self.object_key(name, version)
        try:
            info, sha256 = download(self.s3, self.s3_bucket, key, Path(path))
        except ClientError as err:
            raise self._not_found(err, VersionNotFound(name, version)) from err
        return dataclasses.replace(stored, sha256=sha256, size=info.size)

    @aws_call
    def get_artifact_content(self, name: str, version: str | int | None = None) -> bytes:
        """The whole content in memory; for large files use :meth:`download_artifact`."""
        layout.validate_name(name)
        version = layout.normalize_version(version)
        self._get(name, version)
        response = self.s3.get_object(Bucket=self.s3_bucket, Key=self.object_key(name, version))
        return response["Body"].read()
