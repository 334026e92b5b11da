"""1.x's ``versioned.api.s3_and_dynamodb_backend`` over this project's ``s3-dynamodb``
backend: ``bsm`` last and optional in every method, ``update_at`` a datetime."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from .. import DEFAULT_PREFIX, DEFAULT_TABLE, layout, models
from ._adapter import AliasResult, ArtifactResult, RepositoryAdapter


@dataclasses.dataclass
class Artifact(ArtifactResult):
    name: str
    version: str
    update_at: datetime
    s3uri: str
    sha256: str


@dataclasses.dataclass
class Alias(AliasResult):
    name: str
    alias: str
    update_at: datetime
    version: str
    secondary_version: str | None
    secondary_version_weight: int | None
    version_s3uri: str
    secondary_version_s3uri: str | None


@dataclasses.dataclass
class Repository(RepositoryAdapter):
    aws_region: str
    s3_bucket: str
    s3_prefix: str = DEFAULT_PREFIX
    dynamodb_table_name: str = DEFAULT_TABLE
    suffix: str = ""

    backend = "s3-dynamodb"
    Artifact = Artifact
    Alias = Alias

    def bootstrap(
        self, bsm=None, dynamodb_write_capacity_units=None, dynamodb_read_capacity_units=None
    ) -> None:
        """Create the bucket and the table (on-demand billing: the capacities are unused)."""
        super().bootstrap(bsm=bsm)

    def get_artifact_s3path(self, name: str, version):
        """A version's object as an ``s3pathlib.S3Path`` (no request is made)."""
        uri = self.core(None).s3uri(name, layout.normalize_version(version))
        return models.s3path(uri)
