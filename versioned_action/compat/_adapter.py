"""What both 1.x namespaces share: this project's repository for a caller's ``bsm``, cached,
and the translation of its results and errors into 1.x's shapes. No rule lives here: every
call is one call of :class:`~versioned_action.repository.Repository`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import threading
from collections import OrderedDict
from datetime import datetime
from typing import ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from .. import DEFAULT_TABLE, aws, models, open_repository
from ..aws_failures import translate
from ..errors import AliasNotFound, ArtifactNotFound, VersionedError, VersionNotFound
from ..repository import Repository
from . import exc

CACHE_SIZE = 16  # repositories kept, one per (session, settings)
_cache: OrderedDict[tuple, tuple[object, Repository]] = OrderedDict()
_cache_lock = threading.Lock()


def session_of(bsm):
    """The botocore session of a BotoSesManager (its ``boto_ses``), of a boto3 or botocore
    session passed as ``bsm``, or None for ``bsm=None`` (the default credential chain)."""
    if bsm is None:
        return None
    return aws.botocore_session(getattr(bsm, "boto_ses", bsm))


def core_repository(backend: str, bsm, **settings) -> Repository:
    """This project's repository with ``settings``, its clients built from ``bsm``'s session
    and region; one per session and settings, so a loop of calls builds its clients once."""
    session = session_of(bsm)
    region = getattr(bsm, "aws_region", None) or (
        session.get_config_variable("region") if session is not None else None
    )
    settings["region"] = region or settings["region"]
    # PynamoDB takes fixed keys: a session whose credentials were refreshed gets a new one
    keys = aws.session_credentials(session) if backend == "s3-dynamodb" else {}
    key = (backend, id(session), tuple(sorted(settings.items())), tuple(sorted(keys.items())))
    with _cache_lock:
        held = _cache.get(key)
        if held is not None and held[0] is session:
            _cache.move_to_end(key)
            return held[1]
    with aws.client_session(session):
        repo = open_repository(backend, **settings)
    with _cache_lock:
        _cache[key] = (session, repo)  # holding the session keeps its id from being reused
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return repo


def translated(method):
    """Raise 1.x's exception classes (:mod:`.exc`) for this project's errors, chained."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except VersionedError as err:
            theirs = exc.translate(err)
            if theirs is err:
                raise
            raise theirs from err

    return wrapper


def _content(content):
    """1.x takes bytes; a path (str or Path) streams that file instead of holding it."""
    if isinstance(content, (bytearray, memoryview)):
        return bytes(content)
    return content


# ----- results ------------------------------------------------------------------------------


class Result:
    """Shared by 1.x's Artifact and Alias: reading content back through the repository that
    returned the result (``_origin``), with the ``bsm`` of the call."""

    _origin: RepositoryAdapter | None = None  # not a dataclass field: not in repr or to_dict

    def _read(self, bsm, version: str | None, uri: str | None) -> bytes:
        if version is None or uri is None:
            raise exc.ArtifactNotFoundError(f"alias {self.alias!r} has no secondary version")
        if self._origin is not None:
            return self._origin.core(bsm).get_artifact_content(self.name, version)
        return _read_uri(bsm, uri)  # a result built by hand (from_dict)


