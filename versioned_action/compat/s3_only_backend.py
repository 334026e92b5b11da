"""1.x's ``versioned.api.s3_only_backend`` over this project's ``s3`` backend: ``bsm`` first
in every method, ``update_at`` an ISO 8601 string."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from .. import DEFAULT_PREFIX
from ._adapter import AliasResult, ArtifactResult, RepositoryAdapter, translated


class _Dict:
    """1.x's ``to_dict`` / ``from_dict`` of the S3-only results."""

    @classmethod
    def from_dict(cls, dct: dict):
        return cls(**dct)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def update_datetime(self) -> datetime:
        return datetime.fromisoformat(self.update_at)


@dataclasses.dataclass
class Artifact(_Dict, ArtifactResult):
    name: str
    version: str
    update_at: str
    s3uri: str
    sha256: str


@dataclasses.dataclass
class Alias(_Dict, AliasResult):
    name: str
    alias: str
    update_at: str
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
    suffix: str = ""

    backend = "s3"
    Artifact = Artifact
    Alias = Alias

    def _time(self, value: datetime) -> str:
        return value.isoformat()

    def bootstrap(self, bsm) -> None:
        super().bootstrap(bsm=bsm)

    @translated
    def get_latest_published_artifact_version_number(self, bsm, name: str) -> int:
        """The newest published version's number; 0 before the first publish."""
        return int(self.core(bsm).get_newest_version_number(name) or 0)

    def put_artifact(
        self, bsm, name: str, content, content_type=None, metadata=None, tags=None
    ) -> Artifact:
        return super().put_artifact(name, content, content_type, metadata, tags, bsm=bsm)

    def get_artifact_version(self, bsm, name: str, version=None) -> Artifact:
        return super().get_artifact_version(name, version, bsm=bsm)

    def list_artifact_versions(self, bsm, name: str) -> list[Artifact]:
        return super().list_artifact_versions(name, bsm=bsm)

    def publish_artifact_version(self, bsm, name: str) -> Artifact:
        return super().publish_artifact_version(name, bsm=bsm)

    def delete_artifact_version(self, bsm, name: str, version) -> None:
        super().delete_artifact_version(name, version, bsm=bsm)

    def list_artifact_names(self, bsm) -> list[str]:
        return super().list_artifact_names(bsm=bsm)

    def put_alias(
        self,
        bsm,
        name: str,
        alias: str,
        version=None,
        secondary_version=None,
        secondary_version_weight=None,
    ) -> Alias:
        return super().put_alias(
            name, alias, version, secondary_version, secondary_version_weight, bsm=bsm
        )

    def get_alias(self, bsm, name: str, alias: str) -> Alias:
        return super().get_alias(name, alias, bsm=bsm)

    def list_aliases(self, bsm, name: str) -> list[Alias]:
        return super().list_aliases(name, bsm=bsm)

    def delete_alias(self, bsm, name: str, alias: str) -> None:
        super().delete_alias(name, alias, bsm=bsm)

    def purge_artifact_versions(
        self, bsm, name: str, keep_last_n: int = 10, purge_older_than_secs: int = 7776000
    ) -> tuple[datetime, list[Artifact]]:
        return super().purge_artifact_versions(name, keep_last_n, purge_older_than_secs, bsm=bsm)

    def purge_artifact(self, bsm, name: str) -> None:
        super().purge_artifact(name, bsm=bsm)

    def purge_all(self, bsm) -> None:
        super().purge_all(bsm=bsm)
