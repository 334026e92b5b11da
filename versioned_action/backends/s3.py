"""Backend ``s3``: content, version records (object metadata) and aliases (JSON) all in S3.

Keys: ``{prefix}/{name}/versions/000000_LATEST{suffix}``, ``.../999999_000001{suffix}``,
``{prefix}/{name}/aliases/{alias}.json``; our history sits in ``{prefix}/{name}/history/``,
and, on endpoints whose copies are not conditional, the claims of version numbers in
``{prefix}/{name}/claims/``: folders the peer library never lists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import history, layout, transfer
from ..aws_failures import KEY_MISSING, PRECONDITION_FAILED, error_code
from ..errors import (
    ArtifactNotFound,
    Conflict,
    InvalidInput,
    MalformedResponse,
    VersionedError,
    VersionNotFound,
)
from ..models import AliasRecord, AliasTarget, Artifact, HistoryEntry, utc_now
from ..publishing import Claim, Tip
from ..repository import LATEST, Repository
from ..transfer import ObjectInfo

if TYPE_CHECKING:
    from ..server import Enforcement

# What every ListObjectsV2 answer carries (an answer with none of them, an empty body, says
# nothing about what is listed: it is not an empty listing).
_LISTING_FIELDS = ("IsTruncated", "KeyCount", "Contents", "Name", "Prefix", "MaxKeys")
# What reading a stored JSON document raises when it is not the document it should be.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError)


@dataclasses.dataclass(frozen=True)
class _NoToken:
    """The token of an alias read from an answer without an ETag: the alias can be read, but
    a move conditional on it cannot be made (``error`` says why)."""

    error: MalformedResponse


class S3Repository(Repository):
    """Artifacts in one S3 bucket and prefix: S3 alone holds content, records and aliases."""

    backend = "s3"

    def _error_context(self) -> dict[str, Any]:
        return {**super()._error_context(), "s3_endpoint": self.aws.s3_endpoint}

    def _enforcement(self) -> Enforcement:
        return transfer.enforcement(self.server, self.s3_bucket, self.s3_prefix)

    def _listing(self, page: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
        """The objects of one ListObjectsV2 page, each with its key and a LastModified (the
        answer's time where the endpoint gave none)."""
        if not any(field in page for field in _LISTING_FIELDS):
            raise transfer.missing(self.s3, "ListObjectsV2", self.s3_bucket, prefix, "a listing")
        when = transfer.response_time(page)
        return [
            {"LastModified": when, **obj}
            for obj in page.get("Contents") or []
            if isinstance(obj, dict) and isinstance(obj.get("Key"), str)
        ]

    def _unreadable(self, key: str, what: str, err: Exception) -> MalformedResponse:
        """A stored JSON document that does not read as ``what``."""
        return MalformedResponse(
            f"{layout.s3_uri(self.s3_bucket, key)} does not hold {what} this tool can read "
            f"({type(err).__name__}: {err})",
            hint=(
                "Check that nothing between this tool and the endpoint alters its answers; if "
                "the object itself is damaged, restore it from a backup or delete it"
            ),
        )

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
            for obj in self._listing(page, prefix):
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
        size = obj.get("Size")
        return Artifact(
            name=name,
            version=version,
            update_at=obj["LastModified"],  # _listing saw to it
            s3uri=self.s3uri(name, version),
            sha256=sha256,
            size=size if isinstance(size, int) else None,
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
        if like is not None:  # what is published must have a known sha256
            transfer.require_sha256(self.s3, self.s3_bucket, like)
        top = self._top(name)
        if top is None:
            return Tip(None, 0)
        version, obj = top
        if like is not None and isinstance(obj.get("Size"), int) and obj["Size"] != like.size:
            return Tip(None, int(version))  # other bytes than ``like``: no HEAD needed
        if like is not None and like.sha256 and layout.same_etag(obj.get("ETag"), like.etag):
            # the listing shows the ETag of the object we hold: the same bytes, so the same
            # sha256, known without a HEAD
            return Tip(self._listed(name, version, obj, like.sha256), int(version))
        return Tip(self._get(name, version), int(version))

    # ----- number claims, where a copy cannot take a number -------------------------------

    def _check_publishable(self) -> None:
        self._enforcement()
        self.server.require_conditional_put("publish versions")

    def _claims(self) -> bool:
        """Are numbers claimed before their version is written? Where CopyObject's conditions
        hold, the version's conditional create is the claim."""
        return not self._enforcement().copy_conditions

    def _claim_key(self, name: str, number: int) -> str:
        return self._claims_prefix(name) + layout.s3only_filename(str(number))

    def _claims_prefix(self, name: str) -> str:
        return layout.join_key(self.s3_prefix, name, "claims") + "/"

    def _pending_claim(self, name: str, above: int) -> Claim | None:
        if not self._claims():
            return None
        prefix = self._claims_prefix(name)
        response = self.s3.list_objects_v2(Bucket=self.s3_bucket, Prefix=prefix, MaxKeys=1)
        for obj in self._listing(response, prefix):  # newest first, as versions are
            version = layout.s3only_version_from_filename(obj["Key"][len(prefix) :], "")
            if version is not None and version != LATEST and int(version) > above:
                return self._read_claim(name, int(version))
        return None

    def _read_claim(self, name: str, number: int) -> Claim | None:
        try:
            response = self.s3.get_object(Bucket=self.s3_bucket, Key=self._claim_key(name, number))
        except ClientError as err:
            if error_code(err) in KEY_MISSING:
                return None
            raise
        try:
            data = json.loads(response["Body"].read())
            claimed_at = datetime.fromisoformat(data["claimed_at"])
        except _UNREADABLE:  # not ours, or damaged: a claim nobody owns
            data = {}
            claimed_at = response.get("LastModified") or transfer.response_time(response)
        if not isinstance(data, dict):
            data = {}
        return Claim(
            number,
            data.get("owner"),
            str(data.get("sha256") or ""),
            claimed_at,
            tag=response.get("ETag") or None,  # none: the claim cannot be taken over
        )

    def _write_claim(
        self, name: str, number: int, sha256: str, owner: str, **condition: str
    ) -> bool:
        """Create or replace the claim under ``condition``; False if it failed and the claim
        is not ours (a failure may answer the retry of our own write)."""
        body = {"owner": owner, "sha256": sha256, "claimed_at": utc_now().isoformat()}
        try:
            self.s3.put_object(
                Bucket=self.s3_bucket,
                Key=self._claim_key(name, number),
                Body=json.dumps(body).encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as err:
            if error_code(err) not in PRECONDITION_FAILED:
                raise
            claim = self._read_claim(name, number)
            return claim is not None and claim.owner == owner
        return True

    def _reserve(self, name: str, number: int, sha256: str, owner: str) -> bool:
        if not self._claims():
            return True
        return self._write_claim(name, number, sha256, owner, IfNoneMatch="*")

    def _take_over(self, name: str, claim: Claim, sha256: str, owner: str) -> bool:
        if claim.tag is None:
            return False
        condition = self.server.if_match(claim.tag)
        return self._write_claim(name, claim.number, sha256, owner, IfMatch=condition)

    def _release(self, name: str, number: int, owner: str) -> None:
        # Best effort: a claim left behind is taken over once its lease is over.
        with contextlib.suppress(ClientError, BotoCoreError):
            if not self._claims() or not self._enforcement().conditional_delete:
                return
            claim = self._read_claim(name, number)
            if claim is not None and claim.owner == owner and claim.tag is not None:
                self.s3.delete_object(
                    Bucket=self.s3_bucket,
                    Key=self._claim_key(name, number),
                    IfMatch=self.server.if_match(claim.tag),
                )

    def _delete_version(self, name: str, version: str) -> None:
        if version == LATEST:
            raise InvalidInput("version", "LATEST cannot be deleted in the s3 backend")
        self.s3.delete_object(Bucket=self.s3_bucket, Key=self.object_key(name, version))

    # ----- aliases ------------------------------------------------------------------------

    def _read_alias(self, name: str, alias: str) -> AliasRecord | None:
        key = self._alias_key(name, alias)
        try:
            response = self.s3.get_object(Bucket=self.s3_bucket, Key=key)
        except ClientError as err:
            if error_code(err) in KEY_MISSING:
                return None
            raise
        try:
            target = AliasTarget(**layout.decode_alias_document(response["Body"].read()))
        except _UNREADABLE as err:  # an InvalidInput too: a version that is none
            raise self._unreadable(key, f"an alias document of {alias!r}", err) from err
        meta = layout.read_metadata(response.get("Metadata"))
        entry = meta.get(layout.META_ALIAS_ENTRY)
        raw_previous = meta.get(layout.META_ALIAS_PREVIOUS)
        previous: AliasTarget | None = None
        if entry and raw_previous is not None:
            try:
                previous = history.decode_target(raw_previous)
            except _UNREADABLE:  # damaged: as for an alias that names no change, a rollback
                entry = raw_previous = None  # reads what it replaced from the history entries
        etag = response.get("ETag")
        token: object = etag or _NoToken(
            transfer.missing(self.s3, "GetObject", self.s3_bucket, key, "an ETag")
        )
        return AliasRecord(
            target=target,
            token=token,
            update_at=response.get("LastModified") or transfer.response_time(response),
            entry=entry if raw_previous is not None else None,
            previous=previous,
            request=meta.get(layout.META_ALIAS_REQUEST),
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
        if isinstance(token, _NoToken):  # before any write: no condition to write it under
            raise token.error
        self._enforcement()
        self.server.require_conditional_put("move aliases")
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
        metadata = {
            layout.META_ALIAS_ENTRY: entry.id,
            layout.META_ALIAS_PREVIOUS: history.encode_target(entry.previous),
        }
        if entry.request:
            metadata[layout.META_ALIAS_REQUEST] = entry.request
        condition = {"IfMatch": self.server.if_match(str(token))} if token else {"IfNoneMatch": "*"}
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
        """Delete the alias object only if it is still the one read; a 412, or a 404 because
        it is gone already, is a Conflict: the caller reads again.

        Where the endpoint ignores If-Match on DeleteObject (Ceph RGW), a conditional HEAD
        checks the object just before a plain delete: a move that lands between the two
        (milliseconds) is lost, which the README's table says.
        """
        condition = self.server.if_match(str(token))
        try:
            if not self._enforcement().conditional_delete:
                self.s3.head_object(Bucket=self.s3_bucket, Key=key, IfMatch=condition)
                response = self.s3.delete_object(Bucket=self.s3_bucket, Key=key)
            else:
                response = self.s3.delete_object(Bucket=self.s3_bucket, Key=key, IfMatch=condition)
        except ClientError as err:
            if error_code(err) in (*PRECONDITION_FAILED, *KEY_MISSING):
                raise Conflict(f"alias {alias!r} of {name!r} changed concurrently") from err
            raise
        return transfer.response_time(response)

    def _list_alias_records(self, name: str) -> list[tuple[str, AliasTarget, datetime]]:
        prefix = layout.join_key(self.s3_prefix, name, "aliases") + "/"
        records: list[tuple[str, AliasTarget, datetime]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.s3_bucket, Prefix=prefix
        ):
            for obj in self._listing(page, prefix):
                alias = obj["Key"][len(prefix) :]
                if not alias.endswith(".json") or "/" in alias:
                    continue
                body = self.s3.get_object(Bucket=self.s3_bucket, Key=obj["Key"])["Body"].read()
                try:
                    target = AliasTarget(**layout.decode_alias_document(body))
                except _UNREADABLE as err:
                    raise self._unreadable(obj["Key"], "an alias document", err) from err
                records.append((alias[: -len(".json")], target, obj["LastModified"]))
        return records

    def _history(self, name: str, alias: str, limit: int) -> list[HistoryEntry]:
        prefix = self._history_prefix(name, alias)
        response = self.s3.list_objects_v2(Bucket=self.s3_bucket, Prefix=prefix, MaxKeys=limit)
        entries = []
        for obj in self._listing(response, prefix):
            body = self.s3.get_object(Bucket=self.s3_bucket, Key=obj["Key"])["Body"].read()
            try:
                entries.append(history.decode_entry(body))
            except _UNREADABLE as err:
                raise self._unreadable(obj["Key"], f"a history entry of {alias!r}", err) from err
        return entries

    def _purge_records(self, name: str | None) -> None:
        """Everything lives under the prefix, which the caller already emptied."""
