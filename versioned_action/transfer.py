"""Move bytes between local files and S3 with bounded memory, conditional writes and checks.

Uploads above a threshold go as parallel multipart parts read straight from the file; each
worker holds one part, so peak memory is ``max_workers * part_size`` whatever the file size.
Server-side copies are verified part by part against the source's ETag, so a copy never
silently takes bytes that changed after we read the source's metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO

from botocore.exceptions import ClientError

from .errors import KEY_MISSING, PRECONDITION_FAILED, Conflict, error_code
from .layout import META_SHA256

MiB = 1024 * 1024
CHUNK = MiB
MAX_PARTS = 10_000
MAX_COPY_PART = 5 * 1024 * MiB


class SourceChanged(Conflict):
    """The object we were copying from changed under us."""


class KeyExists(Conflict):
    """A conditional create found the key already taken."""


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    multipart_threshold: int = 16 * MiB
    part_size: int = 8 * MiB
    max_workers: int = 4

    def part_size_for(self, size: int) -> int:
        """The configured part size, grown in whole MiB so no upload needs over 10,000 parts."""
        needed = -(-size // MAX_PARTS)
        return max(self.part_size, -(-needed // MiB) * MiB)


class LocalContent:
    """A seekable local source read by offset from several threads: bytes, a path or a stream."""

    def __init__(self, source: bytes | bytearray | memoryview | str | os.PathLike | BinaryIO):
        self._lock = threading.Lock()
        self._buffer: memoryview | None = None
        self._file: BinaryIO | None = None
        self._owned = False
        self._sha256: str | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._buffer = memoryview(bytes(source))
            self.size = len(self._buffer)
        elif isinstance(source, (str, os.PathLike)):
            self._file = open(source, "rb")  # noqa: SIM115 - closed by close()
            self._owned = True
            self.size = os.fstat(self._file.fileno()).st_size
        else:
            self._file, self._owned = self._seekable(source)
            self._file.seek(0, io.SEEK_END)
            self.size = self._file.tell()

    @staticmethod
    def _seekable(stream: BinaryIO) -> tuple[BinaryIO, bool]:
        try:
            if stream.seekable():
                return stream, False
        except (AttributeError, ValueError):
            pass
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by LocalContent.close()
        shutil.copyfileobj(stream, spool, CHUNK)
        return spool, True

    def read(self, offset: int, length: int) -> bytes:
        if self._buffer is not None:
            return bytes(self._buffer[offset : offset + length])
        assert self._file is not None
        try:
            return os.pread(self._file.fileno(), length, offset)
        except (AttributeError, OSError, io.UnsupportedOperation):
            with self._lock:
                self._file.seek(offset)
                return self._file.read(length)

    @property
    def sha256(self) -> str:
        """Hex sha256 of the whole content, computed once in a single streaming pass."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            for offset in range(0, self.size, CHUNK):
                digest.update(self.read(offset, CHUNK))
            self._sha256 = digest.hexdigest()
        return self._sha256

    def close(self) -> None:
        if self._owned and self._file is not None:
            self._file.close()

    def __enter__(self) -> LocalContent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD (or our own upload) tells about one S3 object."""

    key: str
    etag: str
    size: int
    last_modified: datetime
    metadata: Mapping[str, str]
    content_type: str | None = None
    tags: Mapping[str, str] | None = None  # None: not known without a GetObjectTagging
    part_size: int | None = None  # None: uploaded in one piece

    @property
    def sha256(self) -> str | None:
        return self.metadata.get(META_SHA256)

    @property
    def parts_count(self) -> int:
        _, _, count = self.etag.strip('"').partition("-")
        return int(count) if count.isdigit() else 1


def response_time(response: dict) -> datetime:
    """Server time of a response (its Date header): S3's LastModified without another HEAD."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC).replace(microsecond=0)  # S3 keeps whole seconds too


def object_info(key: str, response: dict) -> ObjectInfo:
    """What a HEAD or GET response tells about the object at ``key``."""
    return ObjectInfo(
        key=key,
        etag=response["ETag"],
        size=response["ContentLength"],
        last_modified=response["LastModified"],
        metadata=dict(response.get("Metadata") or {}),
        content_type=response.get("ContentType"),
    )


