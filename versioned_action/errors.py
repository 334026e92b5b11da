"""One exception tree for every failure the library reports, and the AWS error translation."""

from __future__ import annotations

import functools

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)


class VersionedError(Exception):
    """Base of every error this project raises; ``hint`` tells the reader what to do."""

    hint = ""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}. {self.hint}" if self.hint else message


class InvalidInput(VersionedError):
    """A caller-supplied value is malformed; ``field`` names it."""

    def __init__(self, field: str, message: str, *, hint: str | None = None):
        super().__init__(f"invalid {field}: {message}", hint=hint)
        self.field = field


class ResourceMissing(VersionedError):
    """The bucket or the table does not exist."""


class BucketNotFound(ResourceMissing):
    hint = "Create it, or let this tool create it (create-resources: true / --create-resources)"

    def __init__(self, bucket: str):
        super().__init__(f"S3 bucket {bucket!r} does not exist")
        self.bucket = bucket


class TableNotFound(ResourceMissing):
    hint = "Create it, or let this tool create it (create-resources: true / --create-resources)"

    def __init__(self, table: str):
        super().__init__(f"DynamoDB table {table!r} does not exist")
        self.table = table


class AccessDenied(VersionedError):
    hint = (
        "Check the credentials in use and that their IAM policy allows this action on the "
        "resource (see the README's minimal IAM policy)"
    )

    def __init__(self, resource: str, detail: str = ""):
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"access denied to {resource}{suffix}")
        self.resource = resource


class EndpointUnreachable(VersionedError):
    hint = "Check endpoint-url / AWS_ENDPOINT_URL and the network"


class NotFound(VersionedError):
    """Base of the lookups that found nothing."""


class ArtifactNotFound(NotFound):
    hint = "Put it first (operation: put)"

    def __init__(self, name: str, where: str):
        super().__init__(f"artifact {name!r} not found in {where}")
        self.name = name


class VersionNotFound(NotFound):
    hint = "List the versions to see which exist (operation: list)"

    def __init__(self, name: str, version: str):
        super().__init__(f"version {version} of artifact {name!r} not found")
        self.name = name
        self.version = version


class AliasNotFound(NotFound):
    hint = "Create it with operation: promote"

    def __init__(self, name: str, alias: str):
        super().__init__(f"alias {alias!r} of artifact {name!r} not found")
        self.name = name
        self.alias = alias


class HistoryNotFound(NotFound):
    hint = "Roll back to an explicit version instead (version: N)"

    def __init__(self, name: str, alias: str, why: str = "has no recorded previous configuration"):
        super().__init__(f"alias {alias!r} of artifact {name!r} {why}")
        self.name = name
        self.alias = alias


class Conflict(VersionedError):
    """Someone else changed the resource between our read and our write."""

    hint = "Re-read the current state and retry"


class IntegrityError(VersionedError):
    """Downloaded bytes do not match the recorded sha256."""

    hint = "The stored object was altered outside this tool; re-publish it"


# S3 and DynamoDB error codes, grouped by what they mean to a user.
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "403",
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


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def translate(
    err: Exception, *, bucket: str | None = None, table: str | None = None, resource: str = ""
) -> VersionedError:
    """Map a botocore / PynamoDB failure to this project's error tree (by code, never by text)."""
    if isinstance(err, VersionedError):
        return err
    code, target = "", resource
    if isinstance(err, ClientError):  # our own clients talk to S3 only
        code = error_code(err)
        target = target or f"S3 bucket {bucket!r}"
    elif getattr(err, "cause_response_code", None):  # PynamoDB wraps DynamoDB's ClientError
        code = str(err.cause_response_code)
        target = target or f"DynamoDB table {table!r}"
    target = target or (f"DynamoDB table {table!r}" if table else f"S3 bucket {bucket!r}")
    if code == "NoSuchBucket" and bucket:
        return BucketNotFound(bucket)
    if code == "ResourceNotFoundException" and table:
        return TableNotFound(table)
    if code in _DENIED:
        return AccessDenied(target, code)
    if code in _CONFLICT:
        return Conflict(f"{target} was changed concurrently ({code})")
    if isinstance(err, NoCredentialsError):
        return AccessDenied(
            target,
            "no AWS credentials found",
        )
    if isinstance(err, NoRegionError):
        return InvalidInput("aws-region", "no region configured; set aws-region or AWS_REGION")
    if isinstance(err, EndpointConnectionError):
        return EndpointUnreachable(f"cannot reach {err.kwargs.get('endpoint_url', 'endpoint')}")
    kind = code or type(err).__name__
    return VersionedError(f"AWS request on {target} failed: {kind}: {err}")


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
