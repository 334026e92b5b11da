"""Stream one S3 object into a file: resumed where a connection breaks, verified, then renamed.

The file is written beside ``dest`` under a temporary name, created as ``open(dest, "wb")``
would create it (0666 less the umask, not mkstemp's 0600: the container runs as root and the
next step, as the runner's user, must read the file). A body cut off midway is fetched on
from the byte where it stopped with ``Range`` and ``If-Match`` on the first response's ETag,
so every piece comes from the same object; the whole sha256 is checked at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from .aws_failures import KEY_MISSING, PRECONDITION_FAILED, error_code
from .content import CHUNK
from .errors import Conflict, IntegrityError
from .layout import s3_uri
from .progress import Progress
from .transfer import ObjectInfo, object_info

if TYPE_CHECKING:
    from botocore.response import StreamingBody

    from .aws import S3Client

MAX_RESUMES = 5
_AGAIN = (
    "Download it again: if the bytes differ again, the stored object was altered outside this "
    "tool (re-publish it), or something between this tool and the endpoint alters its answers"
)
# What a body broken off midway raises while it is read (botocore wraps urllib3's errors).
_BROKEN = (
    ResponseStreamingError,
    IncompleteReadError,
    ReadTimeoutError,
    ConnectionClosedError,
    ConnectionError,
)


def download(
    client: S3Client, bucket: str, key: str, dest: Path, *, etag: str | None = None
) -> tuple[ObjectInfo, str]:
    """Stream ``key`` into ``dest`` and verify its size and recorded sha256; return the
    object's info and the sha256 of the bytes written.

    With ``etag``, only that revision is read (S3 answers 412 otherwise). On any failure,
    including a sha256 mismatch, nothing is left at ``dest``.
    """
    extra = {"IfMatch": etag} if etag else {}
    response = client.get_object(Bucket=bucket, Key=key, **extra)
    info = object_info(key, response, client=client, bucket=bucket, operation="GetObject")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp, out = _create_beside(dest)
    progress = Progress("download", s3_uri(bucket, key), info.size)
    try:
        with out:
            sha256 = _receive(client, bucket, info, response["Body"], out, progress)
        if info.sha256 and sha256 != info.sha256:
            raise IntegrityError(
                f"s3://{bucket}/{key} downloaded as {info.size} bytes with sha256 {sha256}, but "
                f"its metadata records {info.sha256}",
                hint=_AGAIN,
            )
        os.replace(tmp, dest)
        progress.finish()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return info, sha256


def _create_beside(dest: Path) -> tuple[Path, BinaryIO]:
    """A new hidden file next to ``dest``, with the mode a plain ``open()`` gives."""
    while True:
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return tmp, os.fdopen(fd, "wb")


def _receive(
    client: S3Client,
    bucket: str,
    info: ObjectInfo,
    body: StreamingBody,
    out: BinaryIO,
    progress: Progress,
) -> str:
    """Copy ``body`` into ``out``, resuming up to MAX_RESUMES times; the hex sha256."""
    digest, written, resumes = hashlib.sha256(), 0, 0
    while True:
        try:
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
                progress.advance(len(chunk))
            break
        except _BROKEN:
            if written >= info.size:
                break
            if resumes == MAX_RESUMES:
                raise
            resumes += 1
            with contextlib.suppress(*_BROKEN):
                body.close()
            body, start = _resume(client, bucket, info, written)
            if start == 0:  # start over
                out.seek(0)
                out.truncate()
                digest, written = hashlib.sha256(), 0
                progress.restart()
    if written != info.size:
        raise IntegrityError(
            f"s3://{bucket}/{info.key} gave {written} bytes, but its size is {info.size}",
            hint=_AGAIN,
        )
    return digest.hexdigest()


def _resume(
    client: S3Client, bucket: str, info: ObjectInfo, offset: int
) -> tuple[StreamingBody, int]:
    """The rest of the object from ``offset`` (same ETag), and where that body starts."""
    try:
        response = client.get_object(
            Bucket=bucket, Key=info.key, Range=f"bytes={offset}-", IfMatch=info.etag
        )
    except ClientError as err:
        if error_code(err) in (*PRECONDITION_FAILED, *KEY_MISSING):
            raise Conflict(
                f"s3://{bucket}/{info.key} was replaced or deleted during the download"
            ) from err
        raise
    content_range = response.get("ContentRange")
    if not content_range:  # a whole 200 response: the server ignored the Range
        return response["Body"], 0
    if not content_range.startswith(f"bytes {offset}-"):
        raise IntegrityError(f"s3://{bucket}/{info.key} resumed at {content_range}, not {offset}")
    return response["Body"], offset
