"""AWS failures, by code: what each means to a user, the IAM actions each request needs, and
:func:`translate`, which turns a botocore or PynamoDB failure into :mod:`.errors`' tree."""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    IncompleteReadError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .errors import (
    AccessDenied,
    BucketNotFound,
    Conflict,
    EndpointUnreachable,
    InvalidInput,
    TableNotFound,
    VersionedError,
)

# Where aws.py keeps a refused S3 request's Bucket/Key/CopySource in the error response.
REQUEST_PARAMS = "VersionedRequestParams"
CREDENTIALS_HINT = (
    "Give this step AWS credentials: in a workflow, run aws-actions/configure-aws-credentials "
    "before it (role-to-assume, with permissions: id-token: write); elsewhere set AWS_PROFILE "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)

# S3 and DynamoDB error codes, grouped by what they mean to a user.
_DENIED = {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
# S3 codes of a failed conditional request, and of a missing key or bucket (HEAD gives "404").
PRECONDITION_FAILED = ("PreconditionFailed", "412", "ConditionalRequestConflict")
KEY_MISSING = ("404", "NoSuchKey", "NotFound")
BUCKET_MISSING = ("404", "NoSuchBucket", "NotFound")
_CONFLICT = {
    *PRECONDITION_FAILED,
    "ConditionalCheckFailedException",
    "TransactionCanceledException",
}
# botocore's failures of a network that does not deliver, most specific first.
_UNREACHABLE = (
    (ConnectTimeoutError, "did not accept a connection within the connect timeout"),
    (ReadTimeoutError, "did not answer within the read timeout"),
    (ConnectionClosedError, "closed the connection before answering"),
    ((ResponseStreamingError, IncompleteReadError), "broke off a response"),
    (BotoConnectionError, "could not be reached"),  # EndpointConnectionError, SSLError, proxy
)

# The IAM actions each request needs. S3: on the object, or (bucket operations) on the bucket;
# a copy also needs s3:GetObject on its source. DynamoDB: on the table; a transaction needs the
# actions of what it contains (there is no dynamodb:TransactWriteItems action).
_S3_OBJECT = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging",
}
_S3_BUCKET = {
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "CreateBucket": "s3:CreateBucket",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
_DYNAMODB_SIMPLE = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchWriteItem",
    "BatchGetItem",
    "DescribeTable",
    "CreateTable",
)
_DYNAMODB = {
    **{operation: (f"dynamodb:{operation}",) for operation in _DYNAMODB_SIMPLE},
    "TransactWriteItems": (
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    ),
    "TransactGetItems": ("dynamodb:GetItem",),
}


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _unwrap(err: BaseException) -> BaseException:
    """The botocore error inside PynamoDB's wrappers (their ``cause``), or ``err`` itself."""
    for _ in range(5):
        cause = getattr(err, "cause", None)
        if not isinstance(cause, BaseException):
            break
        err = cause
    return err


def _partition(region: str | None) -> str:
    region = region or ""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _copy_source(source: object) -> str:
    if isinstance(source, dict):
        return f"{source.get('Bucket')}/{source.get('Key')}"
    return urllib.parse.unquote(str(source).lstrip("/").partition("?")[0])


def _needs(
    err: ClientError,
    bucket: str | None,
    table: str | None,
    region: str | None,
    prefix: str | None,
) -> list[tuple[tuple[str, ...], str, str]]:
    """(IAM actions, resource ARN, ARN to allow) for a refused request; [] when unknown."""
    operation = err.operation_name
    if operation in _DYNAMODB:
        arn = f"arn:{_partition(region)}:dynamodb:{region or '*'}:*:table/{table or '*'}"
        return [(_DYNAMODB[operation], arn, arn)]
    stored = err.response.get(REQUEST_PARAMS)  # not a key botocore declares: an object
    params: dict[str, Any] = stored if isinstance(stored, dict) else {}
    region = params.get("Region") or region
    base = f"arn:{_partition(region)}:s3:::{params.get('Bucket') or bucket}"
    if operation in _S3_BUCKET:
        return [((_S3_BUCKET[operation],), base, base)]
    if operation not in _S3_OBJECT:
        return []
    key = params.get("Key") or "*"
    grant = f"{base}/{prefix}/*" if prefix and key.startswith(prefix + "/") else f"{base}/{key}"
    needs: list[tuple[tuple[str, ...], str, str]] = [
        ((_S3_OBJECT[operation],), f"{base}/{key}", grant)
    ]
    if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
        source = f"arn:{_partition(region)}:s3:::{_copy_source(params['CopySource'])}"
        needs.append((("s3:GetObject",), source, source))
    return needs


