"""What the S3 endpoint enforces: known for AWS, learned once per process elsewhere.

The write protocols ask :class:`Server` instead of assuming Amazon S3's semantics:

- ``conditional_put``: PutObject honours ``If-None-Match: *`` and ``If-Match``. Without it the
  ``s3`` backend can neither number versions nor move aliases safely, and says so.
- ``copy_conditions``: CopyObject honours ``If-None-Match: *`` and
  ``x-amz-copy-source-if-match``, so one copy both takes a version number and proves it copied
  the bytes it read. moto and Ceph RGW ignore both; publishing there claims the number with a
  write they do enforce and checks what the copy took.
- ``conditional_delete``: DeleteObject honours ``If-Match`` (RGW ignores it).
- ``quoted_if_match``: ``If-Match`` accepts the ETag quoted, as responses give it (RGW wants
  it bare).

Off AWS, the first write that needs one of these runs a probe on a scratch key of its own
(``{prefix}/.versioned-probe-{random}``, deleted at the end): seven requests, once per
process, endpoint and bucket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from . import layout
from .aws_failures import PRECONDITION_FAILED, error_code
from .errors import UnsupportedServer

if TYPE_CHECKING:
    from .aws import S3Client

# Answers of a server that does not know a condition at all (rather than ignoring it).
_UNSUPPORTED = ("NotImplemented", "InvalidArgument", "InvalidRequest", "501", "400")
_DENIED = ("AccessDenied", "403")
_BOGUS_ETAG = '"00000000000000000000000000000000"'
_AWS_HOSTS = (".amazonaws.com", ".amazonaws.com.cn")


@dataclasses.dataclass(frozen=True)
class Enforcement:
    """Which conditional requests an S3 endpoint enforces."""

    conditional_put: bool
    copy_conditions: bool
    conditional_delete: bool
    quoted_if_match: bool = True


AWS = Enforcement(conditional_put=True, copy_conditions=True, conditional_delete=True)
_learned: dict[tuple[str, str], Enforcement] = {}
_lock = threading.Lock()


def is_aws(endpoint: str | None) -> bool:
    """Is ``endpoint`` Amazon S3 itself (no endpoint configured, or an amazonaws.com host)?"""
    if endpoint is None:
        return True
    host = (urllib.parse.urlsplit(endpoint).hostname or "").lower()
    return host.endswith(_AWS_HOSTS)


class Server:
    """The S3 endpoint a repository writes to, as its write protocols need to know it."""

    def __init__(self, client: S3Client, bucket: str, prefix: str, endpoint: str | None):
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self.endpoint = endpoint
        self._known = AWS if is_aws(endpoint) else None

    def describe(self) -> str:
        return f"the S3 endpoint {self.endpoint}" if self.endpoint else "Amazon S3"

    def enforcement(self) -> Enforcement:
        """What the endpoint enforces; probed on first use off AWS."""
        if self._known is not None:
            return self._known
        where = (self.endpoint or "", self._bucket)
        with _lock:
            if where not in _learned:
                _learned[where] = self._probe()
            return _learned[where]

    def if_match(self, etag: str) -> str:
        """``etag`` in the form the endpoint's ``If-Match`` accepts."""
        bare = etag.strip('"')
        return f'"{bare}"' if self.enforcement().quoted_if_match else bare

    def require_conditional_put(self, what: str) -> None:
        """Refuse ``what`` (a write the ``s3`` backend can only make safe with conditional
        PutObject) on an endpoint that does not enforce it."""
        if not self.enforcement().conditional_put:
            raise UnsupportedServer(
                f"{self.describe()} does not enforce conditional writes (If-None-Match and "
                f"If-Match on PutObject), so backend 's3' cannot {what} safely there"
            )

    def _probe(self) -> Enforcement:
        """Ask the endpoint, on a scratch key, which conditions it enforces."""
        client, bucket = self._client, self._bucket
        key = layout.join_key(self._prefix, f".versioned-probe-{secrets.token_hex(8)}")
        body = b"versioned-action probe"
        try:
            etag = client.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]
            put = _refused(
                lambda: client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
            )
            quoted = True
            if put and _refused(
                lambda: client.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=etag)
            ):
                quoted = False
                bare = etag.strip('"')
                put = not _refused(
                    lambda: client.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=bare)
                )
            copy = _refused(lambda: _self_copy(client, bucket, key, IfNoneMatch="*")) and _refused(
                lambda: _self_copy(client, bucket, key, CopySourceIfMatch=_BOGUS_ETAG)
            )
            try:
                delete = _refused(
                    lambda: client.delete_object(Bucket=bucket, Key=key, IfMatch=_BOGUS_ETAG)
                )
            except ClientError as err:  # a role without s3:DeleteObject: take it as not enforced
                if error_code(err) not in _DENIED:
                    raise
                delete = False
        finally:
            with contextlib.suppress(ClientError):  # the probe's own failure is the one to report
                client.delete_object(Bucket=bucket, Key=key)
        return Enforcement(
            conditional_put=put,
            copy_conditions=put and copy,
            conditional_delete=delete,
            quoted_if_match=quoted,
        )


def _self_copy(client: S3Client, bucket: str, key: str, **condition: str) -> dict[str, Any]:
    return client.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="REPLACE",  # a copy onto itself must change something
        Metadata={"probe": secrets.token_hex(4)},
        **condition,
    )


def _refused(call: Callable[[], dict[str, Any]]) -> bool:
    """True if the conditional request was refused (412), False if it went through or the
    server does not know the condition."""
    try:
        call()
    except ClientError as err:
        code = error_code(err)
        if code in PRECONDITION_FAILED:
            return True
        if code in _UNSUPPORTED:
            return False
        raise
    return False
