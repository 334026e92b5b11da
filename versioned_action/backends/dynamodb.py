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
from datetime import datetime, timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from .. import history, layout
from ..errors import ArtifactNotFound, Conflict, VersionNotFound
from ..models import AliasTarget, Artifact, HistoryEntry, utc_now
from ..repository import LATEST, Repository, Tip
from ..transfer import ObjectInfo

CLAIM_TTL = timedelta(minutes=15)  # a claim older than this belongs to a publisher that died
_CONFLICT_CODES = ("ConditionalCheckFailedException", "TransactionCanceledException")


def _models(table: str, region: str, host: str | None):
    """PynamoDB models bound to one table; the schema is the peer library's."""

    def meta():
        return type(
            "Meta",
            (),
            {
                "table_name": table,
                "region": region,
                "host": host,
                "billing_mode": PAY_PER_REQUEST_BILLING_MODE,
                "max_retry_attempts": 5,
            },
        )

    class Item(Model):
        Meta = meta()
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    class ArtifactItem(Item):
        Meta = meta()
        update_at = UTCDateTimeAttribute()
        is_deleted = BooleanAttribute(default=False)
        sha256 = UnicodeAttribute()
        pending = BooleanAttribute(null=True)  # ours: a claimed number whose content is coming

    class AliasItem(Item):
        Meta = meta()
        update_at = UTCDateTimeAttribute()
        version = UnicodeAttribute()
        secondary_version = UnicodeAttribute(null=True)
        secondary_version_weight = NumberAttribute(null=True)

    class HistoryItem(Item):
        Meta = meta()
        entry = UnicodeAttribute()

    return Item, ArtifactItem, AliasItem, HistoryItem


def _is_conflict(err: PynamoDBException) -> bool:
    return getattr(err, "cause_response_code", None) in _CONFLICT_CODES


