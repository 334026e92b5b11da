"""The repository interface and every rule both backends share.

A backend says where things live (object keys, version records, alias records, history);
this module decides what happens: validation before any write, deduplication, race-free
publishing, compare-and-swap alias updates with history, rollback and purge.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from . import layout, publishing, transfer
from .aliases import AliasOperations
from .aws_failures import BUCKET_MISSING, aws_call, error_code
from .content import LocalContent
from .download import download
from .errors import BucketNotFound, InvalidInput, VersionNotFound
from .lifecycle import LifecycleOperations
from .models import Artifact
from .transfer import ObjectInfo

LATEST = layout.LATEST
Content = bytes | str | Path | LocalContent


class _Send(Protocol):
    """Stores content under a key with a put's settings (what :meth:`_uploader` returns)."""

    def __call__(
        self,
        local: LocalContent,
        key: str,
        *,
        if_none_match: bool,
        extra: dict[str, str] | None = None,
    ) -> ObjectInfo: ...


class Repository(AliasOperations, LifecycleOperations):
    """Artifacts, versions and aliases in one bucket (and for ``s3-dynamodb``, one table).

    Made by :func:`~versioned_action.open_repository`; both backends share every method.

    The examples in these docstrings run as written (the tests run them) on a bucket
    ``my-bucket`` holding one artifact, ``app``: version 1 (``b"v1"``), version 2 (``b"v2"``),
    LATEST (``b"v2"``), and the alias ``prod`` on version 1; ``repo`` is this repository::

        repo = open_repository("s3", bucket="my-bucket", region="us-east-1")
        repo.bootstrap()
        repo.put_and_publish("app", b"v1")
        repo.put_and_publish("app", b"v2")
        repo.put_alias("app", "prod", version=1)

    >>> repo = open_repository("s3", bucket="my-bucket", region="us-east-1")
    >>> [artifact.version for artifact in repo.list_artifact_versions("app")]
    ['LATEST', '2', '1']
    """

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
        """Create the bucket (and table) when missing; leave existing ones untouched.

        >>> new = open_repository("s3", bucket="new-bucket", region="us-east-1")
        >>> new.bootstrap()
        >>> new.list_artifact_names()
        []
        """
        try:
            self.s3.head_bucket(Bucket=self.s3_bucket)
        except ClientError as err:
            if error_code(err) not in BUCKET_MISSING:
                raise
            kwargs: dict[str, Any] = {"Bucket": self.s3_bucket}
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
        """Store ``content`` as LATEST; skip the upload when LATEST already has its sha256.

        ``content`` is bytes, or the path of a file.

        >>> repo.put_artifact("app", b"v3").changed
        True
        >>> repo.put_artifact("app", b"v3").changed  # the same bytes again: no upload
        False
        """
        send = self._uploader(name, content_type, metadata, tags)
        with self._content(content) as local:
            artifact, _ = self._put(name, local, send)
        return artifact

    def _uploader(
        self,
        name: str,
        content_type: str | None,
        metadata: dict[str, str] | None,
        tags: dict[str, str] | None,
    ) -> _Send:
        """Validate a put's settings once; return what stores content under a key with them."""
        layout.validate_name(name)
        content_type = layout.validate_content_type(content_type)
        user_metadata = layout.validate_metadata(name, metadata)
        tags = layout.validate_tags(tags)

        def send(
            local: LocalContent,
            key: str,
            *,
            if_none_match: bool,
            extra: dict[str, str] | None = None,
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

    def _put(
        self, name: str, local: LocalContent, send: _Send
    ) -> tuple[Artifact, ObjectInfo | None]:
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
        """Snapshot LATEST as the next number; return the newest version if it is unchanged.

        >>> _ = repo.put_artifact("app", b"v3")
        >>> repo.publish_artifact_version("app").version
        '3'
        >>> repo.publish_artifact_version("app").changed  # LATEST is version 3 already
        False
        """
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
        replaces LATEST in between (then the version is uploaded from ``content`` itself).

        >>> latest, version = repo.put_and_publish("app", b"v3")
        >>> latest.version, version.version, version.changed
        ('LATEST', '3', True)
        """
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

    @aws_call
    def get_artifact_version(self, name: str, version: str | int | None = None) -> Artifact:
        """One version (LATEST by default).

        >>> repo.get_artifact_version("app", 1).s3uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        >>> repo.get_artifact_version("app").sha256 == repo.get_artifact_version("app", 2).sha256
        True
        """
        return self._get(layout.validate_name(name), layout.normalize_version(version))

    @aws_call
    def get_newest_version(self, name: str) -> Artifact | None:
        """The newest published version (not LATEST), or None; reads the top of the
        numbering, not every version.

        >>> repo.get_newest_version("app").version
        '2'
        >>> print(repo.get_newest_version("unpublished"))
        None
        """
        layout.validate_name(name)
        tip = self._newest(name)
        if tip.newest is not None or tip.highest == 0:
            return tip.newest
        # the top number is deleted or being published: look further down
        return next((a for a in self._list_versions(name) if a.version != LATEST), None)

    @aws_call
    def get_newest_version_number(self, name: str) -> str | None:
        """The number of the newest published version, or None, without reading the version
        itself (a promote reads it anyway, to check it exists).

        >>> repo.get_newest_version_number("app")
        '2'
        """
        layout.validate_name(name)
        return self._newest_number(name)

    def _newest_number(self, name: str) -> str | None:
        newest = self.get_newest_version(name)
        return None if newest is None else newest.version

    @aws_call
    def list_artifact_versions(self, name: str) -> list[Artifact]:
        """All live versions, LATEST first, then newest first.

        >>> [artifact.version for artifact in repo.list_artifact_versions("app")]
        ['LATEST', '2', '1']
        """
        return self._list_versions(layout.validate_name(name))

    @aws_call
    def list_artifact_names(self) -> list[str]:
        """Names of all artifacts under the prefix.

        >>> repo.list_artifact_names()
        ['app']
        """
        prefix = self.s3_prefix + "/" if self.s3_prefix else ""
        names: list[str] = []
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
        """Stream a version to ``path``, verifying its sha256; nothing is left on failure.

        >>> from pathlib import Path
        >>> repo.download_artifact("app", "app.bin", version=1).size
        2
        >>> Path("app.bin").read_bytes()
        b'v1'
        """
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
        """The whole content in memory; for large files use :meth:`download_artifact`.

        >>> repo.get_artifact_content("app")
        b'v2'
        >>> repo.get_artifact_content("app", 1)
        b'v1'
        """
        layout.validate_name(name)
        version = layout.normalize_version(version)
        self._get(name, version)
        response = self.s3.get_object(Bucket=self.s3_bucket, Key=self.object_key(name, version))
        content: bytes = response["Body"].read()
        return content
