"""AWS failures, by code: what each means to a user, the IAM actions each request needs, and
:func:`translate`, which turns a botocore or PynamoDB failure into :mod:`.errors`' tree."""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Callable, Mapping
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
from botocore.parsers import ResponseParserError

from .errors import (
    AccessDenied,
    BucketNotFound,
    Conflict,
    EndpointUnreachable,
    InvalidInput,
    MalformedResponse,
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


def endpoint_name(service: str, url: str | None) -> str:
    """The endpoint as messages name it: ``the S3 endpoint http://host:9000``, ``Amazon S3``
    (``service`` is ``s3`` or ``dynamodb``).

    >>> endpoint_name("dynamodb", None)
    'Amazon DynamoDB'
    """
    label = "S3" if service == "s3" else "DynamoDB"
    return f"the {label} endpoint {url.rstrip('/')}" if url else f"Amazon {label}"


def one_line(text: str, limit: int = 300) -> str:
    """``text`` without runs of blanks (an HTML page, say), cut at ``limit`` characters; line
    breaks stay for the front ends to show escaped."""
    text = " ".join(part for part in text.split(" ") if part).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(err: ClientError) -> int | None:
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def _object(err: ClientError) -> str:
    """`` for s3://bucket/key`` when the refused request named a key, else empty."""
    stored = err.response.get(REQUEST_PARAMS)
    params: dict[str, Any] = stored if isinstance(stored, dict) else {}
    if params.get("Bucket") and params.get("Key"):
        return f" for s3://{params['Bucket']}/{params['Key']}"
    return ""


def _answered(err: ClientError, code: str, target: str, endpoint: str) -> VersionedError:
    """An error answer this tool has no meaning for, named by the endpoint, the request and
    the resource, with what to do. A 4xx (or a status neither API answers) that carries no
    error code of the API (an HTML page of something in between, say) is a MalformedResponse."""
    status = _status(err) or (int(code) if code.isdigit() else None)
    coded = bool(code) and not code.isdigit() and code != "Unknown"
    message = one_line(str(err.response.get("Error", {}).get("Message") or ""))
    if coded:
        shown = f"{status} {code}" if status else code
    else:
        shown = f"{status} and no error code" if status else "an error without a code"
    text = f"{endpoint} answered {err.operation_name} on {target}{_object(err)} with {shown}"
    if message and message not in (code, str(status)):
        text += f": {message}"
    if status == 501 or code == "NotImplemented":
        hint = (
            f"The endpoint does not implement {err.operation_name}, which this tool needs: use "
            "an endpoint that implements the S3 (and DynamoDB) API as AWS does"
        )
    elif status is not None and status >= 500:
        hint = "The endpoint failed on its side: retry later, and check its health and logs"
    elif not coded or (status is not None and not 400 <= status < 500):
        return MalformedResponse(text)
    else:
        hint = f"Look {code} up in the endpoint's documentation or logs: this tool knows no cure"
    return VersionedError(text, hint=hint)


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
    s3_endpoint: str | None = None,
    dynamodb_endpoint: str | None = None,
) -> VersionedError:
    """Map a botocore / PynamoDB failure to this project's error tree (by code, never by text).

    ``region`` and ``prefix`` are optional; with them an AccessDenied names exact resources.
    The endpoints (None: AWS) name who answered an error this tool has no meaning for.
    """
    if isinstance(err, VersionedError):
        return err
    cause = _unwrap(err)
    dynamodb = cause is not err or getattr(cause, "operation_name", "") in _DYNAMODB
    target = resource or (
        f"DynamoDB table {table!r}" if dynamodb and table else f"S3 bucket {bucket!r}"
    )
    endpoint = (
        endpoint_name("dynamodb", dynamodb_endpoint)
        if dynamodb
        else endpoint_name("s3", s3_endpoint)
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
        return _answered(cause, code, target, endpoint)
    if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
        found = "no AWS" if isinstance(cause, NoCredentialsError) else "incomplete AWS"
        return AccessDenied(target, f"{found} credentials found", hint=CREDENTIALS_HINT)
    if isinstance(cause, NoRegionError):
        return InvalidInput("aws-region", "no region configured; set it, or AWS_REGION")
    for kind, what in _UNREACHABLE:
        if isinstance(cause, kind):
            return _unreachable(cause, what)
    if isinstance(cause, ResponseParserError):  # a body that is not the XML or JSON asked for
        detail = str(cause).split("\n", 1)[0].split(" Further retries", 1)[0].rstrip(":. ")
        return MalformedResponse(
            f"{endpoint} answered a request on {target} with a body that is not the API's "
            f"XML or JSON ({one_line(detail)})"
        )
    return VersionedError(
        f"AWS request on {target} failed: {type(cause).__name__}: {one_line(str(err))}",
        hint=f"Check {endpoint} and the network, then retry",
    )


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
        caught: tuple[type[BaseException], ...] = (*self._aws_errors, ResponseParserError)
        try:
            return method(self, *args, **kwargs)
        except VersionedError:
            raise
        except caught as err:
            raise translate(err, **self._error_context()) from err

    return wrapper


DEBUG_VARIABLE = "VERSIONED_DEBUG"


def debugging(environ: Mapping[str, str]) -> bool:
    """Whether a front end shows the traceback of an unexpected failure after its one line:
    ``VERSIONED_DEBUG=1``, or a workflow re-run with debug logging (``RUNNER_DEBUG=1``)."""
    return environ.get(DEBUG_VARIABLE, "").lower() in ("1", "true") or (
        environ.get("RUNNER_DEBUG") == "1"
    )


def unexpected(err: BaseException, operation: str, settings: Mapping[str, str]) -> VersionedError:
    """A failure no layer below turned into a VersionedError (a bug, or an answer nothing
    could read), as one error that names where the operation worked and what to do.
    ``settings`` are the step's inputs (``bucket``, ``table``, ``endpoint-url``, ...)."""
    where = f"S3 bucket {settings.get('bucket') or '?'!r}"
    if settings.get("backend") == "s3-dynamodb":
        where += f" and DynamoDB table {settings.get('table') or 'versioned-artifacts'!r}"
    if settings.get("endpoint-url"):
        where += f" at {settings['endpoint-url']}"
    detail = one_line(str(err))
    return VersionedError(
        f"{operation or 'the operation'} on {where} stopped on an unexpected "
        f"{type(err).__name__}" + (f": {detail}" if detail else ""),
        hint=(
            f"This is a bug of versioned-action, or an answer of the endpoint it could not read: "
            f"run it again with {DEBUG_VARIABLE}=1 (a workflow: re-run with debug logging) to "
            "see the traceback, and report both"
        ),
    )
