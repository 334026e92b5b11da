"""1.x's ``versioned.api.s3_only_backend`` over this project's ``s3`` backend: ``bsm`` first
in every method, ``update_at`` an ISO 8601 string."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

from .. import DEFAULT_PREFIX
from ._adapter import Content, RepositoryAdapter
from ._results import AliasResult, ArtifactResult
from ._session import SessionManager, translated

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class _Stamped(Protocol):
    update_at: str


class _Dict:
    """1.x's ``to_dict`` / ``from_dict`` and ``update_datetime`` of the S3-only results."""

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> Self:
        """The result whose fields ``dct`` holds, as :meth:`to_dict` returned them.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> artifact = repo.get_artifact_version(bsm, "app", 1)
        >>> s3_only_backend.Artifact.from_dict(artifact.to_dict()) == artifact
        True
        """
        return cls(**dct)

    def to_dict(self: DataclassInstance) -> dict[str, Any]:
        """The fields as a dict (``update_at`` stays a string).

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_version(bsm, "app", 1).to_dict()
        {'name': 'app', 'version': '1', 'update_at': '20...+00:00',
         's3uri': 's3://my-bucket/versioned-artifacts/app/versions/999999_000001',
         'sha256': '3bfc2695...'}
        """
        return dataclasses.asdict(self)

    @property
    def update_datetime(self: _Stamped) -> datetime:
        """``update_at`` as a timezone-aware datetime.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_version(bsm, "app", 1).update_datetime.tzinfo
        datetime.timezone.utc
        """
        return datetime.fromisoformat(self.update_at)


class Artifact(_Dict, ArtifactResult[str]):
    """One version of an artifact: ``name``, ``version``, ``update_at``, ``s3uri``, ``sha256``.

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> artifact = repo.get_artifact_version(bsm, "app", 1)
    >>> artifact.name, artifact.version, artifact.sha256[:8]
    ('app', '1', '3bfc2695')
    """


class Alias(_Dict, AliasResult[str]):
    """An alias: ``version``, and an optional ``secondary_version`` with its weight (0-99).

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> alias = repo.get_alias(bsm, "app", "prod")
    >>> alias.alias, alias.version, alias.secondary_version
    ('prod', '1', None)
    """


