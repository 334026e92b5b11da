"""Deleting versions and artifacts, shared by both backends: what purge may remove is
decided here once.

Purge never removes LATEST, the newest ``keep_last_n`` versions, a version younger than the
cut-off, or any version an alias points at. It reads the versions from one listing (no read
per version) and deletes in as few requests as the backend allows.
"""

from __future__ import annotations

from datetime import timedelta

from . import layout
from .aws_failures import aws_call
from .errors import Conflict, InvalidInput, VersionedError
from .models import Artifact, PurgeResult, utc_now
from .storage import Storage

DELETE_BATCH = 1000  # keys per DeleteObjects, S3's limit


class LifecycleOperations(Storage):
    """Part of :class:`~versioned_action.repository.Repository`, over a :class:`Storage`."""

    def _numbered(self, name: str) -> list[Artifact]:
        """Live numbered versions, newest first, as cheaply as the backend lists them; the
        ``sha256`` may be empty where it would take a read per version."""
        return [a for a in self._list_versions(name) if a.version != layout.LATEST]

    def _delete_versions(self, name: str, versions: list[str]) -> None:
        for version in versions:
            self._delete_version(name, version)

    def _delete_keys(self, keys: list[str]) -> None:
        """Delete S3 objects, up to 1,000 a request; name the first that S3 refused."""
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            response = self.s3.delete_objects(
                Bucket=self.s3_bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise VersionedError(
                    f"could not delete s3://{self.s3_bucket}/{first['Key']}: {first['Code']}"
                )

    def _delete_objects(self, prefix: str) -> None:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.s3_bucket, Prefix=prefix):
            self._delete_keys([obj["Key"] for obj in page.get("Contents", [])])

    @aws_call
    def delete_artifact_version(self, name: str, version: str | int) -> None:
        """Delete one version; refused while an alias points at it.

        >>> repo.delete_artifact_version("app", 2)
        >>> [artifact.version for artifact in repo.list_artifact_versions("app")]
        ['LATEST', '1']
        """
        layout.validate_name(name)
        version = layout.normalize_version(version)
        users = [a for a, t, _ in self._list_alias_records(name) if version in t.versions]
        if users:
            raise Conflict(
                f"version {version} of {name!r} is in use by alias {', '.join(sorted(users))}",
                hint="Point the alias elsewhere first",
            )
        self._get(name, version)
        self._delete_version(name, version)

    @aws_call
    def purge_artifact_versions(
        self,
        name: str,
        keep_last_n: int = 10,
        purge_older_than_secs: int = 90 * 24 * 60 * 60,
        *,
        dry_run: bool = False,
    ) -> PurgeResult:
        """Delete old versions, sparing LATEST, the newest ``keep_last_n`` numbered versions,
        anything younger than ``purge_older_than_secs``, and every version an alias uses.

        >>> result = repo.purge_artifact_versions("app", keep_last_n=0, purge_older_than_secs=0)
        >>> [artifact.version for artifact in result.deleted], result.kept_for_aliases
        (['2'], ('1',))
        """
        layout.validate_name(name)
        for field, value in (("keep-last", keep_last_n), ("older-than", purge_older_than_secs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(field, f"{value!r} must be a whole number >= 0")
        purge_time = utc_now()
        expire = purge_time - timedelta(seconds=purge_older_than_secs)
        in_use = {v for _, t, _ in self._list_alias_records(name) for v in t.versions}
        deleted: list[Artifact] = []
        spared: list[str] = []
        for artifact in self._numbered(name)[keep_last_n:]:
            if artifact.update_at >= expire:
                continue
            if artifact.version in in_use:
                spared.append(artifact.version)
                continue
            deleted.append(artifact)
        if not dry_run:
            self._delete_versions(name, [a.version for a in deleted])
        return PurgeResult(purge_time, tuple(deleted), tuple(spared), dry_run)

    @aws_call
    def purge_artifact(self, name: str) -> None:
        """Permanently remove every version, alias and history entry of one artifact.

        >>> repo.purge_artifact("app")
        >>> repo.list_artifact_names(), repo.get_newest_version("app")
        ([], None)
        """
        layout.validate_name(name)
        self._delete_objects(self._artifact_prefix(name))
        self._purge_records(name)

    @aws_call
    def purge_all(self) -> None:
        """Permanently remove everything under the prefix (and every item of the table).

        >>> repo.purge_all()
        >>> repo.list_artifact_names()
        []
        """
        self._delete_objects(self.s3_prefix + "/" if self.s3_prefix else "")
        self._purge_records(None)
