"""Upload local content to S3 with bounded memory and conditional writes; what S3 tells
about an object.

Uploads above a threshold go as parallel multipart parts streamed from the file, each with
its CRC32, so S3 checks every part and memory does not grow with the file or the part size.
A conditional write whose answer was lost is recognised as ours by what the key then holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws_failures import KEY_MISSING, PRECONDITION_FAILED, endpoint_name, error_code
from .content import LocalContent, MiB, PartBody, crc32_header
from .errors import Conflict, MalformedResponse
from .layout import META_SHA256, META_TOKEN, read_metadata, s3_uri, same_etag, same_metadata
from .progress import Progress

if TYPE_CHECKING:
    from .aws import S3Client
    from .server import Enforcement, Server

MAX_PARTS = 10_000


class SourceChanged(Conflict):
    """The object we were copying from changed under us."""


class KeyExists(Conflict):
    """A conditional create found the key already taken (``existing``: its HEAD, if read)."""

    def __init__(self, message: str, existing: ObjectInfo | None = None):
        super().__init__(message)
        self.existing = existing


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    """When an upload goes multipart, in parts of what size, sent by how many threads."""

    multipart_threshold: int = 16 * MiB
    part_size: int = 8 * MiB
    max_workers: int = 6

    def part_size_for(self, size: int) -> int:
        """The configured part size, grown in whole MiB so no upload needs over 10,000 parts."""
        needed = -(-size // MAX_PARTS)
        return max(self.part_size, -(-needed // MiB) * MiB)


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
        """The sha256 this tool recorded in the metadata, if any."""
        return self.metadata.get(META_SHA256)

    @property
    def user_metadata(self) -> dict[str, str]:
        """The metadata less this tool's bookkeeping (the sha256 and a publish's token)."""
        return {k: v for k, v in self.metadata.items() if k not in (META_SHA256, META_TOKEN)}

    @property
    def parts_count(self) -> int:
        """How many parts the object was uploaded in (its ETag's ``-N``; 1 for one piece)."""
        _, _, count = self.etag.strip('"').partition("-")
        return int(count) if count.isdigit() else 1


def response_time(response: dict[str, Any]) -> datetime:
    """Server time of a response (its Date header): S3's LastModified without another HEAD."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC).replace(microsecond=0)  # S3 keeps whole seconds too


def endpoint_of(client: S3Client) -> str:
    """The S3 endpoint ``client`` talks to, as messages name it."""
    return endpoint_name("s3", client.meta.endpoint_url)


def missing(
    client: S3Client, operation: str, bucket: str, key: str, what: str
) -> MalformedResponse:
    """The error of an answer to ``operation`` on ``key`` that lacks ``what``, which this tool
    cannot go on without."""
    return MalformedResponse(
        f"{endpoint_of(client)} answered {operation} for {s3_uri(bucket, key)} without {what}"
    )


def object_info(
    key: str,
    response: dict[str, Any],
    *,
    client: S3Client | None = None,
    bucket: str = "",
    operation: str = "HeadObject",
) -> ObjectInfo:
    """What a HEAD or GET response tells about the object at ``key`` (read leniently: a
    missing ETag or date is empty or now, missing metadata none, our metadata keys in either
    spelling). Its size is not guessed: an answer without a Content-Length is a
    MalformedResponse (naming the endpoint of ``client``, ``operation`` and ``bucket``)."""
    size = response.get("ContentLength")
    if not isinstance(size, int):
        endpoint = endpoint_of(client) if client is not None else "the S3 endpoint"
        raise MalformedResponse(
            f"{endpoint} answered {operation} for {s3_uri(bucket, key)} without the object's "
            "size (Content-Length)"
        )
    metadata = response.get("Metadata")
    return ObjectInfo(
        key=key,
        etag=response.get("ETag") or "",
        size=size,
        last_modified=response.get("LastModified") or response_time(response),
        metadata=read_metadata(metadata if isinstance(metadata, dict) else None),
        content_type=response.get("ContentType"),
    )


def head(client: S3Client, bucket: str, key: str) -> ObjectInfo:
    """HEAD ``key``; a missing key raises the ClientError."""
    return object_info(
        key, client.head_object(Bucket=bucket, Key=key), client=client, bucket=bucket
    )


def require_sha256(client: S3Client, bucket: str, info: ObjectInfo) -> str:
    """The sha256 ``info`` records; an object without one (another tool's, or an answer
    without its metadata) cannot be published: its version would record no sha256."""
    if info.sha256:
        return info.sha256
    raise MalformedResponse(
        f"{endpoint_of(client)} gave {s3_uri(bucket, info.key)} without its {META_SHA256} "
        "metadata, so the sha256 of what would be published is unknown",
        hint=(
            "Check that the endpoint returns object metadata (x-amz-meta-* headers), or put "
            "the artifact again with this tool, which records its sha256"
        ),
    )


def enforcement(server: Server, bucket: str, prefix: str) -> Enforcement:
    """What the S3 endpoint enforces (``server`` probes it once, with requests of its own on
    a scratch key under ``prefix``). A probe answer without a field the probe reads (a
    PutObject without its ETag) is a MalformedResponse, not a KeyError."""
    try:
        return server.enforcement()
    except (KeyError, TypeError, AttributeError) as err:
        raise MalformedResponse(
            f"{server.describe()} answered the requests that probe what it enforces (on a "
            f"scratch key under s3://{bucket}/{prefix}) without the field {err}"
        ) from err


def head_or_none(client: S3Client, bucket: str, key: str) -> ObjectInfo | None:
    """HEAD ``key``, or None if there is no such key."""
    try:
        return head(client, bucket, key)
    except ClientError as err:
        if error_code(err) in KEY_MISSING:
            return None
        raise


def _tagging(tags: Mapping[str, str] | None) -> dict[str, str]:
    return {"Tagging": urllib.parse.urlencode(dict(tags))} if tags else {}


def object_args(
    metadata: Mapping[str, str], content_type: str | None, tags: Mapping[str, str] | None
) -> dict[str, Any]:
    """The request arguments that give a new object its metadata, content type and tags."""
    args: dict[str, Any] = {"Metadata": dict(metadata), **_tagging(tags)}
    if content_type:
        args["ContentType"] = content_type
    return args


def _conditional(call: Callable[[], dict[str, Any]], key: str) -> dict[str, Any]:
    try:
        return call()
    except ClientError as err:
        if error_code(err) in PRECONDITION_FAILED:
            raise KeyExists(f"s3 key {key!r} already exists") from err
        raise


def part_ranges(size: int, part_size: int) -> list[tuple[int, int, int]]:
    """(part number, offset, length) of each part of ``size`` bytes."""
    return [
        (number, offset, min(part_size, size - offset))
        for number, offset in enumerate(range(0, size, part_size), start=1)
    ]


def multipart_write(
    client: S3Client,
    bucket: str,
    key: str,
    write_args: Mapping[str, Any],
    ranges: list[tuple[int, int, int]],
    send_part: Callable[[str, int, int, int], dict[str, Any] | str],
    if_none_match: bool,
    config: TransferConfig,
    verify: Callable[[list[str]], None] | None = None,
) -> dict[str, Any]:
    """Create a multipart upload, send parts in parallel, verify, complete; abort on failure."""
    created = client.create_multipart_upload(Bucket=bucket, Key=key, **write_args)
    upload_id = created.get("UploadId")
    if not upload_id:
        raise missing(client, "CreateMultipartUpload", bucket, key, "an UploadId")
    try:
        with ThreadPoolExecutor(max_workers=config.max_workers) as pool:
            sent = list(pool.map(lambda part: send_part(upload_id, *part), ranges))
        parts = [
            {"PartNumber": n, **(part if isinstance(part, dict) else {"ETag": part})}
            for n, part in enumerate(sent, start=1)
        ]
        etags = [part["ETag"] for part in parts]
        if verify is not None:
            verify(etags)
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        try:
            completed = client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **extra,
            )
            if not completed.get("ETag"):  # some stores (Ceph RGW) answer without it
                completed["ETag"] = multipart_etag(etags)
            return completed
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


def _completed(
    client: S3Client, bucket: str, key: str, etag: str, write_args: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The HEAD of ``key`` if it is the object our parts and metadata make, else None."""
    try:
        response = client.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if error_code(err) in KEY_MISSING:
            return None
        raise
    ours = same_etag(response.get("ETag"), etag) and same_metadata(
        response.get("Metadata") or {}, write_args["Metadata"]
    )
    return response if ours else None


def prepare_upload(content: LocalContent, config: TransferConfig) -> None:
    """Content that cannot be unchanged (no LATEST, or another size) is read once: its sha256
    and its parts' CRC32s in one pass."""
    if content.size > config.multipart_threshold:
        content.hash_for_upload(config.part_size_for(content.size))


def upload(
    client: S3Client,
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
    write_args = object_args(metadata, content_type, tags)
    progress = Progress("upload", s3_uri(bucket, key), content.size)
    if content.size <= config.multipart_threshold:
        extra = {"IfNoneMatch": "*"} if if_none_match else {}
        body = content.read(0, content.size)
        checksum = crc32_header(zlib.crc32(body))
        response = _conditional(
            lambda: client.put_object(
                Bucket=bucket, Key=key, Body=body, ChecksumCRC32=checksum, **write_args, **extra
            ),
            key,
        )
        progress.advance(content.size)
        part_size: int | None = None
    else:
        part_size = config.part_size_for(content.size)

        def send(upload_id: str, number: int, offset: int, length: int) -> dict[str, Any]:
            body = PartBody(content, offset, length)
            checksum = content.part_crc32(offset, length)  # S3 checks every part by it
            response = client.upload_part(
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                ContentLength=length,
                ChecksumCRC32=checksum,
            )
            progress.advance(length)
            if not response.get("ETag"):  # the completion lists every part by its ETag
                raise missing(client, f"UploadPart {number}", bucket, key, "an ETag")
            return {"ETag": response["ETag"], "ChecksumCRC32": checksum}

        ranges = part_ranges(content.size, part_size)
        response = multipart_write(
            client,
            bucket,
            key,
            {**write_args, "ChecksumAlgorithm": "CRC32"},
            ranges,
            send,
            if_none_match,
            config,
        )
    progress.finish()
    return ObjectInfo(
        key=key,
        etag=response.get("ETag") or "",  # unknown: a publish then reads the key (or refuses)
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
