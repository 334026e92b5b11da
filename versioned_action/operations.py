"""The operations shared by the GitHub Action and the CLI: run a request, shape a result."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import LATEST, archive, open_repository, results
from .errors import AliasNotFound, NotFound
from .models import Alias, Artifact
from .request import Request
from .syntax import run_hint

if TYPE_CHECKING:
    from .repository import Repository


@dataclasses.dataclass
class Result:
    """What an operation did, in the shape of the action's outputs."""

    operation: str
    name: str | None = None
    version: str | None = None
    s3_uri: str | None = None
    sha256: str | None = None
    size: int | None = None
    changed: bool = False
    alias: str | None = None
    previous_version: str | None = None
    secondary_version: str | None = None
    secondary_weight: int | None = None
    secondary_s3_uri: str | None = None
    path: str | None = None
    deleted_versions: list[str] | None = None
    dry_run: bool = False
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result document (``result.schema.json``): the action's ``result`` output and
        the CLI's ``--json`` both print this."""
        return results.document(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    def headline(self) -> str:
        """One sentence a person reads in the log and the summary."""
        name, version = self.name or "", self.version or ""
        dry = " (dry run: nothing changed)" if self.dry_run else ""
        if self.operation == "put":
            text = f"{name} {version}: " + ("uploaded" if self.changed else "unchanged")
            if self.details.get("archive"):
                text += f" (a {self.details['archive']} of the directory)"
        elif self.operation == "publish":
            text = f"{name} version {version}: " + ("published" if self.changed else "unchanged")
        elif self.operation in ("promote", "rollback"):
            target = version
            if self.secondary_version:
                share = self.secondary_weight or 0
                target = f"{version} ({100 - share}%) + {self.secondary_version} ({share}%)"
            verb = "now points at" if self.changed or self.dry_run else "already points at"
            text = f"{name} alias {self.alias} {verb} {target}"
            if self.previous_version and self.previous_version != version:
                text += f" (was {self.previous_version})"
        elif self.operation == "get":
            text = f"{name} version {version}" + (f" written to {self.path}" if self.path else "")
        elif self.operation == "list" and not name:
            text = "repository: " + _count(len(self.details.get("artifacts", [])), "artifact")
        elif self.operation == "list":
            versions = [v["version"] for v in self.details.get("versions", [])]
            published = sum(v != LATEST for v in versions)
            text = f"{name}: " + _count(published, "published version")
            text += " and LATEST" if LATEST in versions else ""
        elif self.operation == "history":
            count = len(self.details.get("entries", []))
            text = f"{name} alias {self.alias}: " + (
                f"{count} recorded change{'s' if count != 1 else ''}, newest first"
                if count
                else "no recorded changes"
            )
        elif self.operation == "delete-alias":
            if self.previous_version is None:
                text = f"{name} alias {self.alias} does not exist: nothing to delete"
            else:
                verb = "would be deleted" if self.dry_run else "deleted"
                text = f"{name} alias {self.alias} {verb} (was {self.previous_version})"
        else:
            text = f"{name}: purged " + _count(len(self.deleted_versions or []), "version")
        if self.alias and self.operation in ("put", "publish"):
            text += f"; alias {self.alias} -> {version}"
        return text + dry

    def outputs(self) -> dict[str, str]:
        """Every output of action.yml, as strings (empty when it does not apply)."""

        def text(value: object) -> str:
            return "" if value is None else str(value)

        return {
            "version": text(self.version),
            "s3-uri": text(self.s3_uri),
            "sha256": text(self.sha256),
            "digest": f"sha256:{self.sha256}" if self.sha256 else "",
            "size": text(self.size),
            "changed": "true" if self.changed else "false",
            "alias": text(self.alias),
            "previous-version": text(self.previous_version),
            "secondary-version": text(self.secondary_version),
            "secondary-weight": text(self.secondary_weight),
            "secondary-s3-uri": text(self.secondary_s3_uri),
            "path": text(self.path),
            "deleted-versions": ""
            if self.deleted_versions is None
            else json.dumps(self.deleted_versions),
            "history": json.dumps(self.details["entries"], sort_keys=True)
            if self.operation == "history"
            else "",
            "result": self.to_json(),
        }


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _from_artifact(result: Result, artifact: Artifact) -> None:
    result.name = artifact.name
    result.version = artifact.version
    result.s3_uri = artifact.s3uri
    result.sha256 = artifact.sha256 or None  # unknown for an object another tool wrote
    result.size = artifact.size


def _alias_result(request: Request, alias: Alias) -> Result:
    """The result of moving an alias (promote, rollback); a dry run changes nothing."""
    result = Result(request.operation, name=request.name, dry_run=request.dry_run)
    _from_alias(result, alias)
    result.changed = alias.changed and not request.dry_run
    return result


def _from_alias(result: Result, alias: Alias) -> None:
    result.alias = alias.alias
    result.version = alias.version
    result.s3_uri = alias.version_s3uri
    result.secondary_version = alias.secondary_version
    result.secondary_weight = alias.secondary_version_weight
    result.secondary_s3_uri = alias.secondary_version_s3uri
    result.previous_version = alias.previous.version if alias.previous else None
    result.sha256 = alias.sha256
    result.size = alias.size
    result.changed = result.changed or alias.changed


def run(request: Request, repo: Repository | None = None) -> Result:
    """Carry out a validated request against the repository it names."""
    settings = request.settings
    if repo is None:
        repo = open_repository(
            settings.backend,
            bucket=settings.bucket,
            prefix=settings.prefix,
            suffix=settings.suffix,
            table=settings.table,
            region=settings.region,
            endpoint_url=settings.endpoint_url,
        )
    if settings.create_resources:
        repo.bootstrap()
    return _RUNNERS[request.operation](repo, request)


def _promote_chained(repo: Repository, request: Request, result: Result, version: str) -> None:
    if request.alias:
        alias = repo.put_alias(
            request.name,
            request.alias,
            version,
            actor=request.actor,
            reason=request.reason,
            request=request.step,
        )
        result.alias = alias.alias
        result.previous_version = alias.previous.version if alias.previous else None
        result.changed = result.changed or alias.changed


def _run_put(repo: Repository, request: Request) -> Result:
    path = request.path
    assert path is not None, "parse requires a path for put"
    if request.archive is None:
        return _put(repo, request, path)
    with archive.temporary(path, request.archive_mtime) as tar:
        return _put(repo, request, tar)


def _put(repo: Repository, request: Request, content: Path) -> Result:
    result = Result("put")
    name = request.name
    args = (name, content, request.content_type, dict(request.metadata), dict(request.tags))
    if request.publish:
        latest, stored = repo.put_and_publish(*args)
        _from_artifact(result, stored)
        result.size = latest.size
        result.changed = latest.changed or stored.changed
        result.details = {"latest": results.written(latest), "published": results.written(stored)}
    else:
        latest = stored = repo.put_artifact(*args)
        _from_artifact(result, latest)
        result.changed = latest.changed
        result.details = {"latest": results.written(latest), "published": None}
    result.details["archive"] = request.archive
    _promote_chained(repo, request, result, stored.version)
    return result


def _run_publish(repo: Repository, request: Request) -> Result:
    result = Result("publish")
    version = repo.publish_artifact_version(request.name)
    _from_artifact(result, version)
    result.changed = version.changed
    _promote_chained(repo, request, result, version.version)
    return result


def _newest_published(repo: Repository, name: str) -> str:
    newest = repo.get_newest_version_number(name)
    if newest is None:
        raise NotFound(
            f"artifact {name!r} has no published version",
            hint="Publish one first: " + run_hint("publish", name=name),
        )
    return newest


def _run_promote(repo: Repository, request: Request) -> Result:
    name = request.name
    if request.from_alias:
        version = repo.get_alias(name, request.from_alias).version
    else:
        version = request.version or _newest_published(repo, name)
    alias = repo.put_alias(
        name,
        request.alias,
        version,
        request.secondary_version,
        request.secondary_weight,
        expected_version=request.expected_version,
        actor=request.actor,
        reason=request.reason,
        request=request.step,
        dry_run=request.dry_run,
    )
    return _alias_result(request, alias)


def _run_rollback(repo: Repository, request: Request) -> Result:
    alias, restored = repo.rollback_restoring(
        request.name,
        request.alias,
        request.version,
        expected_version=request.expected_version,
        actor=request.actor,
        reason=request.reason,
        request=request.step,
        dry_run=request.dry_run,
    )
    result = _alias_result(request, alias)
    result.details = {"restored_entry": results.entry(restored)}
    return result


def _run_get(repo: Repository, request: Request) -> Result:
    name = request.name
    result = Result("get", name=name)
    version = request.version or LATEST
    if request.alias:
        alias = repo.get_alias(name, request.alias)
        _from_alias(result, alias)
        version = alias.version
    if request.path:
        artifact = repo.download_artifact(name, request.path, version=version)
        result.path = str(request.path)
    else:
        artifact = repo.get_artifact_version(name, version)
    _from_artifact(result, artifact)
    return result


def _run_list(repo: Repository, request: Request) -> Result:
    result = Result("list", name=request.name or None)
    if not request.name:
        result.details = {"artifacts": repo.list_artifact_names()}
        return result
    versions = repo.list_artifact_versions(request.name)
    aliases = repo.list_aliases(request.name)
    numbered = [v for v in versions if v.version != LATEST]
    if numbered:
        _from_artifact(result, numbered[0])
    result.details = {
        "versions": [results.version(v) for v in versions],
        "aliases": [results.alias(a) for a in aliases],
    }
    return result


def _run_purge(repo: Repository, request: Request) -> Result:
    purged = repo.purge_artifact_versions(
        request.name,
        keep_last_n=request.keep_last,
        purge_older_than_secs=request.older_than,
        dry_run=request.dry_run,
    )
    result = Result("purge", name=request.name, dry_run=request.dry_run)
    result.deleted_versions = [a.version for a in purged.deleted]
    result.changed = bool(purged.deleted) and not request.dry_run
    result.details = {
        "kept_for_aliases": list(purged.kept_for_aliases),
        "purged_at": purged.purge_time.isoformat(),
    }
    return result


def _run_history(repo: Repository, request: Request) -> Result:
    name, alias = request.name, request.alias
    result = Result("history", name=name, alias=alias)
    entries = repo.get_alias_history(name, alias, request.limit)
    if entries:
        newest = entries[0].new
        result.version = newest.version if newest else None
    else:  # no recorded change: the alias must exist (AliasNotFound names it otherwise)
        result.version = repo.get_alias(name, alias).version
    result.details = {"entries": [results.entry(entry) for entry in entries]}
    return result


def _run_delete_alias(repo: Repository, request: Request) -> Result:
    """Deleting an alias that does not exist changes nothing, so a re-run succeeds. With
    ``expected-version`` the library raises Conflict instead (it cannot point there), unless
    this is a re-run of the deletion that removed the alias (``request.step`` names it)."""
    result = Result("delete-alias", name=request.name, alias=request.alias)
    result.dry_run = request.dry_run
    try:
        entry = repo.delete_alias(
            request.name,
            request.alias,
            expected_version=request.expected_version,
            actor=request.actor,
            reason=request.reason,
            request=request.step,
            dry_run=request.dry_run,
        )
    except AliasNotFound:
        result.details = {"previous": None, "entry": None}
        return result
    result.previous_version = entry.previous.version if entry.previous else None
    result.changed = not request.dry_run
    result.details = {
        "previous": results.target(entry.previous),
        "entry": None if request.dry_run else results.entry(entry),
    }
    return result


_RUNNERS: dict[str, Callable[[Repository, Request], Result]] = {
    "put": _run_put,
    "publish": _run_publish,
    "promote": _run_promote,
    "rollback": _run_rollback,
    "get": _run_get,
    "list": _run_list,
    "purge": _run_purge,
    "history": _run_history,
    "delete-alias": _run_delete_alias,
}
