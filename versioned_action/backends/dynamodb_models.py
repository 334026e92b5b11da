"""The PynamoDB models of backend ``s3-dynamodb``, the peer library's schema, bound to a table.

``null=True`` attributes may read as None, which PynamoDB's types do not show.
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.models import MetaProtocol, Model

from ..aws import AwsSettings, session_credentials


class Item(Model):
    """Any item of the table: the keys alone."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ArtifactItem(Item):
    """A version's record: ``pk={name}, sk=LATEST|000001``."""

    update_at = UTCDateTimeAttribute()
    is_deleted = BooleanAttribute(default=False)
    sha256 = UnicodeAttribute()
    # ours (the peer ignores them): a claimed number whose content is coming, who claimed
    # it, and the object's size
    pending = BooleanAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)


class AliasItem(Item):
    """An alias: ``pk=__{name}-alias, sk={alias}``."""

    update_at = UTCDateTimeAttribute()
    version = UnicodeAttribute()
    secondary_version = UnicodeAttribute(null=True)
    secondary_version_weight = NumberAttribute(null=True)
    # ours (the peer ignores them): the history entry of the change that set the alias,
    # what it replaced, and the step that made it
    entry = UnicodeAttribute(null=True)
    previous = UnicodeAttribute(null=True)
    request = UnicodeAttribute(null=True)


class HistoryItem(Item):
    """One change of an alias (ours): ``pk=__{name}-alias-history, sk={alias}#{key}``."""

    entry = UnicodeAttribute()


def bind(
    table: str, aws: AwsSettings
) -> tuple[type[Item], type[ArtifactItem], type[AliasItem], type[HistoryItem]]:
    """The models bound to ``table``; each record model is also the bound :class:`Item`."""

    settings = {
        "table_name": table,
        "region": aws.region,
        "host": aws.dynamodb_endpoint,
        "billing_mode": PAY_PER_REQUEST_BILLING_MODE,
        **timeouts(aws),
    }

    def meta() -> MetaProtocol:
        # a class of its own per model, whose attributes are the settings: PynamoDB's ``Meta``
        return cast("MetaProtocol", type("Meta", (), dict(settings)))

    class TableItem(Item):
        Meta = meta()

    class TableArtifactItem(TableItem, ArtifactItem):
        Meta = meta()

    class TableAliasItem(TableItem, AliasItem):
        Meta = meta()

    class TableHistoryItem(TableItem, HistoryItem):
        Meta = meta()

    return TableItem, TableArtifactItem, TableAliasItem, TableHistoryItem


def timeouts(aws: AwsSettings) -> dict[str, Any]:
    """The same timeouts and retry budget as the S3 client, in PynamoDB's terms, and the keys
    of the caller's session when there is one (PynamoDB builds its own botocore session, so it
    takes a session's credentials as keys, not the session)."""
    return {
        "connect_timeout_seconds": aws.connect_timeout,
        "read_timeout_seconds": aws.read_timeout,
        "max_retry_attempts": aws.max_attempts - 1,
        **session_credentials(aws.session),
    }
