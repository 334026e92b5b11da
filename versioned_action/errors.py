"""One exception tree for every failure the library reports, and the AWS error translation."""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Sequence

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

# Where aws.py keeps a refused S3 request's Bucket/Key/CopySource in the error response.
REQUEST_PARAMS = "VersionedRequestParams"
CREDENTIALS_HINT = (
    "Give this step AWS credentials: in a workflow, run aws-actions/configure-aws-credentials "
    "before it (role-to-assume, with permissions: id-token: write); elsewhere set AWS_PROFILE "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


# Placeholders that name an input in a message or a hint, written by input_hint / run_hint and
# rendered by each front end in its own syntax (a :class:`Syntax`).
_PLACEHOLDER = re.compile(r"\{(input|run):([^{}\s][^{}]*)\}")


def input_hint(name: str, value: str | None = None) -> str:
    """A placeholder for input ``name`` (with ``value``): ``version: 3`` in a workflow,
    ``--version 3`` on the command line."""
    return "{input:" + _pair(name, value) + "}"


def run_hint(operation: str, **inputs: str) -> str:
    """A placeholder for a run of ``operation`` with ``inputs`` (``from_alias=`` for
    ``from-alias``): ``operation: promote, alias: prod`` or ``versioned-action promote ...``."""
    pairs = [_pair(key.replace("_", "-"), str(value)) for key, value in inputs.items()]
    return "{run:" + " ".join([urllib.parse.quote(operation, safe=""), *pairs]) + "}"


def _pair(name: str, value: str | None) -> str:
    if value is None:
        return name
    return f"{name}={urllib.parse.quote(value, safe='')}"


def _unpair(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition("=")
    return name, urllib.parse.unquote(value) if sep else None


class Syntax:
    """How a front end names inputs in messages; this one is a workflow's (``version: 3``),
    which ``str()`` of an error uses too. The CLI's subclass says ``--version 3``."""

    def field(self, name: str) -> str | None:
        """The name an InvalidInput about ``name`` starts with; None: ``invalid NAME: ...``."""
        return None

    def input(self, name: str, value: str | None) -> str:
        return name if value is None else f"{name}: {value}"

    def run(self, operation: str, inputs: Sequence[tuple[str, str]]) -> str:
        return ", ".join([f"operation: {operation}", *(self.input(k, v) for k, v in inputs)])

    def render(self, text: str) -> str:
        """``text`` with its placeholders in this syntax."""
        return _PLACEHOLDER.sub(self._substitute, text)

    def _substitute(self, match: re.Match) -> str:
        kind, body = match.groups()
        if kind == "input":
            return self.input(*_unpair(body))
        operation, *pairs = body.split()
        found = [_unpair(pair) for pair in pairs]
        return self.run(urllib.parse.unquote(operation), [(k, v or "") for k, v in found])


WORKFLOW = Syntax()


class VersionedError(Exception):
    """Base of every error this project raises; ``hint`` tells the reader what to do.

    Message and hint may name inputs by placeholders (:func:`input_hint`, :func:`run_hint`);
    :meth:`render` says them in a front end's :class:`Syntax`, ``str()`` in a workflow's.
    """

    template = ""  # the hint, with placeholders

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("hint"), str):  # ``hint = "..."`` in a class body
            cls.template = cls.__dict__["hint"]
            del cls.hint

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.template = hint

    @property
    def hint(self) -> str:
        return WORKFLOW.render(self.template)

    def render(self, syntax: Syntax = WORKFLOW) -> str:
        message = syntax.render(self._message(syntax))
        return f"{message}. {syntax.render(self.template)}" if self.template else message

    def _message(self, syntax: Syntax) -> str:
        return super().__str__()

    def __str__(self) -> str:
        return self.render()


class InvalidInput(VersionedError, ValueError):
    """A caller-supplied value is malformed; ``field`` names it."""

    label = "invalid {field}: "
    names_input = True  # a front end names ``field`` as its input (InvalidEnvironment: no)

    def __init__(self, field: str, message: str, *, hint: str | None = None):
        super().__init__(self.label.format(field=field) + message, hint=hint)
        self.field = field
        self.detail = message

    def _message(self, syntax: Syntax) -> str:
        name = syntax.field(self.field) if self.names_input else None
        return f"{name}: {self.detail}" if name else super()._message(syntax)

    def named(self, name: str, syntax: Syntax = WORKFLOW) -> str:
        """The error under the name its caller knows the field by (``input limit``,
        ``--limit``), said once."""
        hint = f". {syntax.render(self.template)}" if self.template else ""
        return f"{name}: {syntax.render(self.detail)}{hint}"


class InvalidEnvironment(InvalidInput):
    """An environment variable this tool reads is malformed; ``field`` names the variable."""

    label = "invalid environment variable {field}: "
    names_input = False


class ResourceMissing(VersionedError):
    """The bucket or the table does not exist."""


class BucketNotFound(ResourceMissing):
    template = f"Create it, or let this tool create it ({input_hint('create-resources', 'true')})"

    def __init__(self, bucket: str):
        super().__init__(f"S3 bucket {bucket!r} does not exist")
        self.bucket = bucket


class TableNotFound(ResourceMissing):
    template = BucketNotFound.template

    def __init__(self, table: str):
        super().__init__(f"DynamoDB table {table!r} does not exist")
        self.table = table


class AccessDenied(VersionedError):
    """AWS refused a request; ``needs`` lists the (IAM actions, resource ARN) it requires."""

    template = (
        "Check the credentials in use and that their IAM policy allows this action on the "
        "resource (see the README's minimal IAM policy)"
    )

    def __init__(
        self,
        resource: str,
        detail: str = "",
        *,
        needs: Sequence[tuple[Sequence[str], str]] = (),
        hint: str | None = None,
    ):
        if needs:
            wanted = " and ".join(f"{', '.join(actions)} on {arn}" for actions, arn in needs)
            message = f"access denied: {wanted}"
        else:
            message = f"access denied to {resource}"
        super().__init__(message + (f" ({detail})" if detail else ""), hint=hint)
        self.resource = resource
        self.needs = tuple((tuple(actions), arn) for actions, arn in needs)


class EndpointUnreachable(VersionedError):
    template = (
        f"Check {input_hint('endpoint-url')} (or AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, "
        "AWS_ENDPOINT_URL_DYNAMODB) and the network; VERSIONED_CONNECT_TIMEOUT, "
        "VERSIONED_READ_TIMEOUT (seconds) and VERSIONED_MAX_ATTEMPTS set how long each "
        "request waits"
    )


class NotFound(VersionedError, LookupError):
    """Base of the lookups that found nothing."""


class ArtifactNotFound(NotFound):
    def __init__(self, name: str, where: str):
        hint = f"Put it first ({run_hint('put', name=name)})"
        super().__init__(f"artifact {name!r} not found in {where}", hint=hint)
        self.name = name


class VersionNotFound(NotFound):
    def __init__(self, name: str, version: str):
        hint = f"List the versions to see which exist ({run_hint('list', name=name)})"
        super().__init__(f"version {version} of artifact {name!r} not found", hint=hint)
        self.name = name
        self.version = version


class AliasNotFound(NotFound):
    def __init__(self, name: str, alias: str, why: str = "", *, hint: str | None = None):
        if hint is None:
            hint = f"Create it first ({run_hint('promote', name=name, alias=alias)})"
        super().__init__(f"alias {alias!r} of artifact {name!r} not found{why}", hint=hint)
        self.name = name
        self.alias = alias


class HistoryNotFound(NotFound):
    template = f"Roll back to an explicit version instead ({input_hint('version', 'N')})"

    def __init__(self, name: str, alias: str, why: str = "has no recorded previous configuration"):
        super().__init__(f"alias {alias!r} of artifact {name!r} {why}")
        self.name = name
        self.alias = alias


class Conflict(VersionedError):
    """Someone else changed the resource between our read and our write."""

    template = "Re-read the current state and retry"


class IntegrityError(VersionedError):
    """Downloaded bytes do not match the recorded sha256."""

    template = "The stored object was altered outside this tool; re-publish it"


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


def _copy_source(source) -> str:
    if isinstance(source, dict):
        return f"{source.get('Bucket')}/{source.get('Key')}"
    return urllib.parse.unquote(str(source).lstrip("/").partition("?")[0])


def _needs(err: ClientError, bucket, table, region, prefix) -> list[tuple[tuple, str, str]]:
    """(IAM actions, resource ARN, ARN to allow) for a refused request; [] when unknown."""
    operation = err.operation_name
    if operation in _DYNAMODB:
        arn = f"arn:{_partition(region)}:dynamodb:{region or '*'}:*:table/{table or '*'}"
        return [(_DYNAMODB[operation], arn, arn)]
    params = err.response.get(REQUEST_PARAMS) or {}
    region = params.get("Region") or region
    base = f"arn:{_partition(region)}:s3:::{params.get('Bucket') or bucket}"
    if operation in _S3_BUCKET:
        return [((_S3_BUCKET[operation],), base, base)]
    if operation not in _S3_OBJECT:
        return []
    key = params.get("Key") or "*"
    grant = f"{base}/{prefix}/*" if prefix and key.startswith(prefix + "/") else f"{base}/{key}"
    needs = [((_S3_OBJECT[operation],), f"{base}/{key}", grant)]
    if operation in ("CopyObject", "UploadPartCopy") and params.get("CopySource"):
        source = f"arn:{_partition(region)}:s3:::{_copy_source(params['CopySource'])}"
        needs.append((("s3:GetObject",), source, source))
    return needs


def _access_denied(err: ClientError, code: str, target: str, **context) -> AccessDenied:
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
    err: Exception,
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


def aws_call(method):
    """Translate AWS failures inside a public repository method into this project's errors."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except VersionedError:
            raise
        except self.aws_errors as err:
            raise translate(err, **self.error_context()) from err

    return wrapper
