"""The operations both 1.x namespaces share, under private names with ``bsm`` first; each
backend module's ``Repository`` gives them 1.x's public signatures. No rule lives here: every
call is one call of :class:`~versioned_action.repository.Repository`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .. import DEFAULT_TABLE, models
from ..errors import AliasNotFound, ArtifactNotFound, VersionNotFound
from ..layout import LATEST
from ..repository import Repository
from ._results import AliasResult, ArtifactResult
from ._session import Bsm, core_repository, translated

if TYPE_CHECKING:
    from s3pathlib import S3Path  # untyped: Any

# 1.x takes bytes; a path (str or Path) streams that file instead of holding it
Content = bytes | bytearray | memoryview | str | Path

_A = TypeVar("_A", bound=ArtifactResult[Any])
_L = TypeVar("_L", bound=AliasResult[Any])
_Res = TypeVar("_Res", bound=ArtifactResult[Any] | AliasResult[Any])


class RepositoryAdapter(Generic[_A, _L]):
    """1.x's Repository over this project's, less the public signatures (see the module)."""

    backend: ClassVar[str]
    _artifact_type: type[_A]
    _alias_type: type[_L]
    aws_region: str  # these four: fields of both backends' dataclass
    s3_bucket: str
    s3_prefix: str
    suffix: str

    def _time(self, value: datetime) -> datetime | str:
        return value

    def core(self, bsm: Bsm = None) -> Repository:
        """This project's repository behind this one, with ``bsm``'s credentials and region,
        for what 1.x lacks (``rollback``, ``get_alias_history``, ``download_artifact``...).

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.core(bsm).get_alias_history("app", "prod")[0].new.version
        '1'
        """
        table: str = getattr(self, "dynamodb_table_name", DEFAULT_TABLE)
        return core_repository(
            self.backend,
            bsm,
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            suffix=self.suffix,
            table=table,
            region=self.aws_region,
        )

    @property
    def s3dir_artifact_store(self) -> S3Path:
        """The repository's root folder as an ``s3pathlib.S3Path``.

        >>> from versioned_action.compat import s3_only_backend
        >>> repo = s3_only_backend.Repository(aws_region="us-east-1", s3_bucket="my-bucket")
        >>> repo.s3dir_artifact_store.uri
        's3://my-bucket/versioned-artifacts/'
        """
        prefix = f"{self.s3_prefix}/" if self.s3_prefix else ""
        return models.s3path(f"s3://{self.s3_bucket}/{prefix}")

    def _result(self, kind: type[_Res], found: models.Artifact | models.Alias) -> _Res:
        """``found`` as 1.x's ``kind``: the fields 1.x has, its type of ``update_at``."""
        values = {f.name: getattr(found, f.name) for f in dataclasses.fields(kind)}
        result = kind(**{**values, "update_at": self._time(found.update_at)})
        result._origin = self
        return result

    def _artifact(self, found: models.Artifact) -> _A:
        return self._result(self._artifact_type, found)

    def _alias(self, found: models.Alias) -> _L:
        return self._result(self._alias_type, found)

    @translated
    def _bootstrap(self, bsm: Bsm) -> None:
        self.core(bsm).bootstrap()

    @translated
    def _put_artifact(
        self,
        bsm: Bsm,
        name: str,
        content: Content,
        content_type: str | None,
        metadata: dict[str, str] | None,
        tags: dict[str, str] | None,
    ) -> _A:
        if isinstance(content, (bytearray, memoryview)):
            content = bytes(content)
        found = self.core(bsm).put_artifact(name, content, content_type, metadata, tags)
        return self._artifact(found)

    @translated
    def _get_artifact_version(self, bsm: Bsm, name: str, version: str | int | None) -> _A:
        return self._artifact(self.core(bsm).get_artifact_version(name, version))

    @translated
    def _list_artifact_versions(self, bsm: Bsm, name: str) -> list[_A]:
        return [self._artifact(a) for a in self.core(bsm).list_artifact_versions(name)]

    @translated
    def _publish_artifact_version(self, bsm: Bsm, name: str) -> _A:
        return self._artifact(self.core(bsm).publish_artifact_version(name))

    @translated
    def _delete_artifact_version(self, bsm: Bsm, name: str, version: str | int | None) -> None:
        with contextlib.suppress(ArtifactNotFound, VersionNotFound):  # no error, as in 1.x
            self.core(bsm).delete_artifact_version(name, LATEST if version is None else version)

    @translated
    def _list_artifact_names(self, bsm: Bsm) -> list[str]:
        return self.core(bsm).list_artifact_names()

    @translated
    def _put_alias(
        self,
        bsm: Bsm,
        name: str,
        alias: str,
        version: str | int | None,
        secondary_version: str | int | None,
        secondary_version_weight: int | None,
    ) -> _L:
        found = self.core(bsm).put_alias(
            name, alias, version, secondary_version, secondary_version_weight
        )
        return self._alias(found)

    @translated
    def _get_alias(self, bsm: Bsm, name: str, alias: str) -> _L:
        return self._alias(self.core(bsm).get_alias(name, alias))

    @translated
    def _list_aliases(self, bsm: Bsm, name: str) -> list[_L]:
        return [self._alias(a) for a in self.core(bsm).list_aliases(name)]

    @translated
    def _delete_alias(self, bsm: Bsm, name: str, alias: str) -> None:
        with contextlib.suppress(AliasNotFound):  # no error, as in 1.x
            self.core(bsm).delete_alias(name, alias)

    @translated
    def _purge_artifact_versions(
        self,
        bsm: Bsm,
        name: str,
        keep_last_n: int,
        purge_older_than_secs: int,
    ) -> tuple[datetime, list[_A]]:
        """1.x's ``(purge_time, deleted)``; versions an alias uses are kept."""
        done = self.core(bsm).purge_artifact_versions(name, keep_last_n, purge_older_than_secs)
        return done.purge_time, [self._artifact(a) for a in done.deleted]

    @translated
    def _purge_artifact(self, bsm: Bsm, name: str) -> None:
        self.core(bsm).purge_artifact(name)

    @translated
    def _purge_all(self, bsm: Bsm) -> None:
        self.core(bsm).purge_all()