def _read_uri(bsm, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = core_repository("s3", bsm, bucket=bucket, region=None).s3
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as err:
        raise translate(err, bucket=bucket) from err


class ArtifactResult(Result):
    @property
    def s3path(self):
        """The version's object as an ``s3pathlib.S3Path`` (s3pathlib imported on first use)."""
        return models.s3path(self.s3uri)

    @translated
    def get_content(self, bsm=None) -> bytes:
        return self._read(bsm, self.version, self.s3uri)


class AliasResult(Result):
    @property
    def s3path_version(self):
        return models.s3path(self.version_s3uri)

    @property
    def s3path_secondary_version(self):
        uri = self.secondary_version_s3uri
        return None if uri is None else models.s3path(uri)

    @translated
    def get_version_content(self, bsm=None) -> bytes:
        return self._read(bsm, self.version, self.version_s3uri)

    @translated
    def get_secondary_version_content(self, bsm=None) -> bytes:
        return self._read(bsm, self.secondary_version, self.secondary_version_s3uri)

    def random_artifact(self) -> str:
        """The S3 URI of the primary or the secondary version, drawn by the weights."""
        return models.Alias.random_artifact(self)  # the core's draw; it reads only the URIs


# ----- the repository -----------------------------------------------------------------------


class RepositoryAdapter:
    """1.x's Repository over this project's: every method in the argument order of 1.x's
    ``s3_and_dynamodb_backend`` (``bsm`` last); ``s3_only_backend`` reorders them."""

    backend: ClassVar[str]
    Artifact: ClassVar[type]
    Alias: ClassVar[type]

    def _time(self, value: datetime):
        return value

    def core(self, bsm=None) -> Repository:
        """This project's repository behind this one, with ``bsm``'s credentials and region
        (for what 1.x lacks: ``rollback``, ``get_alias_history``, ``download_artifact``...)."""
        return core_repository(
            self.backend,
            bsm,
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            suffix=self.suffix,
            table=getattr(self, "dynamodb_table_name", DEFAULT_TABLE),
            region=self.aws_region,
        )

    def _result(self, kind: type, found: models.Artifact | models.Alias):
        """``found`` as 1.x's ``kind``: the fields 1.x has, its type of ``update_at``."""
        values = {f.name: getattr(found, f.name) for f in dataclasses.fields(kind)}
        result = kind(**{**values, "update_at": self._time(found.update_at)})
        result._origin = self
        return result

    def _artifact(self, found: models.Artifact):
        return self._result(self.Artifact, found)

    def _alias(self, found: models.Alias):
        return self._result(self.Alias, found)

    @property
    def s3dir_artifact_store(self):
        """The repository's root folder as an ``s3pathlib.S3Path``."""
        prefix = f"{self.s3_prefix}/" if self.s3_prefix else ""
        return models.s3path(f"s3://{self.s3_bucket}/{prefix}")

    @translated
    def bootstrap(self, bsm=None) -> None:
        self.core(bsm).bootstrap()

    @translated
    def put_artifact(self, name, content, content_type=None, metadata=None, tags=None, bsm=None):
        found = self.core(bsm).put_artifact(name, _content(content), content_type, metadata, tags)
        return self._artifact(found)

    @translated
    def get_artifact_version(self, name, version=None, bsm=None):
        return self._artifact(self.core(bsm).get_artifact_version(name, version))

    @translated
    def list_artifact_versions(self, name, bsm=None) -> list:
        return [self._artifact(a) for a in self.core(bsm).list_artifact_versions(name)]

    @translated
    def publish_artifact_version(self, name, bsm=None):
        return self._artifact(self.core(bsm).publish_artifact_version(name))

    @translated
    def delete_artifact_version(self, name, version=None, bsm=None) -> None:
        """Delete one version; a missing one is no error (as in 1.x), one an alias uses is."""
        with contextlib.suppress(ArtifactNotFound, VersionNotFound):
            self.core(bsm).delete_artifact_version(name, version)

    @translated
    def list_artifact_names(self, bsm=None) -> list[str]:
        return self.core(bsm).list_artifact_names()

    @translated
    def put_alias(
        self,
        name,
        alias,
        version=None,
        secondary_version=None,
        secondary_version_weight=None,
        bsm=None,
    ):
        found = self.core(bsm).put_alias(
            name, alias, version, secondary_version, secondary_version_weight
        )
        return self._alias(found)

    @translated
    def get_alias(self, name, alias, bsm=None):
        return self._alias(self.core(bsm).get_alias(name, alias))

    @translated
    def list_aliases(self, name, bsm=None) -> list:
        return [self._alias(a) for a in self.core(bsm).list_aliases(name)]

    @translated
    def delete_alias(self, name, alias, bsm=None) -> None:
        """Delete an alias (recorded in its history); a missing one is no error, as in 1.x."""
        with contextlib.suppress(AliasNotFound):
            self.core(bsm).delete_alias(name, alias)

    @translated
    def purge_artifact_versions(
        self, name, keep_last_n=10, purge_older_than_secs=90 * 24 * 60 * 60, bsm=None
    ) -> tuple[datetime, list]:
        """1.x's ``(purge_time, deleted)``; versions an alias uses are kept."""
        done = self.core(bsm).purge_artifact_versions(name, keep_last_n, purge_older_than_secs)
        return done.purge_time, [self._artifact(a) for a in done.deleted]

    @translated
    def purge_artifact(self, name, bsm=None) -> None:
        self.core(bsm).purge_artifact(name)

    @translated
    def purge_all(self, bsm=None) -> None:
        self.core(bsm).purge_all()
