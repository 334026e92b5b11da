"""Server-side copies that publish a version from LATEST.

Where the endpoint enforces CopyObject's conditions (:func:`copy_exact`), up to 5 GiB a copy
is one CopyObject, conditional on the source's ETag and on the key's absence, and its
response's SHA-256 must be the one we expect. Elsewhere (:func:`copy_snapshot`) the copy
takes whatever the source holds at that moment together with its metadata, and we find out
which bytes it took. Larger objects are copied in parts whose ETags must add up to the
source's before the copy is completed, on any endpoint.
"""

from __future__ import annotations

import base64
import dataclasses
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .aws_failures import KEY_MISSING, PRECONDITION_FAILED, error_code
from .content import MiB
from .layout import same_etag
from .transfer import (
    KeyExists,
    ObjectInfo,
    SourceChanged,
    TransferConfig,
    head,
    head_or_none,
    missing,
    multipart_etag,
    multipart_write,
    object_args,
    part_ranges,
    response_time,
)

if TYPE_CHECKING:
    from .aws import S3Client

MAX_COPY_PART = 5 * 1024 * MiB  # the largest CopyObject, and the largest part of a copy
SNAPSHOT_ATTEMPTS = 3  # sends of a snapshot copy that failed without landing
_TRANSIENT = ("RequestTimeout", "SlowDown", "Throttling", "ThrottlingException")


def with_part_size(client: S3Client, bucket: str, info: ObjectInfo) -> ObjectInfo:
    """Fill in the part size of a multipart object (one HEAD of its first part)."""
    if info.parts_count == 1 or info.part_size:
        return info
    first = client.head_object(Bucket=bucket, Key=info.key, PartNumber=1)  # checked later
    size = first.get("ContentLength")
    if not isinstance(size, int) or size <= 0:
        raise missing(client, "HeadObject of part 1", bucket, info.key, "its size")
    return dataclasses.replace(info, part_size=size)


def source_tags(client: S3Client, bucket: str, key: str) -> dict[str, str]:
    response = client.get_object_tagging(Bucket=bucket, Key=key)
    tags = response.get("TagSet")
    if not isinstance(tags, list):  # an empty TagSet is a list; no TagSet, no answer
        raise missing(client, "GetObjectTagging", bucket, key, "a TagSet")
    return {tag.get("Key", ""): tag.get("Value", "") for tag in tags}


def _condition_etag(client: S3Client, bucket: str, source: ObjectInfo) -> str:
    """The source's ETag, which a copy of it is conditional on (an answer that gave none
    leaves nothing to condition on)."""
    if not source.etag:
        raise missing(client, "HeadObject", bucket, source.key, "an ETag")
    return source.etag


def _copy_result(response: dict[str, Any]) -> dict[str, Any]:
    result = response.get("CopyObjectResult")
    return result if isinstance(result, dict) else {}


def copy_exact(
    client: S3Client,
    bucket: str,
    source: ObjectInfo,
    key: str,
    *,
    if_none_match: bool,
    config: TransferConfig,
    extra_metadata: Mapping[str, str] | None = None,
) -> ObjectInfo:
    """Copy ``source`` to ``key`` with its metadata and tags, only if its bytes are still
    ``source``'s; ``extra_metadata`` is added to the source's.

    Up to 5 GiB this is one server-side CopyObject, conditional on the source's ETag and (with
    ``if_none_match``) on the key's absence; larger objects are copied in parts whose ETags
    must add up to the source's before the copy is completed.
    """
    metadata = {**source.metadata, **(extra_metadata or {})}
    if source.size <= MAX_COPY_PART:
        return _copy_object(client, bucket, source, key, metadata, if_none_match)
    return _copy_parts(client, bucket, source, key, metadata, if_none_match, config)


def copy_snapshot(
    client: S3Client,
    once: S3Client,
    bucket: str,
    source: ObjectInfo,
    key: str,
    *,
    config: TransferConfig,
) -> ObjectInfo:
    """Copy ``source`` to ``key`` on an endpoint that may ignore CopyObject's conditions;
    describe what the copy took. Only the holder of the version's number may call this.

    The copy brings the source's metadata along with its bytes (``MetadataDirective=COPY``),
    so the new object describes itself (its sha256) whatever the source held at that moment.
    It goes through ``once``, a client that never repeats a request: a blind retry could take
    other bytes into the same key. After a failure the key is looked at: an object there is
    our copy whose answer was lost. What the copy took is known from its SHA-256 checksum,
    else from its ETag, else (neither matches the source we read) from one HEAD.
    """
    if source.size > MAX_COPY_PART:  # part copies are checked before they are completed
        return _copy_parts(client, bucket, source, key, source.metadata, False, config)
    args: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "CopySource": {"Bucket": bucket, "Key": source.key},
        # kept: some endpoints do enforce one of the two
        "CopySourceIfMatch": _condition_etag(client, bucket, source),
        "IfNoneMatch": "*",
        "MetadataDirective": "COPY",
        "TaggingDirective": "COPY",
        "ChecksumAlgorithm": "SHA256",
    }
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        try:
            response = once.copy_object(**args)
            break
        except ClientError as err:
            if error_code(err) in (*PRECONDITION_FAILED, *KEY_MISSING):
                _refused_copy(client, bucket, source, key, err)
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if status < 500 and error_code(err) not in _TRANSIENT:
                raise
            failure: Exception = err
        except BotoCoreError as err:  # the connection failed or the answer never came
            failure = err
        landed = head_or_none(client, bucket, key)
        if landed is not None:
            return landed  # our copy landed though its answer was lost
        if attempt == SNAPSHOT_ATTEMPTS:
            raise failure
        time.sleep(random.uniform(0.2, 0.6) * attempt)
    result = _copy_result(response)  # empty for an answer without a body: then one HEAD
    checksum = result.get("ChecksumSHA256")
    if checksum:
        took_source = bool(source.sha256) and checksum == _base64_sha256(source.sha256 or "")
    else:
        took_source = same_etag(result.get("ETag"), source.etag)
    if not took_source:
        return head(client, bucket, key)  # LATEST changed before the copy: what it took
    return ObjectInfo(
        key=key,
        etag=result.get("ETag") or source.etag,
        size=source.size,
        last_modified=result.get("LastModified") or response_time(response),
        metadata=source.metadata,
        content_type=source.content_type,
        tags=source.tags,
    )


