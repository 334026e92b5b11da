"""What both 1.x namespaces share: this project's repository for a caller's ``bsm``, cached,
the 1.x result classes, and the operations under private names, ``bsm`` first, to which each
backend module's ``Repository`` gives 1.x's public signatures. No rule lives here: every call
is one call of :class:`~versioned_action.repository.Repository`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, ParamSpec, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .. import DEFAULT_PREFIX, DEFAULT_TABLE, aws, models, open_repository
from ..aws_failures import translate
from ..errors import AliasNotFound, ArtifactNotFound, VersionedError, VersionNotFound
from ..layout import LATEST
from ..repository import Repository
from . import exc

if TYPE_CHECKING:
    from botocore.session import Session
    from s3pathlib import S3Path  # untyped: Any

CACHE_SIZE = 16  # repositories kept, one per (session, settings)
_P = ParamSpec("_P")
_R = TypeVar("_R")
_Time = TypeVar("_Time")  # of ``update_at``: an ISO 8601 str (s3_only) or a datetime

# 1.x takes bytes; a path (str or Path) streams that file instead of holding it
Content = bytes | bytearray | memoryview | str | Path


class SessionManager(Protocol):
    """A ``bsm``: a ``boto_session_manager.BotoSesManager``, or any object with these two
    attributes (boto_session_manager is no dependency of this project)."""

    @property
    def boto_ses(self) -> object: ...  # a boto3 Session (boto3 ships no types)

    @property
    def aws_region(self) -> str | None: ...


Bsm = SessionManager | None  # None: botocore's default credential chain and region


_cache: OrderedDict[tuple[object, ...], tuple[Session | None, Repository]] = OrderedDict()
_cache_lock = threading.Lock()


def session_of(bsm: Bsm) -> Session | None:
    """The botocore session of a BotoSesManager (its ``boto_ses``), of a boto3 or botocore
    session passed as ``bsm``, or None for ``bsm=None`` (the default credential chain)."""
    if bsm is None:
        return None
    return aws.botocore_session(getattr(bsm, "boto_ses", bsm))


def core_repository(
    backend: str,
    bsm: Bsm,
    *,
    bucket: str,
    prefix: str = DEFAULT_PREFIX,
    suffix: str = "",
    table: str = DEFAULT_TABLE,
    region: str | None = None,
) -> Repository:
    """This project's repository with these settings, its clients built from ``bsm``'s
    session and region; one per session and settings, so a loop of calls builds them once."""
    session = session_of(bsm)
    region = (
        getattr(bsm, "aws_region", None)
        or (session.get_config_variable("region") if session is not None else None)
        or region
    )
    settings = (bucket, prefix, suffix, table, region)
    # PynamoDB takes fixed keys: a session whose credentials were refreshed gets a new one
    keys = aws.session_credentials(session) if backend == "s3-dynamodb" else {}
    key = (backend, id(session), settings, tuple(sorted(keys.items())))
    with _cache_lock:
        held = _cache.get(key)
        if held is not None and held[0] is session:
            _cache.move_to_end(key)
            return held[1]
    with aws.client_session(session):
        repo = open_repository(
            backend, bucket=bucket, prefix=prefix, suffix=suffix, table=table, region=region
        )
    with _cache_lock:
        _cache[key] = (session, repo)  # holding the session keeps its id from being reused
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return repo


def translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Raise 1.x's exception classes (:mod:`.exc`) for this project's errors, chained."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except VersionedError as err:
            theirs = exc.translate(err)
            if theirs is err:
                raise
            raise theirs from err

    return wrapper


# ----- results ------------------------------------------------------------------------------


class Result:
    """Shared by 1.x's Artifact and Alias: reading content back through the repository that
    returned the result (``_origin``), with the ``bsm`` of the call."""

    _origin: RepositoryAdapter[Any, Any] | None = None  # no dataclass field: not in repr

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
        # the core's draw, which reads only the URIs and the weight that both classes have
        return models.Alias.random_artifact(self)  # type: ignore[arg-type]


# ----- the repository -----------------------------------------------------------------------

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