def _access_denied(err: ClientError, code: str, target: str, **context: str | None) -> AccessDenied:
    needs = _needs(err, **context)
    if not needs:
        return AccessDenied(target, code)
    statements = [
        json.dumps({"Effect": "Allow", "Action": list(actions), "Resource": grant})
        for actions, _, grant in needs
    ]
    hint = (
        "Allow it in the IAM policy of the credentials in use, e.g. add "
        + ", ".join(statements)
        + " (see the README's minimal IAM policy)"
    )
    if err.operation_name in ("HeadObject", "GetObject"):
        hint += (
            "; S3 also answers 403 for a missing key when s3:ListBucket on "
            f"{needs[0][1].partition('/')[0]} is not allowed"
        )
    return AccessDenied(needs[0][1], code, needs=[(a, arn) for a, arn, _ in needs], hint=hint)


def _unreachable(err: BaseException, what: str) -> EndpointUnreachable:
    url = getattr(err, "kwargs", {}).get("endpoint_url") or ""
    parts = urllib.parse.urlsplit(url)
    endpoint = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the endpoint"
    return EndpointUnreachable(f"{endpoint} {what} ({type(err).__name__})")


def translate(
    err: BaseException,
    *,
    bucket: str | None = None,
    table: str | None = None,
    resource: str = "",
    region: str | None = None,
    prefix: str | None = None,
) -> VersionedError:
    """Map a botocore / PynamoDB failure to this project's error tree (by code, never by text).

    ``region`` and ``prefix`` are optional; with them an AccessDenied names exact resources.
    """
    if isinstance(err, VersionedError):
        return err
    cause = _unwrap(err)
    dynamodb = cause is not err or getattr(cause, "operation_name", "") in _DYNAMODB
    target = resource or (
        f"DynamoDB table {table!r}" if dynamodb and table else f"S3 bucket {bucket!r}"
    )
    if isinstance(cause, ClientError):
        code = error_code(cause)
        if code == "NoSuchBucket" and bucket:
            return BucketNotFound(bucket)
        if code == "ResourceNotFoundException" and table:
            return TableNotFound(table)
        if code in _BAD_CREDENTIALS:
            detail = f"{code}: the credentials are invalid or expired"
            return AccessDenied(target, detail, hint=CREDENTIALS_HINT)
        if code in _DENIED:
            context = dict(bucket=bucket, table=table, region=region, prefix=prefix)
            return _access_denied(cause, code, target, **context)
        if code in _CONFLICT:
            return Conflict(f"{target} was changed concurrently ({code})")
        return VersionedError(f"AWS request on {target} failed: {code}: {err}")
    if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
        found = "no AWS" if isinstance(cause, NoCredentialsError) else "incomplete AWS"
        return AccessDenied(target, f"{found} credentials found", hint=CREDENTIALS_HINT)
    if isinstance(cause, NoRegionError):
        return InvalidInput("aws-region", "no region configured; set it, or AWS_REGION")
    for kind, what in _UNREACHABLE:
        if isinstance(cause, kind):
            return _unreachable(cause, what)
    return VersionedError(f"AWS request on {target} failed: {type(cause).__name__}: {err}")


class _Translating(Protocol):
    """What :func:`aws_call` needs of the object whose method it wraps."""

    _aws_errors: tuple[type[BaseException], ...]

    def _error_context(self) -> dict[str, Any]: ...


_Self = TypeVar("_Self", bound=_Translating)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def aws_call(
    method: Callable[Concatenate[_Self, _P], _R],
) -> Callable[Concatenate[_Self, _P], _R]:
    """Translate AWS failures inside a public repository method into this project's errors."""

    @functools.wraps(method)
    def wrapper(self: _Self, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except VersionedError:
            raise
        except self._aws_errors as err:
            raise translate(err, **self._error_context()) from err

    return wrapper
