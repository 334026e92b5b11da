"""Backend ``s3-dynamodb``: content in S3, version and alias records in one DynamoDB table.

Keys: S3 ``{prefix}/{name}/LATEST{suffix}`` and ``{prefix}/{name}/000001{suffix}``; items
``pk={name}, sk=LATEST|000001`` (``update_at``, ``sha256``, ``is_deleted``) and
``pk=__{name}-alias, sk={alias}`` (``version``, ``secondary_version``,
``secondary_version_weight``, ``update_at``). Our alias history lives under
``pk=__{name}-alias-history``, which the peer library never queries. A version being
published is first claimed as a soft-deleted item, so it is invisible until its content exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .. import history, layout, transfer
from ..aws_failures import KEY_MISSING, endpoint_name, error_code
from ..errors import ArtifactNotFound, Conflict, MalformedResponse, VersionNotFound
from ..models import AliasRecord, AliasTarget, Artifact, HistoryEntry, utc_now
from ..publishing import Claim, Tip
from ..repository import LATEST, Repository
from ..transfer import ObjectInfo
from .dynamodb_models import AliasItem, ArtifactItem, bind, timeouts

_CONFLICT_CODES = ("ConditionalCheckFailedException", "TransactionCanceledException")
DELETE_WORKERS = 8
# What PynamoDB raises reading an answer that lacks what the API always sends (a Query page
# without its Count, an UpdateItem without the item's Attributes) or an item it cannot load
# (an AttributeDeserializationError is a TypeError).
_UNREADABLE_ANSWER = (KeyError, TypeError)
# What decoding a stored value (a version, a target, a history entry) raises when it is none.
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError)
_T = TypeVar("_T")
_M = TypeVar("_M", bound=Model)


def _is_conflict(err: PynamoDBException) -> bool:
    return getattr(err, "cause_response_code", None) in _CONFLICT_CODES


class S3DynamoDBRepository(Repository):
    """Artifacts in one S3 bucket and prefix, their version and alias records in one table."""

    backend = "s3-dynamodb"
    objects_are_records = False
    _aws_errors = (*Repository._aws_errors, PynamoDBException)

    def __init__(self, s3_bucket: str, *args: Any, dynamodb_table_name: str, **kwargs: Any):
        super().__init__(s3_bucket, *args, **kwargs)
        self.dynamodb_table_name = layout.validate_table(dynamodb_table_name)
        self._Item, self._Artifact, self._Alias, self._History = bind(
            self.dynamodb_table_name, self.aws
        )
        self._connection = Connection(
            region=self.aws.region, host=self.aws.dynamodb_endpoint, **timeouts(self.aws)
        )

    def _error_context(self) -> dict[str, Any]:
        return {
            **super()._error_context(),
            "table": self.dynamodb_table_name,
            "s3_endpoint": self.aws.s3_endpoint,
            "dynamodb_endpoint": self.aws.dynamodb_endpoint,
        }

    def _malformed(self, what: str, lacking: str, operation: str = "") -> MalformedResponse:
        """The error of an answer (to ``operation``) about ``what`` that lacks ``lacking``."""
        endpoint = endpoint_name("dynamodb", self.aws.dynamodb_endpoint)
        table = f"DynamoDB table {self.dynamodb_table_name!r}"
        if operation:
            return MalformedResponse(
                f"{endpoint} answered {operation} on {table} for {what} without {lacking}"
            )
        return MalformedResponse(f"{endpoint} gave {what} in {table} without {lacking}")

    def _read(self, results: Iterable[_T], what: str) -> Iterator[_T]:
        """The items of a Query as PynamoDB pages through them; a page it cannot read (an
        answer without its Items and Count) is a MalformedResponse about ``what``."""
        iterator = iter(results)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except _UNREADABLE_ANSWER as err:
                raise self._malformed(what, f"a page it can read ({err!r})", "Query") from err
            yield item

    def _update(self, item: Any, what: str, **kwargs: Any) -> None:
        """``item.update(...)``: PynamoDB reads the item back from the answer, which must
        carry it (its Attributes)."""
        try:
            item.update(**kwargs)
        except _UNREADABLE_ANSWER as err:
            raise self._malformed(what, f"the item's Attributes ({err!r})", "UpdateItem") from err

    def _get_item(self, model: type[_M], pk: str, sk: str, what: str) -> _M | None:
        """``model.get(pk, sk)`` (consistently), or None when there is no such item, told
        apart from an answer that says nothing: DynamoDB answers a missing item with ``{}``,
        never with an empty body."""
        hash_key, range_key = model._serialize_keys(pk, sk)  # as Model.get does
        data = model._get_connection().get_item(hash_key, range_key=range_key, consistent_read=True)
        item = (data or {}).get("Item")
        if item:
            return model.from_raw_data(item)
        headers = (data or {}).get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if headers.get("content-length") == "0":
            raise self._malformed(what, "a body (a missing item is answered {})", "GetItem")
        return None

    def _check_publishable(self) -> None:
        transfer.enforcement(self.server, self.s3_bucket, self.s3_prefix)  # probed once here

    def _where(self) -> str:
        return f"table {self.dynamodb_table_name!r}"

    def object_key(self, name: str, version: str) -> str:
        return layout.join_key(self.s3_prefix, name, layout.version_sk(version) + self.suffix)

    def _bootstrap_records(self) -> None:
        if not self._Item.exists():
            self._Item.create_table(wait=True, billing_mode=PAY_PER_REQUEST_BILLING_MODE)

    # ----- versions -----------------------------------------------------------------------

    def _to_artifact(self, item: ArtifactItem) -> Artifact:
        version = layout.version_from_sk(item.sk)
        if item.update_at is None:  # null=False, yet PynamoDB loads an item without it
            raise self._malformed(f"the item of version {version} of {item.pk!r}", "its update_at")
        return Artifact(
            name=item.pk,
            version=version,
            update_at=item.update_at,
            s3uri=self.s3uri(item.pk, version),
            sha256=item.sha256 or "",  # none: unknown
            size=None if item.size is None else int(item.size),
        )

    def _stored(self, name: str, version: str) -> ArtifactItem | None:
        """The version's item as stored (visible, deleted or claimed), or None."""
        what = f"version {version} of {name!r}"
        return self._get_item(self._Artifact, name, layout.version_sk(version), what)

    def _item(self, name: str, version: str) -> ArtifactItem | None:
        """The version's item if it is visible."""
        item = self._stored(name, version)
        return None if item is None or item.is_deleted else item

    def _get(self, name: str, version: str) -> Artifact:
        if version == LATEST:
            latest = self._latest(name)
            if latest is None:
                raise ArtifactNotFound(name, self._where())
            return latest
        item = self._item(name, version)
        if item is None:
            raise VersionNotFound(name, version)
        return self._to_artifact(item)

    def _latest(self, name: str) -> Artifact | None:
        """LATEST as its object holds it, its record repaired where the two disagree.

        A put writes the object, then the record; a put that died in between, or two puts
        that raced, leave a record naming other bytes. The object is the truth, so LATEST is
        read from both and the record is rewritten from the object when they differ.
        """
        item = self._item(name, LATEST)
        try:
            info = transfer.head(self.s3, self.s3_bucket, self.object_key(name, LATEST))
        except ClientError as err:
            if error_code(err) in KEY_MISSING:
                return None  # a missing bucket shows on the upload that follows
            raise
        stale = item is None or item.sha256 != info.sha256
        if stale and (item is None or info.sha256):  # never a known sha256 for an unknown one
            with contextlib.suppress(PynamoDBException):  # a reader may lack PutItem: still read
                self._record_latest(name, info)
        return self._artifact(name, LATEST, info, changed=False)

    def _list_versions(self, name: str) -> list[Artifact]:
        items = self._Artifact.query(
            name,
            scan_index_forward=False,
            consistent_read=True,
            # a DynamoDB condition, not a comparison (as in every ``== True`` below)
            filter_condition=self._Artifact.is_deleted == False,  # noqa: E712
        )
        return [self._to_artifact(item) for item in self._read(items, f"the versions of {name!r}")]

    def _newest(self, name: str, like: ObjectInfo | None = None) -> Tip:
        if like is not None:  # what is published must have a known sha256
            transfer.require_sha256(self.s3, self.s3_bucket, like)
        items = self._Artifact.query(
            name, scan_index_forward=False, consistent_read=True, page_size=2
        )
        for item in self._read(items, f"the newest version of {name!r}"):
            if item.sk == LATEST:
                continue
            if not item.is_deleted:
                return Tip(self._to_artifact(item), int(item.sk))
            claim = None
            if item.pending:
                if item.update_at is None:  # the lease of a claim runs from it
                    raise self._malformed(f"the claim item {item.sk} of {name!r}", "its update_at")
                claim = Claim(int(item.sk), item.owner, item.sha256 or "", item.update_at)
            return Tip(None, int(item.sk), claim)
        return Tip(None, 0)

    def _record_latest(self, name: str, info: ObjectInfo) -> None:
        self._Artifact(
            pk=name,
            sk=LATEST,
            update_at=info.last_modified,
            sha256=info.sha256 or "",  # an object another tool wrote may carry none
            size=info.size,
            is_deleted=False,
        ).save()

    def _claimed_by(self, name: str, number: int, owner: str) -> bool:
        """Does ``owner`` hold the claim on ``number``? (After a conditional write failed.)"""
        item = self._stored(name, str(number))
        return item is not None and bool(item.pending) and item.owner == owner

    def _reserve(self, name: str, number: int, sha256: str, owner: str) -> bool:
        claim = self._Artifact(
            pk=name,
            sk=layout.version_sk(str(number)),
            update_at=utc_now(),
            sha256=sha256,
            is_deleted=True,
            pending=True,
            owner=owner,
        )
        try:
            claim.save(condition=self._Artifact.pk.does_not_exist())
        except PynamoDBException as err:
            if _is_conflict(err):
                return self._claimed_by(name, number, owner)  # a retry of our own claim?
            raise
        return True

    def _take_over(self, name: str, claim: Claim, sha256: str, owner: str) -> bool:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(claim.number)))
        what = f"the claim of version {claim.number} of {name!r}"
        seen = (
            self._Artifact.owner.does_not_exist()
            if claim.owner is None
            else self._Artifact.owner == claim.owner
        )
        try:
            self._update(
                item,
                what,
                actions=[
                    self._Artifact.owner.set(owner),
                    self._Artifact.sha256.set(sha256),
                    self._Artifact.update_at.set(utc_now()),
                ],
                condition=seen
                & (self._Artifact.update_at == claim.claimed_at)
                & (self._Artifact.pending == True),  # noqa: E712 - a DynamoDB condition
            )
        except PynamoDBException as err:
            if _is_conflict(err):
                return self._claimed_by(name, claim.number, owner)
            raise
        return True

    def _commit(self, name: str, number: int, info: ObjectInfo) -> None:
        # Whoever calls this describes the object now at the version's key, which was created
        # once with If-None-Match: a repeat, or a second writer, writes the same values.
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        self._update(
            item,
            f"version {number} of {name!r}",
            actions=[
                self._Artifact.is_deleted.set(False),
                self._Artifact.update_at.set(info.last_modified),
                self._Artifact.sha256.set(info.sha256 or ""),
                self._Artifact.size.set(info.size),
                self._Artifact.pending.remove(),
            ],
            condition=self._Artifact.pk.exists()
            & (
                (self._Artifact.pending == True)  # noqa: E712
                | (self._Artifact.sha256 == (info.sha256 or ""))
            ),
        )

    def _abandon(self, name: str, number: int) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        self._update(
            item,
            f"the claim of version {number} of {name!r}",
            actions=[self._Artifact.pending.remove()],
            condition=self._Artifact.pk.exists(),
        )

    def _release(self, name: str, number: int, owner: str) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        ours = (self._Artifact.owner == owner) & (self._Artifact.pending == True)  # noqa: E712
        # Best effort: a claim left behind is taken over once its lease is over.
        with contextlib.suppress(PynamoDBException):
            item.delete(condition=ours)

    def _delete_version(self, name: str, version: str) -> None:
        self._delete_versions(name, [version])

    def _delete_versions(self, name: str, versions: list[str]) -> None:
        # soft deletes (the layout's is_deleted), each one idempotent UpdateItem, a few at a
        # time: a transaction would save requests but bills every item twice
        def delete(version: str) -> None:
            self._update(
                self._Artifact(pk=name, sk=layout.version_sk(version)),
                f"version {version} of {name!r}",
                actions=[self._Artifact.is_deleted.set(True)],
                condition=self._Artifact.pk.exists(),
            )

        with ThreadPoolExecutor(max_workers=DELETE_WORKERS) as pool:
            list(pool.map(delete, versions))

    # ----- aliases ------------------------------------------------------------------------

    def _target(self, item: AliasItem) -> AliasTarget:
        secondary = item.secondary_version
        weight = item.secondary_version_weight
        name = item.pk.removeprefix("__").removesuffix("-alias")
        what = f"the item of alias {item.sk!r} of {name!r}"
        if item.version is None:  # null=False, yet PynamoDB loads an item without it
            raise self._malformed(what, "its version")
        try:
            return AliasTarget(
                layout.version_from_sk(item.version),
                None if secondary is None else layout.version_from_sk(secondary),
                None if weight is None else int(weight),
            )
        except _UNREADABLE as err:  # a version that is no number
            raise self._malformed(what, f"a version this tool can read ({err})") from err

    def _read_alias(self, name: str, alias: str) -> AliasRecord | None:
        item = self._get_item(
            self._Alias, layout.alias_pk(name), alias, f"alias {alias!r} of {name!r}"
        )
        if item is None:
            return None
        target = self._target(item)
        if item.update_at is None:  # the token of every conditional move of the alias
            raise self._malformed(f"the item of alias {alias!r} of {name!r}", "its update_at")
        entry: str | None = item.entry
        previous: AliasTarget | None = None
        if entry:
            try:
                previous = history.decode_target(item.previous)
            except _UNREADABLE:  # damaged: as for an alias that names no change, a rollback
                entry = None  # reads what it replaced from the history entries
        return AliasRecord(
            target=target,
            token=item.update_at,
            update_at=item.update_at,
            entry=entry,
            previous=previous,
            request=item.request,
        )

    def _write_alias(
        self,
        name: str,
        alias: str,
        target: AliasTarget | None,
        token: object,
        entry: HistoryEntry,
    ) -> datetime:
        # One transaction moves the alias and writes its entry: neither exists without the
        # other. The alias item names its entry, so a retry that fails its condition after
        # the transaction landed is recognised by the next read.
        condition = (
            self._Alias.pk.does_not_exist() if token is None else self._Alias.update_at == token
        )
        record = self._History(
            pk=layout.history_pk(name),
            sk=f"{alias}#{history.oldest_first_key(entry)}",
            entry=history.encode_entry(entry),
        )
        try:
            with TransactWrite(connection=self._connection, client_request_token=entry.id) as tx:
                if target is None:
                    tx.delete(self._Alias(pk=layout.alias_pk(name), sk=alias), condition=condition)
                else:
                    item = self._Alias(
                        pk=layout.alias_pk(name),
                        sk=alias,
                        update_at=entry.changed_at,
                        version=layout.version_sk(target.version),
                        secondary_version=None
                        if target.secondary_version is None
                        else layout.version_sk(target.secondary_version),
                        secondary_version_weight=target.secondary_version_weight,
                        entry=entry.id,
                        previous=history.encode_target(entry.previous),
                        request=entry.request,
                    )
                    tx.save(item, condition=condition)
                tx.save(record, condition=self._History.pk.does_not_exist())
        except PynamoDBException as err:
            if _is_conflict(err):
                raise Conflict(f"alias {alias!r} of {name!r} changed concurrently") from err
            raise
        return entry.changed_at

    def _list_alias_records(self, name: str) -> list[tuple[str, AliasTarget, datetime]]:
        items = self._Alias.query(layout.alias_pk(name), consistent_read=True)
        records = []
        for item in self._read(items, f"the aliases of {name!r}"):
            if item.update_at is None:
                raise self._malformed(f"the item of alias {item.sk!r} of {name!r}", "its update_at")
            records.append((item.sk, self._target(item), item.update_at))
        return records

    def _history(self, name: str, alias: str, limit: int) -> list[HistoryEntry]:
        items = self._History.query(
            layout.history_pk(name),
            self._History.sk.startswith(f"{alias}#"),
            scan_index_forward=False,
            consistent_read=True,
            limit=limit,
        )
        entries = []
        for item in self._read(items, f"the history of alias {alias!r} of {name!r}"):
            try:
                entries.append(history.decode_entry(item.entry))
            except _UNREADABLE as err:
                raise MalformedResponse(
                    f"the history item sk={item.sk!r} of {name!r} in DynamoDB table "
                    f"{self.dynamodb_table_name!r} holds no entry this tool can read "
                    f"({type(err).__name__}: {err})",
                    hint=(
                        "Check that nothing between this tool and the endpoint alters its "
                        "answers; if the item itself is damaged, restore it or delete it"
                    ),
                ) from err
        return entries

    def _purge_records(self, name: str | None) -> None:
        if name is None:
            scanned = self._Item.scan(attributes_to_get=["pk", "sk"])
            keys = [(i.pk, i.sk) for i in self._read(scanned, "every item")]
        else:
            keys = [
                (item.pk, item.sk)
                for pk in (name, layout.alias_pk(name), layout.history_pk(name))
                for item in self._read(
                    self._Item.query(pk, attributes_to_get=["pk", "sk"]), f"the items of {pk!r}"
                )
            ]
        with self._Item.batch_write() as batch:
            for pk, sk in keys:
                batch.delete(self._Item(pk=pk, sk=sk))
