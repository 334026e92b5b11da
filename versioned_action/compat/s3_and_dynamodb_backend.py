"""1.x's ``versioned.api.s3_and_dynamodb_backend`` over this project's ``s3-dynamodb``
backend: ``bsm`` last and optional in every method, ``update_at`` a datetime."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from .. import DEFAULT_PREFIX, DEFAULT_TABLE, layout, models
from ._adapter import Content, RepositoryAdapter
from ._results import AliasResult, ArtifactResult
from ._session import SessionManager

if TYPE_CHECKING:
    from s3pathlib import S3Path  # untyped: Any


class Artifact(ArtifactResult[datetime]):
    """One version of an artifact: ``name``, ``version``, ``update_at``, ``s3uri``, ``sha256``.

    >>> from versioned_action.compat import s3_and_dynamodb_backend
    >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.bootstrap(bsm)
    >>> repo.put_artifact("app", b"v1", bsm=bsm)
    Artifact(name='app', version='LATEST', update_at=datetime.datetime(...),
             s3uri='s3://my-bucket/versioned-artifacts/app/LATEST', sha256='3bfc2695...')
    """


class Alias(AliasResult[datetime]):
    """An alias: ``version``, and an optional ``secondary_version`` with its weight (0-99).

    >>> from versioned_action.compat import s3_and_dynamodb_backend
    >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
    >>> repo.put_alias("app", "prod", bsm=bsm)
    Alias(name='app', alias='prod', update_at=datetime.datetime(...), version='LATEST',
          secondary_version=None, secondary_version_weight=None,
          version_s3uri='s3://my-bucket/versioned-artifacts/app/LATEST',
          secondary_version_s3uri=None)
    """


@dataclasses.dataclass
class Repository(RepositoryAdapter[Artifact, Alias]):
    """Content in one bucket, versions and aliases in one DynamoDB table; ``bsm`` last.

    >>> from versioned_action.compat import s3_and_dynamodb_backend
    >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
    >>> repo.bootstrap(bsm)
    >>> repo.put_artifact("app", b"v1", bsm=bsm).get_content(bsm)
    b'v1'
    """

    aws_region: str
    s3_bucket: str
    s3_prefix: str = DEFAULT_PREFIX
    dynamodb_table_name: str = DEFAULT_TABLE
    suffix: str = ""

    backend = "s3-dynamodb"
    _artifact_type = Artifact
    _alias_type = Alias

    def bootstrap(
        self,
        bsm: SessionManager | None = None,
        dynamodb_write_capacity_units: int | None = None,
        dynamodb_read_capacity_units: int | None = None,
    ) -> None:
        """Create the bucket and the table when missing (on-demand billing: unlike 1.x, the
        capacities are unused).

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.list_artifact_versions("app", bsm=bsm)
        []
        """
        self._bootstrap(bsm)

    def get_artifact_s3path(self, name: str, version: str | int) -> S3Path:
        """A version's object as an ``s3pathlib.S3Path`` (no request is made).

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.get_artifact_s3path("app", 1).uri
        's3://my-bucket/versioned-artifacts/app/000001'
        """
        uri = self.core(None).s3uri(name, layout.normalize_version(version))
        return models.s3path(uri)

    def put_artifact(
        self,
        name: str,
        content: Content,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        bsm: SessionManager | None = None,
    ) -> Artifact:
        """Store ``content`` as LATEST (no upload when unchanged); a path streams its file.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.put_artifact("app", b"v1", bsm=bsm).s3uri
        's3://my-bucket/versioned-artifacts/app/LATEST'
        """
        return self._put_artifact(bsm, name, content, content_type, metadata, tags)

    def get_artifact_version(
        self, name: str, version: str | int | None = None, bsm: SessionManager | None = None
    ) -> Artifact:
        """One version, LATEST by default; ArtifactNotFoundError when it does not exist.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.get_artifact_version("app", bsm=bsm).sha256[:8]
        '3bfc2695'
        """
        return self._get_artifact_version(bsm, name, version)

    def list_artifact_versions(
        self, name: str, bsm: SessionManager | None = None
    ) -> list[Artifact]:
        """Every version, LATEST first, then newest first.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> [artifact.version for artifact in repo.list_artifact_versions("app", bsm=bsm)]
        ['LATEST']
        """
        return self._list_artifact_versions(bsm, name)

    def publish_artifact_version(self, name: str, bsm: SessionManager | None = None) -> Artifact:
        """LATEST as the next version; unlike 1.x, the newest one when LATEST is unchanged.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.publish_artifact_version("app", bsm=bsm).version
        '1'
        """
        return self._publish_artifact_version(bsm, name)

    def delete_artifact_version(
        self, name: str, version: str | int | None = None, bsm: SessionManager | None = None
    ) -> None:
        """Delete one version (LATEST by default); a missing one is no error, as in 1.x, and
        one an alias uses raises Conflict.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.delete_artifact_version("app", 9, bsm=bsm)  # no such version: no error
        """
        self._delete_artifact_version(bsm, name, version)

    def list_artifact_names(self, bsm: SessionManager | None = None) -> list[str]:
        """The names of all artifacts, sorted.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.list_artifact_names(bsm=bsm)
        ['app']
        """
        return self._list_artifact_names(bsm)

    def put_alias(
        self,
        name: str,
        alias: str,
        version: str | int | None = None,
        secondary_version: str | int | None = None,
        secondary_version_weight: int | None = None,
        bsm: SessionManager | None = None,
    ) -> Alias:
        """Point ``alias`` at a version (LATEST by default), and a weighted secondary one;
        unlike 1.x, the change is recorded in the alias's history.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.put_alias("app", "prod", bsm=bsm).version_s3uri
        's3://my-bucket/versioned-artifacts/app/LATEST'
        """
        return self._put_alias(
            bsm, name, alias, version, secondary_version, secondary_version_weight
        )

    def get_alias(self, name: str, alias: str, bsm: SessionManager | None = None) -> Alias:
        """One alias; AliasNotFoundError when it does not exist.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.get_alias("app", "prod", bsm=bsm)
        Traceback (most recent call last):
        versioned_action.compat.exc.AliasNotFoundError: alias 'prod' of artifact 'app' not found...
        """
        return self._get_alias(bsm, name, alias)

    def list_aliases(self, name: str, bsm: SessionManager | None = None) -> list[Alias]:
        """Every alias of an artifact, sorted by name.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.list_aliases("app", bsm=bsm)
        []
        """
        return self._list_aliases(bsm, name)

    def delete_alias(self, name: str, alias: str, bsm: SessionManager | None = None) -> None:
        """Delete an alias (recorded in its history); a missing one is no error, as in 1.x.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm)
        >>> repo.delete_alias("app", "prod", bsm=bsm)  # no such alias: no error
        """
        self._delete_alias(bsm, name, alias)

    def purge_artifact_versions(
        self,
        name: str,
        keep_last_n: int = 10,
        purge_older_than_secs: int = 90 * 24 * 60 * 60,
        bsm: SessionManager | None = None,
    ) -> tuple[datetime, list[Artifact]]:
        """Delete old versions beyond the newest ``keep_last_n``: 1.x's ``(purge_time,
        deleted)``, but the versions an alias uses are kept.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.purge_artifact_versions("app", bsm=bsm)  # LATEST is never purged
        (datetime.datetime(...), [])
        """
        return self._purge_artifact_versions(bsm, name, keep_last_n, purge_older_than_secs)

    def purge_artifact(self, name: str, bsm: SessionManager | None = None) -> None:
        """Delete an artifact: every version and alias, and the aliases' history.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.purge_artifact("app", bsm=bsm)
        """
        self._purge_artifact(bsm, name)

    def purge_all(self, bsm: SessionManager | None = None) -> None:
        """Delete every artifact under the prefix and its records; bucket and table stay.

        >>> from versioned_action.compat import s3_and_dynamodb_backend
        >>> repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.bootstrap(bsm); _ = repo.put_artifact("app", b"v1", bsm=bsm)
        >>> repo.purge_all(bsm=bsm)
        """
        self._purge_all(bsm)