def head(client, bucket: str, key: str) -> ObjectInfo:
    return object_info(key, client.head_object(Bucket=bucket, Key=key))


def with_part_size(client, bucket: str, info: ObjectInfo) -> ObjectInfo:
    """Fill in the part size of a multipart object (one HEAD of its first part)."""
    if info.parts_count == 1 or info.part_size:
        return info
    first = client.head_object(Bucket=bucket, Key=info.key, PartNumber=1)  # checked later
    return dataclasses.replace(info, part_size=first["ContentLength"])


def source_tags(client, bucket: str, key: str) -> dict[str, str]:
    response = client.get_object_tagging(Bucket=bucket, Key=key)
    return {tag["Key"]: tag["Value"] for tag in response["TagSet"]}


def _tagging(tags: Mapping[str, str] | None) -> dict:
    return {"Tagging": urllib.parse.urlencode(dict(tags))} if tags else {}


def _write_args(metadata, content_type, tags) -> dict:
    args: dict = {"Metadata": dict(metadata), **_tagging(tags)}
    if content_type:
        args["ContentType"] = content_type
    return args


def _conditional(call: Callable[[], dict], key: str) -> dict:
    try:
        return call()
    except ClientError as err:
        if error_code(err) in PRECONDITION_FAILED:
            raise KeyExists(f"s3 key {key!r} already exists") from err
        raise


def _ranges(size: int, part_size: int) -> list[tuple[int, int, int]]:
    return [
        (number, offset, min(part_size, size - offset))
        for number, offset in enumerate(range(0, size, part_size), start=1)
    ]