def _refused_copy(
    client: S3Client, bucket: str, source: ObjectInfo, key: str, err: ClientError
) -> None:
    """Raise what a refused conditional copy means: the key is taken, or the source changed.
    (One 412 answers both conditions: the key tells which failed.)"""
    existing = head_or_none(client, bucket, key)
    if existing is not None:
        raise KeyExists(f"s3 key {key!r} already exists", existing) from err
    raise SourceChanged(f"s3 key {source.key!r} changed during the copy") from err


def _copy_object(
    client: S3Client,
    bucket: str,
    source: ObjectInfo,
    key: str,
    metadata: Mapping[str, str],
    if_none_match: bool,
) -> ObjectInfo:
    """One CopyObject; its response's SHA-256 proves the copy holds the bytes we expect."""
    args: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "CopySource": {"Bucket": bucket, "Key": source.key},
        "CopySourceIfMatch": _condition_etag(client, bucket, source),
        "MetadataDirective": "REPLACE",  # to add ours; the source's come along in ``metadata``
        "Metadata": dict(metadata),
        "TaggingDirective": "COPY",
        "ChecksumAlgorithm": "SHA256",
    }
    if source.content_type:
        args["ContentType"] = source.content_type
    if if_none_match:
        args["IfNoneMatch"] = "*"
    try:
        response = client.copy_object(**args)
    except ClientError as err:
        if error_code(err) not in (*PRECONDITION_FAILED, *KEY_MISSING):
            raise
        # a lost answer's retry may meet our own copy, which the caller recognises by its
        # metadata
        if not if_none_match:
            raise SourceChanged(f"s3 key {source.key!r} changed during the copy") from err
        _refused_copy(client, bucket, source, key, err)
    result = _copy_result(response)
    if not result.get("ETag"):  # S3 answers a copy that failed midway with 200 and no result
        raise missing(client, "CopyObject", bucket, key, "a CopyObjectResult")
    copied = result.get("ChecksumSHA256")
    if copied and source.sha256 and copied != _base64_sha256(source.sha256):
        # only where the endpoint ignores CopySourceIfMatch: the object is ours and wrong
        client.delete_object(Bucket=bucket, Key=key)
        raise SourceChanged(f"s3 key {source.key!r} changed during the copy")
    return ObjectInfo(
        key=key,
        etag=result["ETag"],
        size=source.size,
        last_modified=result.get("LastModified") or response_time(response),
        metadata=metadata,
        content_type=source.content_type,
        tags=source.tags,
    )


def _base64_sha256(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _copy_parts(
    client: S3Client,
    bucket: str,
    source: ObjectInfo,
    key: str,
    metadata: Mapping[str, str],
    if_none_match: bool,
    config: TransferConfig,
) -> ObjectInfo:
    """Copy an object over 5 GiB in parts, in the source's own part layout where it can."""
    source = with_part_size(client, bucket, source)
    condition = _condition_etag(client, bucket, source)
    tags = source.tags if source.tags is not None else source_tags(client, bucket, source.key)
    write_args = object_args(metadata, source.content_type, tags)
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
                CopySourceIfMatch=condition,
            )
        except ClientError as err:
            if error_code(err) in PRECONDITION_FAILED:
                raise SourceChanged(f"s3 key {source.key!r} changed during the copy") from err
            raise
        etag = (response.get("CopyPartResult") or {}).get("ETag")
        if not etag:  # the completion lists every part by its ETag
            raise missing(client, f"UploadPartCopy {number}", bucket, key, "an ETag")
        return str(etag)

    def verify(etags: list[str]) -> None:
        if not _same_bytes(client, bucket, source, etags):
            raise SourceChanged(f"s3 key {source.key!r} changed during the copy")

    ranges = part_ranges(source.size, part_size)
    result = multipart_write(
        client, bucket, key, write_args, ranges, send, if_none_match, config, verify
    )
    return ObjectInfo(
        key=key,
        etag=result.get("ETag") or "",
        size=source.size,
        last_modified=response_time(result),
        metadata=metadata,
        content_type=source.content_type,
        tags=dict(tags or {}),
        part_size=part_size,
    )


def _same_bytes(client: S3Client, bucket: str, source: ObjectInfo, etags: list[str]) -> bool:
    """Do the copied parts carry the source's bytes?

    Compare the parts' ETags with the source's. Where ETags are not MD5s (SSE-KMS) they never
    match; then the source must still have the ETag every part copy was conditioned on.
    """
    if source.parts_count == 1 and len(etags) == 1 and same_etag(etags[0], source.etag):
        return True
    if len(etags) == source.parts_count > 1 and same_etag(multipart_etag(etags), source.etag):
        return True
    try:
        return same_etag(head(client, bucket, source.key).etag, source.etag)
    except ClientError:
        return False
