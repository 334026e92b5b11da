"""Backend ``s3``: content, version records (object metadata) and aliases (JSON) all in S3.

Keys: ``{prefix}/{name}/versions/000000_LATEST{suffix}``, ``.../999999_000001{suffix}``,
``{prefix}/{name}/aliases/{alias}.json``; our history sits in ``{prefix}/{name}/history/``,
a folder the peer library never lists.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .. import history, layout, transfer
from ..aws_failures import KEY_MISSING, PRECONDITION_FAILED, error_code
from ..errors import ArtifactNotFound, Conflict, InvalidInput, VersionedError, VersionNotFound
from ..models import AliasRecord, AliasTarget, Artifact, HistoryEntry
from ..publishing import Tip
from ..repository import LATEST, Repository
from ..transfer import ObjectInfo

# Metadata of an alias object (the peer reads only its body): the change that set it.
_META_ENTRY = "alias_entry"
_META_PREVIOUS = "alias_previous"
_META_REQUEST = "alias_request"


class S3Repository(Repository):
    """Artifacts in one S3 bucket and prefix: S3 alone holds content, records and aliases."""

    backend = "s3"

    def object_key(self, name: str, version: str) -> str:
        filename = layout.s3only_filename(version) + self.suffix
        return layout.join_key(self.s3_prefix, name, "versions", filename)

    def _versions_prefix(self, name: str) -> str:
        return layout.join_key(self.s3_prefix, name, "versions") + "/"

    def _alias_key(self, name: str, alias: str) -> str:
        return layout.join_key(self.s3_prefix, name, "aliases", f"{alias}.json")

    def _history_prefix(self, name: str, alias: str) -> str:
        return layout.join_key(self.s3_prefix, name, "history", alias) + "/"

    def _missing(self, name: str, version: str) -> VersionedError:
        return (
            ArtifactNotFound(name, self._where())
            if version == LATEST
            else VersionNotFound(name, version)
        )

    # ----- versions -----------------------------------------------------------------------

    def _get(self, name: str, version: str) -> Artifact:
        info = self._head(self.object_key(name, version), self._missing(name, version))
        return self._artifact(name, version, info, changed=False)

    def _latest(self, name: str) -> Artifact | None:
        try:
            info = transfer.head(self.s3, self.s3_bucket, self.object_key(name, LATEST))
        except ClientError as err:
            if error_code(err) in KEY_MISSING:
                return None  # a missing bucket shows on the upload that follows
            raise
        return self._artifact(name, LATEST, info, changed=False)

    def _version_objects(
        self, name: str, max_keys: int | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(version, listed object) of every version, in S3's order: LATEST, then newest."""
        prefix = self._versions_prefix(name)
        found: list[tuple[str, dict[str, Any]]] = []
        kwargs: dict[str, Any] = {"Bucket": self.s3_bucket, "Prefix": prefix}
        if max_keys:
            kwargs["PaginationConfig"] = {"MaxItems": max_keys, "PageSize": max_keys}
        for page in self.s3.get_paginator("list_objects_v2").paginate(**kwargs):
            for obj in page.get("Contents", []):
                version = layout.s3only_version_from_filename(
                    obj["Key"][len(prefix) :], self.suffix
                )
                if version is not None:
                    found.append((version, obj))
        return found

    def _list_versions(self, name: str) -> list[Artifact]:
        listed = self._version_objects(name)
        with ThreadPoolExecutor(max_workers=8) as pool:
            infos = list(
                pool.map(lambda vo: transfer.head(self.s3, self.s3_bucket, vo[1]["Key"]), listed)
            )
        return [
            self._artifact(name, version, info, changed=False)
            for (version, _), info in zip(listed, infos, strict=True)
        ]

    def _listed(self, name: str, version: str, obj: dict[str, Any], sha256: str = "") -> Artifact:
        """A version as its listing shows it: no sha256 unless the caller knows it."""
        return Artifact(
            name=name,
            version=version,
            update_at=obj["LastModified"],
            s3uri=self.s3uri(name, version),
            sha256=sha256,
            size=obj["Size"],
        )

    def _top(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """The newest version's listed object (keys sort newest first, after LATEST)."""
        listed = self._version_objects(name, max_keys=10)
        return next(((v, obj) for v, obj in listed if v != LATEST), None)

    def _numbered(self, name: str) -> list[Artifact]:
        return [
            self._listed(name, version, obj)
            for version, obj in self._version_objects(name)
            if version != LATEST
        ]

    def _newest_number(self, name: str) -> str | None:
        top = self._top(name)
        return top[0] if top else None

    def _delete_versions(self, name: str, versions: list[str]) -> None:
        self._delete_keys([self.object_key(name, version) for version in versions])

    def _newest(self, name: str, like: ObjectInfo | None = None) -> Tip:
        top = self._top(name)
        if top is None:
            return Tip(None, 0)
        version, obj = top
        if like is not None and obj["Size"] != like.size:
            return Tip(None, int(version))  # other bytes than ``like``: no HEAD needed
        if like is not None and like.sha256 and obj["ETag"] == like.etag:
            # the listing shows the ETag of the object we hold: the same bytes, so the same
            # sha256, known without a HEAD
            return Tip(self._listed(name, version, obj, like.sha256), int(version))
        return Tip(self._get(name, version), int(version))

    def _delete_version(self, name: str, version: str) -> None:
        if version == LATEST:
            raise InvalidInput("version", "LATEST cannot be deleted in the s3 backend")
        self.s3.delete_object(Bucket=self.s3_bucket, Key=self.object_key(name, version))

    # ----- aliases ------------------------------------------------------------------------

    def _read_alias(self, name: str, alias: str) -> AliasRecord | None:
        try:
            response = self.s3.get_object(Bucket=self.s3_bucket, Key=self._alias_key(name, alias))
        except ClientError as err:
            if error_code(err) in KEY_MISSING:
                return None
            raise
        document = layout.decode_alias_document(response["Body"].read())
        meta = response.get("Metadata") or {}
        entry = meta.get(_META_ENTRY)
        return AliasRecord(
            target=AliasTarget(**document),
            token=response["ETag"],
            update_at=response["LastModified"],
            entry=entry,
            previous=history.decode_target(meta[_META_PREVIOUS]) if entry else None,
            request=meta.get(_META_REQUEST),
        )

    def _write_alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget | None,
        token: object,
        entry: HistoryEntry,
    ) -> datetime:
        # The entry goes first: every alias move then has the entry rollback and audits need.
        # A run that dies before the move leaves an entry no alias names, which readers skip
        # (history.committed). The alias object's metadata names its entry and what it
        # replaced, so a rollback needs the alias alone and a retry can recognise its write.
        self.s3.put_object(
            Bucket=self.s3_bucket,
            Key=self._history_prefix(name, alias) + history.newest_first_key(entry) + ".json",
            Body=history.encode_entry(entry).encode(),
            ContentType="application/json",
        )  # the key is unique to this change: a retried write rewrites the same bytes
        key = self._alias_key(name, alias)
        if target is None:
            return self._delete_alias_object(name, alias, key, token)
        body = layout.encode_alias_document(
            name,
            alias,
            target.version,
            target.secondary_version,
            target.secondary_version_weight,
            self.s3uri(name, target.version),
            None
            if target.secondary_version is None
            else self.s3uri(name, target.secondary_version),
        )
        metadata = {_META_ENTRY: entry.id, _META_PREVIOUS: history.encode_target(entry.previous)}
        if entry.request:
            metadata[_META_REQUEST] = entry.request
        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
        try:
            response = self.s3.put_object(
                Bucket=self.s3_bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                Metadata=metadata,
                **condition,
            )
        except ClientError as err:
            if error_code(err) in PRECONDITION_FAILED:
                raise Conflict(f"alias {alias!r} of {name!r} changed concurrently") from err
            raise
        return transfer.response_time(response)

    def _delete_alias_object(self, name: str, alias: str, key: str, token: object) -> datetime:
        """Delete the alias object only if it is still the one read (S3's conditional delete);
        a 412, or a 404 because it is gone already, is a Conflict: the caller reads again."""
        try:
            response = self.s3.delete_object(Bucket=self.s3_bucket, Key=key, IfMatch=token)
        except ClientError as err:
            if error_code(err) in PRECONDITION_FAILED or error_code(err) == "NoSuchKey":
                raise Conflict(f"alias {alias!r} of {name!r} changed concurrently") from err
            if error_code(err) != "NotImplemented":
                raise
            # An S3-compatible store without conditional deletes: the plain delete it knows.
            response = self.s3.delete_object(Bucket=self.s3_bucket, Key=key)
        return transfer.response_time(response)

    def _list_alias_records(self, name: str) -> list[tuple[str, AliasTarget, datetime]]:
        prefix = layout.join_key(self.s3_prefix, name, "aliases") + "/"
        records: list[tuple[str, AliasTarget, datetime]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.s3_bucket, Prefix=prefix
        ):
            for obj in page.get("Contents", []):
                alias = obj["Key"][len(prefix) :]
                if not alias.endswith(".json") or "/" in alias:
                    continue
                body = self.s3.get_object(Bucket=self.s3_bucket, Key=obj["Key"])["Body"].read()
                target = AliasTarget(**layout.decode_alias_document(body))
                records.append((alias[: -len(".json")], target, obj["LastModified"]))
        return records

    def _history(self, name: str, alias: str, limit: int) -> list[HistoryEntry]:
        response = self.s3.list_objects_v2(
            Bucket=self.s3_bucket, Prefix=self._history_prefix(name, alias), MaxKeys=limit
        )
        return [
            history.decode_entry(
                self.s3.get_object(Bucket=self.s3_bucket, Key=obj["Key"])["Body"].read()
            )
            for obj in response.get("Contents", [])
        ]

    def _purge_records(self, name: str | None) -> None:
        """Everything lives under the prefix, which the caller already emptied."""