class S3DynamoDBRepository(Repository):
    backend = "s3-dynamodb"
    aws_errors = (*Repository.aws_errors, PynamoDBException)

    def __init__(self, s3_bucket: str, *args, dynamodb_table_name: str, **kwargs):
        super().__init__(s3_bucket, *args, **kwargs)
        self.dynamodb_table_name = layout.validate_table(dynamodb_table_name)
        self._Item, self._Artifact, self._Alias, self._History = _models(
            self.dynamodb_table_name, self.aws.region, self.aws.dynamodb_endpoint
        )
        self._connection = Connection(region=self.aws.region, host=self.aws.dynamodb_endpoint)

    def error_context(self) -> dict:
        return {"bucket": self.s3_bucket, "table": self.dynamodb_table_name}

    def where(self) -> str:
        return f"table {self.dynamodb_table_name!r}"

    def object_key(self, name: str, version: str) -> str:
        return layout.join_key(self.s3_prefix, name, layout.version_sk(version) + self.suffix)

    def _bootstrap_records(self) -> None:
        if not self._Item.exists():
            self._Item.create_table(wait=True, billing_mode=PAY_PER_REQUEST_BILLING_MODE)

    # ----- versions -----------------------------------------------------------------------

    def _to_artifact(self, item) -> Artifact:
        version = layout.version_from_sk(item.sk)
        return Artifact(
            name=item.pk,
            version=version,
            update_at=item.update_at,
            s3uri=self.s3uri(item.pk, version),
            sha256=item.sha256,
        )

    def _get(self, name: str, version: str) -> Artifact:
        try:
            item = self._Artifact.get(name, layout.version_sk(version), consistent_read=True)
        except DoesNotExist:
            item = None
        if item is None or item.is_deleted:
            if version == LATEST:
                raise ArtifactNotFound(name, self.where())
            raise VersionNotFound(name, version)
        return self._to_artifact(item)

    def _latest(self, name: str) -> Artifact | None:
        try:
            return self._get(name, LATEST)
        except ArtifactNotFound:
            return None

    def _list_versions(self, name: str) -> list[Artifact]:
        items = self._Artifact.query(
            name,
            scan_index_forward=False,
            consistent_read=True,
            filter_condition=self._Artifact.is_deleted == False,  # noqa: E712 - a DynamoDB condition
        )
        return [self._to_artifact(item) for item in items]

    def _newest(self, name: str) -> Tip:
        for item in self._Artifact.query(
            name, scan_index_forward=False, consistent_read=True, page_size=2
        ):
            if item.sk == LATEST:
                continue
            if not item.is_deleted:
                return Tip(self._to_artifact(item), int(item.sk))
            fresh = item.pending and utc_now() - item.update_at < CLAIM_TTL
            return Tip(None, int(item.sk), item.sha256 if fresh else None)
        return Tip(None, 0)

    def _record_latest(self, name: str, info: ObjectInfo) -> None:
        self._Artifact(
            pk=name,
            sk=LATEST,
            update_at=info.last_modified,
            sha256=info.sha256,
            is_deleted=False,
        ).save()

    def _reserve(self, name: str, number: int, sha256: str) -> bool:
        claim = self._Artifact(
            pk=name,
            sk=layout.version_sk(str(number)),
            update_at=utc_now(),
            sha256=sha256,
            is_deleted=True,
            pending=True,
        )
        try:
            claim.save(condition=self._Artifact.pk.does_not_exist())
        except PynamoDBException as err:
            if _is_conflict(err):
                return False
            raise
        return True

    def _commit(self, name: str, number: int, info: ObjectInfo) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        item.update(
            actions=[
                self._Artifact.is_deleted.set(False),
                self._Artifact.update_at.set(info.last_modified),
                self._Artifact.pending.remove(),
            ],
            condition=self._Artifact.pk.exists(),
        )

    def _release(self, name: str, number: int) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        # a claim left behind is a harmless, invisible gap in the numbering
        with contextlib.suppress(PynamoDBException):
            item.delete(condition=self._Artifact.is_deleted == True)  # noqa: E712

    def _abandon(self, name: str, number: int) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(str(number)))
        item.update(actions=[self._Artifact.pending.remove()], condition=self._Artifact.pk.exists())

    def _delete_version(self, name: str, version: str) -> None:
        item = self._Artifact(pk=name, sk=layout.version_sk(version))
        item.update(
            actions=[self._Artifact.is_deleted.set(True)], condition=self._Artifact.pk.exists()
        )

    # ----- aliases ------------------------------------------------------------------------

    @staticmethod
    def _target(item) -> AliasTarget:
        secondary = item.secondary_version
        weight = item.secondary_version_weight
        return AliasTarget(
            layout.version_from_sk(item.version),
            None if secondary is None else layout.version_from_sk(secondary),
            None if weight is None else int(weight),
        )

    def _read_alias(self, name: str, alias: str):
        try:
            item = self._Alias.get(layout.alias_pk(name), alias, consistent_read=True)
        except DoesNotExist:
            return None, None, None
        return self._target(item), item.update_at, item.update_at

    def _write_alias(
        self, name: str, alias: str, target: AliasTarget | None, token, entry: HistoryEntry
    ) -> datetime:
        condition = (
            self._Alias.pk.does_not_exist() if token is None else self._Alias.update_at == token
        )
        record = self._History(
            pk=layout.history_pk(name),
            sk=f"{alias}#{history.oldest_first_token(entry.changed_at)}",
            entry=history.encode_entry(entry),
        )
        try:
            with TransactWrite(connection=self._connection) as tx:
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
                    )
                    tx.save(item, condition=condition)
                tx.save(record, condition=self._History.pk.does_not_exist())
        except PynamoDBException as err:
            if _is_conflict(err):
                raise Conflict(f"alias {alias!r} of {name!r} changed concurrently") from err
            raise
        return entry.changed_at

    def _list_alias_records(self, name: str):
        return [
            (item.sk, self._target(item), item.update_at)
            for item in self._Alias.query(layout.alias_pk(name), consistent_read=True)
        ]

    def _history(self, name: str, alias: str, limit: int) -> list[HistoryEntry]:
        items = self._History.query(
            layout.history_pk(name),
            self._History.sk.startswith(f"{alias}#"),
            scan_index_forward=False,
            consistent_read=True,
            limit=limit,
        )
        return [history.decode_entry(item.entry) for item in items]

    def _purge_records(self, name: str | None) -> None:
        if name is None:
            keys = [(i.pk, i.sk) for i in self._Item.scan(attributes_to_get=["pk", "sk"])]
        else:
            keys = [
                (item.pk, item.sk)
                for pk in (name, layout.alias_pk(name), layout.history_pk(name))
                for item in self._Item.query(pk, attributes_to_get=["pk", "sk"])
            ]
        with self._Item.batch_write() as batch:
            for pk, sk in keys:
                batch.delete(self._Item(pk=pk, sk=sk))