@dataclasses.dataclass
class Repository(RepositoryAdapter[Artifact, Alias]):
    """Artifacts and aliases under ``s3_prefix`` in one bucket; ``bsm`` first in every call.

    >>> from versioned_action.compat import s3_only_backend
    >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.get_artifact_version(bsm, "app", version=1).get_content(bsm)
    b'v1'
    """

    aws_region: str
    s3_bucket: str
    s3_prefix: str = DEFAULT_PREFIX
    suffix: str = ""

    backend = "s3"
    _artifact_type = Artifact
    _alias_type = Alias

    def _time(self, value: datetime) -> str:
        return value.isoformat()

    def bootstrap(self, bsm: SessionManager) -> None:
        """Create the bucket when missing; an existing one is left as it is.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.list_artifact_names(bsm)
        ['app']
        """
        self._bootstrap(bsm)

    @translated
    def get_latest_published_artifact_version_number(self, bsm: SessionManager, name: str) -> int:
        """The newest published version's number; 0 before the first publish.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_latest_published_artifact_version_number(bsm, "app")
        2
        """
        return int(self.core(bsm).get_newest_version_number(name) or 0)

    def put_artifact(
        self,
        bsm: SessionManager,
        name: str,
        content: Content,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> Artifact:
        """Store ``content`` as LATEST (no upload when unchanged); a path streams its file.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.put_artifact(bsm, "app", b"v3").version
        'LATEST'
        """
        return self._put_artifact(bsm, name, content, content_type, metadata, tags)

    def get_artifact_version(
        self, bsm: SessionManager, name: str, version: str | int | None = None
    ) -> Artifact:
        """One version, LATEST by default; ArtifactNotFoundError when it does not exist.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_version(bsm, "app", version=1).s3uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return self._get_artifact_version(bsm, name, version)

    def list_artifact_versions(self, bsm: SessionManager, name: str) -> list[Artifact]:
        """Every version, LATEST first, then newest first.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> [artifact.version for artifact in repo.list_artifact_versions(bsm, "app")]
        ['LATEST', '2', '1']
        """
        return self._list_artifact_versions(bsm, name)

    def publish_artifact_version(self, bsm: SessionManager, name: str) -> Artifact:
        """LATEST as the next version; the newest one when LATEST has not changed since.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> _ = repo.put_artifact(bsm, "app", b"v3")
        >>> repo.publish_artifact_version(bsm, "app").version
        '3'
        """
        return self._publish_artifact_version(bsm, name)

    def delete_artifact_version(self, bsm: SessionManager, name: str, version: str | int) -> None:
        """Delete one version; a missing one is no error, one an alias uses raises Conflict.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.delete_artifact_version(bsm, "app", 2)
        >>> [artifact.version for artifact in repo.list_artifact_versions(bsm, "app")]
        ['LATEST', '1']
        """
        self._delete_artifact_version(bsm, name, version)

    def list_artifact_names(self, bsm: SessionManager) -> list[str]:
        """The names of all artifacts, sorted.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.list_artifact_names(bsm)
        ['app']
        """
        return self._list_artifact_names(bsm)

    def put_alias(
        self,
        bsm: SessionManager,
        name: str,
        alias: str,
        version: str | int | None = None,
        secondary_version: str | int | None = None,
        secondary_version_weight: int | None = None,
    ) -> Alias:
        """Point ``alias`` at a version (LATEST by default), and a weighted secondary one;
        unlike 1.x, the change is recorded in the alias's history.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.put_alias(bsm, "app", "prod", version=2).version
        '2'
        """
        return self._put_alias(
            bsm, name, alias, version, secondary_version, secondary_version_weight
        )

    def get_alias(self, bsm: SessionManager, name: str, alias: str) -> Alias:
        """One alias; AliasNotFoundError when it does not exist.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_alias(bsm, "app", "prod").version_s3uri
        's3://my-bucket/versioned-artifacts/app/versions/999999_000001'
        """
        return self._get_alias(bsm, name, alias)

    def list_aliases(self, bsm: SessionManager, name: str) -> list[Alias]:
        """Every alias of an artifact, sorted by name.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> [(alias.alias, alias.version) for alias in repo.list_aliases(bsm, "app")]
        [('prod', '1')]
        """
        return self._list_aliases(bsm, name)

    def delete_alias(self, bsm: SessionManager, name: str, alias: str) -> None:
        """Delete an alias (recorded in its history); a missing one is no error, as in 1.x.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.delete_alias(bsm, "app", "prod")
        >>> repo.list_aliases(bsm, "app")
        []
        """
        self._delete_alias(bsm, name, alias)

    def purge_artifact_versions(
        self,
        bsm: SessionManager,
        name: str,
        keep_last_n: int = 10,
        purge_older_than_secs: int = 90 * 24 * 60 * 60,
    ) -> tuple[datetime, list[Artifact]]:
        """Delete old versions beyond the newest ``keep_last_n``: 1.x's ``(purge_time,
        deleted)``, but the versions an alias uses are kept and the deleted lack ``sha256``.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> _, deleted = repo.purge_artifact_versions(bsm, "app", 0, purge_older_than_secs=0)
        >>> [artifact.version for artifact in deleted]  # prod keeps version 1
        ['2']
        """
        return self._purge_artifact_versions(bsm, name, keep_last_n, purge_older_than_secs)

    def purge_artifact(self, bsm: SessionManager, name: str) -> None:
        """Delete an artifact: every version and alias, and the aliases' history.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.purge_artifact(bsm, "app")
        >>> repo.list_artifact_names(bsm)
        []
        """
        self._purge_artifact(bsm, name)

    def purge_all(self, bsm: SessionManager) -> None:
        """Delete every artifact under the prefix; the bucket stays.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.purge_all(bsm)
        >>> repo.list_artifact_names(bsm)
        []
        """
        self._purge_all(bsm)
