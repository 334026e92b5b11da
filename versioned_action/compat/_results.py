"""The fields and methods both 1.x namespaces' ``Artifact`` and ``Alias`` share: content read
back through the repository that returned the result, S3Path views, the canary draw."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .. import models
from ..aws_failures import translate
from . import exc
from ._session import Bsm, core_repository, translated

if TYPE_CHECKING:
    from s3pathlib import S3Path  # untyped: Any

    from ..repository import Repository

_Time = TypeVar("_Time")  # of ``update_at``: an ISO 8601 str (s3_only) or a datetime


class _Origin(Protocol):
    """The compat repository a result came from."""

    def core(self, bsm: Bsm = None) -> Repository: ...


class Result:
    """Shared by 1.x's Artifact and Alias: reading content back through the repository that
    returned the result (``_origin``), with the ``bsm`` of the call."""

    _origin: _Origin | None = None  # no dataclass field: not in repr

    def _read(self, bsm: Bsm, name: str, version: str, uri: str) -> bytes:
        if self._origin is not None:
            return self._origin.core(bsm).get_artifact_content(name, version)
        return _read_uri(bsm, uri)  # a result built by hand (from_dict)


def _read_uri(bsm: Bsm, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = core_repository("s3", bsm, bucket=bucket).s3
    try:
        content: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as err:
        raise translate(err, bucket=bucket) from err
    return content


@dataclasses.dataclass
class ArtifactResult(Result, Generic[_Time]):
    """The fields and methods of both backends' ``Artifact``."""

    name: str
    version: str
    update_at: _Time
    s3uri: str
    sha256: str

    @property
    def s3path(self) -> S3Path:
        """The version's object as an ``s3pathlib.S3Path`` (s3pathlib imported on first use).

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_version(bsm, "app", 1).s3path.uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return models.s3path(self.s3uri)

    @translated
    def get_content(self, bsm: Bsm = None) -> bytes:
        """The version's content; ``bsm`` may be left out (1.x requires it).

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_version(bsm, "app", 1).get_content(bsm)
        b'v1'
        """
        return self._read(bsm, self.name, self.version, self.s3uri)


@dataclasses.dataclass
class AliasResult(Result, Generic[_Time]):
    """The fields and methods of both backends' ``Alias``."""

    name: str
    alias: str
    update_at: _Time
    version: str
    secondary_version: str | None
    secondary_version_weight: int | None
    version_s3uri: str
    secondary_version_s3uri: str | None

    @property
    def s3path_version(self) -> S3Path:
        """The primary version's object as an ``s3pathlib.S3Path``.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_alias(bsm, "app", "prod").s3path_version.uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return models.s3path(self.version_s3uri)

    @property
    def s3path_secondary_version(self) -> S3Path | None:
        """The secondary version's object as an ``s3pathlib.S3Path``; None without one.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> print(repo.get_alias(bsm, "app", "prod").s3path_secondary_version)
        None
        """
        uri = self.secondary_version_s3uri
        return None if uri is None else models.s3path(uri)

    @translated
    def get_version_content(self, bsm: Bsm = None) -> bytes:
        """The primary version's content; ``bsm`` may be left out (1.x requires it).

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_alias(bsm, "app", "prod").get_version_content(bsm)
        b'v1'
        """
        return self._read(bsm, self.name, self.version, self.version_s3uri)

    @translated
    def get_secondary_version_content(self, bsm: Bsm = None) -> bytes:
        """The secondary version's content; ArtifactNotFoundError without one.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> alias = repo.put_alias(bsm, "app", "canary", version=2,
        ...                        secondary_version=1, secondary_version_weight=10)
        >>> alias.get_secondary_version_content(bsm)
        b'v1'
        """
        version, uri = self.secondary_version, self.secondary_version_s3uri
        if version is None or uri is None:
            raise exc.ArtifactNotFoundError(f"alias {self.alias!r} has no secondary version")
        return self._read(bsm, self.name, version, uri)

    def random_artifact(self) -> str:
        """The S3 URI of the primary or the secondary version, drawn by the weights.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_alias(bsm, "app", "prod").random_artifact()  # no secondary version
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return models.weighted_pick(
            self.version_s3uri, self.secondary_version_s3uri, self.secondary_version_weight
        )
