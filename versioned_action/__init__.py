"""Versioned, immutable binary artifacts in S3 (optionally with DynamoDB), with aliases.

``open_repository("s3", bucket=...)`` or ``open_repository("s3-dynamodb", ...)`` returns a
:class:`~versioned_action.repository.Repository`; both backends share every method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AccessDenied,
    AliasNotFound,
    ArtifactNotFound,
    BucketNotFound,
    Conflict,
    EndpointUnreachable,
    HistoryNotFound,
    IntegrityError,
    InvalidEnvironment,
    InvalidInput,
    MalformedResponse,
    NotFound,
    ResourceMissing,
    TableNotFound,
    UnsupportedServer,
    VersionedError,
    VersionNotFound,
)
from .layout import LATEST
from .models import Alias, AliasTarget, Artifact, HistoryEntry, PurgeResult

if TYPE_CHECKING:
    from .repository import Repository

__version__ = "0.1.0"
BACKENDS = ("s3", "s3-dynamodb")
DEFAULT_PREFIX = "versioned-artifacts"
DEFAULT_TABLE = "versioned-artifacts"


def open_repository(
    backend: str = "s3",
    *,
    bucket: str,
    prefix: str = DEFAULT_PREFIX,
    suffix: str = "",
    table: str = DEFAULT_TABLE,
    region: str | None = None,
    endpoint_url: str | None = None,
    **options: Any,
) -> Repository:
    """Build the repository for ``backend`` (imports only what that backend needs).

    ``options`` go to the backend (e.g. ``transfer_config``).

    >>> repo = open_repository("s3", bucket="my-bucket", region="us-east-1")
    >>> repo.bootstrap()  # creates the bucket if it is missing
    >>> _, version = repo.put_and_publish("app", b"my build")
    >>> repo.get_artifact_content("app", version.version)
    b'my build'
    """
    common = dict(
        s3_bucket=bucket,
        s3_prefix=prefix,
        suffix=suffix,
        aws_region=region,
        endpoint_url=endpoint_url,
        **options,
    )
    if backend == "s3":
        from .backends.s3 import S3Repository

        return S3Repository(**common)
    if backend == "s3-dynamodb":
        from .backends.dynamodb import S3DynamoDBRepository

        return S3DynamoDBRepository(dynamodb_table_name=table, **common)
    raise InvalidInput("backend", f"{backend!r} is not one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "LATEST",
    "AccessDenied",
    "Alias",
    "AliasNotFound",
    "AliasTarget",
    "Artifact",
    "ArtifactNotFound",
    "BucketNotFound",
    "Conflict",
    "EndpointUnreachable",
    "HistoryEntry",
    "HistoryNotFound",
    "IntegrityError",
    "UnsupportedServer",
    "InvalidEnvironment",
    "InvalidInput",
    "MalformedResponse",
    "NotFound",
    "PurgeResult",
    "Repository",
    "ResourceMissing",
    "TableNotFound",
    "VersionNotFound",
    "VersionedError",
    "open_repository",
]


def __getattr__(name: str) -> Any:
    # Repository on first use: importing the package stays free of botocore.
    if name == "Repository":
        from .repository import Repository

        return Repository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