def _multipart(
    client, bucket, key, write_args, ranges, send_part, if_none_match, config, verify=None
):
    """Create a multipart upload, send parts in parallel, verify, complete; abort on failure."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **write_args)["UploadId"]
    try:
        with ThreadPoolExecutor(max_workers=config.max_workers) as pool:
            etags = list(pool.map(lambda part: send_part(upload_id, *part), ranges))
        if verify is not None:
            verify(etags)
        parts = [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        try:
            return client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **extra,
            )
        except ClientError as err:
            # A retry of a completion whose answer was lost finds the upload gone (or, with
            # If-None-Match, the key taken): the key holding exactly our parts means it landed.
            if error_code(err) not in (*PRECONDITION_FAILED, "NoSuchUpload"):
                raise
            landed = _completed(client, bucket, key, multipart_etag(etags), write_args)
            if landed is not None:
                return landed
            if error_code(err) in PRECONDITION_FAILED:
                raise KeyExists(f"s3 key {key!r} already exists") from err
            raise
    except BaseException:
        with contextlib.suppress(ClientError):  # it may be gone; the original error matters
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


def _completed(client, bucket: str, key: str, etag: str, write_args: dict) -> dict | None:
    """The HEAD of ``key`` if it is the object our parts and metadata make, else None."""
    try:
        response = client.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if error_code(err) in KEY_MISSING:
            return None
        raise
    ours = response["ETag"] == etag and response.get("Metadata") == write_args["Metadata"]
    return response if ours else None


def upload(
    client,
    bucket: str,
    key: str,
    content: LocalContent,
    *,
    metadata: Mapping[str, str],
    content_type: str | None,
    tags: Mapping[str, str] | None,
    if_none_match: bool,
    config: TransferConfig,
) -> ObjectInfo:
    """Store ``content`` at ``key``; with ``if_none_match`` never replace an existing object."""
    write_args = _write_args(metadata, content_type, tags)
    if content.size <= config.multipart_threshold:
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        response = _conditional(
            lambda: client.put_object(
                Bucket=bucket, Key=key, Body=content.read(0, content.size), **write_args, **extra
            ),
            key,
        )
        part_size = None
    else:
        part_size = config.part_size_for(content.size)

        def send(upload_id: str, number: int, offset: int, length: int) -> str:
            body = content.read(offset, length)
            return client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )["ETag"]

        ranges = _ranges(content.size, part_size)
        response = _multipart(client, bucket, key, write_args, ranges, send, if_none_match, config)
    return ObjectInfo(
        key=key,
        etag=response["ETag"],
        size=content.size,
        last_modified=response_time(response),
        metadata=dict(metadata),
        content_type=content_type,
        tags=dict(tags or {}),
        part_size=part_size,
    )


def multipart_etag(part_etags: list[str]) -> str:
    """The ETag S3 gives an object assembled from parts with these (MD5) ETags."""
    digest = hashlib.md5(
        b"".join(bytes.fromhex(e.strip('"')) for e in part_etags), usedforsecurity=False
    )
    return f'"{digest.hexdigest()}-{len(part_etags)}"'


def copy_exact(
    client,
    bucket: str,
    source: ObjectInfo,
    key: str,
    *,
    if_none_match: bool,
    config: TransferConfig,
    extra_metadata: Mapping[str, str] | None = None,
) -> ObjectInfo:
    """Copy ``source`` to ``key`` with its metadata and tags, only if its bytes are still
    ``source``'s.

    Small objects pass through this process (read with If-Match, sha256 checked, written with
    If-None-Match); large ones are copied server side in the source's own part layout, and the
    copied parts' ETags must add up to the source's ETag before the copy is completed.
    ``extra_metadata`` is added to the source's.
    """
    metadata = {**source.metadata, **(extra_metadata or {})}
    if source.size <= config.multipart_threshold:
        try:
            response = client.get_object(Bucket=bucket, Key=source.key, IfMatch=source.etag)
        except ClientError as err:
            if error_code(err) in (*PRECONDITION_FAILED, *KEY_MISSING):
                raise SourceChanged(f"s3 key {source.key!r} changed during the copy") from err
            raise
        tags = source.tags
        if tags is None:  # GetObject counts the tags: fetch them only if there are any
            tags = source_tags(client, bucket, source.key) if response.get("TagCount") else {}
        write_args = _write_args(metadata, source.content_type, tags)
        body = response["Body"].read()
        if source.sha256 and hashlib.sha256(body).hexdigest() != source.sha256:
            raise SourceChanged(f"s3 key {source.key!r} changed during the copy")
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        result = _conditional(
            lambda: client.put_object(Bucket=bucket, Key=key, Body=body, **write_args, **extra),
            key,
        )
        part_size = None
    else:
        source = with_part_size(client, bucket, source)
        tags = source.tags if source.tags is not None else source_tags(client, bucket, source.key)
        write_args = _write_args(metadata, source.content_type, tags)
        part_size = source.part_size or source.size
        if part_size > MAX_COPY_PART:
            part_size = config.part_size_for(source.size)

        def send(upload_id: str, number: int, offset: int, length: int) -> str:
            try:
                response = client.upload_part_copy(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": bucket, "Key": source.key},
                    CopySourceRange=f"bytes={offset}-{offset + length - 1}",
                    CopySourceIfMatch=source.etag,
                )
            except ClientError as err:
                if error_code(err) in PRECONDITION_FAILED:
                    raise SourceChanged(f"s3 key {source.key!r} changed during the copy") from err
                raise
            return response["CopyPartResult"]["ETag"]

        def verify(etags: list[str]) -> None:
            if not _same_bytes(client, bucket, source, etags):
                raise SourceChanged(f"s3 key {source.key!r} changed during the copy")

        ranges = _ranges(source.size, part_size)
        result = _multipart(
            client, bucket, key, write_args, ranges, send, if_none_match, config, verify
        )
    return ObjectInfo(
        key=key,
        etag=result["ETag"],
        size=source.size,
        last_modified=response_time(result),
        metadata=metadata,
        content_type=source.content_type,
        tags=dict(tags or {}),
        part_size=part_size,
    )


def _same_bytes(client, bucket: str, source: ObjectInfo, etags: list[str]) -> bool:
    """Do the copied parts carry the source's bytes?

    Compare the parts' ETags with the source's. Where ETags are not MD5s (SSE-KMS) they never
    match; then the source must still have the ETag every part copy was conditioned on.
    """
    if source.parts_count == 1 and etags == [source.etag]:
        return True
    if len(etags) == source.parts_count > 1 and multipart_etag(etags) == source.etag:
        return True
    try:
        return head(client, bucket, source.key).etag == source.etag
    except ClientError:
        return False
