"""Make moto honour the two CopyObject conditions that Amazon S3 enforces.

S3 refuses a CopyObject with 412 PreconditionFailed when ``x-amz-copy-source-if-match``
names another ETag than the source's, or when ``If-None-Match: *`` meets an existing
destination key. moto 5.2 ignores both headers (it enforces them on PutObject and
CompleteMultipartUpload only), so a test of racing publishers against plain moto would test
moto's gap, not the protocol. ``install()`` wraps moto's copy handler with S3's two rules;
everything else is moto's own code. The suite runs on moto as shipped; this is one more server
model (``VERSIONED_TEST_S3=strict``), never one the suite needs. A lock makes check and
copy one step, as on S3.
"""

from __future__ import annotations

import contextlib
import threading

from moto.s3 import responses
from moto.s3.exceptions import MissingKey, PreconditionFailed

_original = responses.S3Response.copy_object
_lock = threading.Lock()


def _source(response: responses.S3Response):
    source = response.headers.get("x-amz-copy-source")
    if isinstance(source, bytes):
        source = source.decode()
    path = responses.unquote(responses.urlparse(source).path).lstrip("/")
    bucket, key = path.split("/", 1)
    return response.backend.get_object(bucket, key)


def _copy_object(self: responses.S3Response):
    with _lock:
        return _checked_copy(self)


def _checked_copy(self: responses.S3Response):
    expected = self.headers.get("x-amz-copy-source-if-match")
    if expected is not None:
        source = _source(self)
        if source is None:
            raise MissingKey(key=self.headers.get("x-amz-copy-source"))
        if expected.strip('"') != source.etag.strip('"'):
            raise PreconditionFailed(failed_condition="x-amz-copy-source-If-Match")
    destination = self.backend.get_object(self.bucket_name, self.parse_key_name())
    if self.headers.get("If-None-Match") == "*" and destination is not None:
        raise PreconditionFailed(failed_condition="If-None-Match")
    return _original(self)


def install() -> None:
    """Enforce the conditions in this process's moto (the server threads and mock_aws)."""
    responses.S3Response.copy_object = _copy_object


@contextlib.contextmanager
def ignored():
    """moto as it is, for a test of what the library does where the conditions are ignored."""
    installed = responses.S3Response.copy_object
    responses.S3Response.copy_object = _original
    try:
        yield
    finally:
        responses.S3Response.copy_object = installed
