"""The step summary: what an operation did, in the words a person reads at a glance.

Every value that comes from a workflow, a stored object or the environment goes through the
escaping helpers of :mod:`.commands`; every URL is built from URL-quoted parts.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .. import aws
from ..operations import Result
from ..progress import human_size
from ..request import Settings
from .commands import inline_code, markdown_text, table_code

MAX_ROWS = 100  # versions, artifacts or history entries shown; all are in the result output
SHA_PREFIX = 12
ALIAS_OPERATIONS = ("promote", "rollback", "delete-alias")
_Code = Callable[[str], str]  # inline_code or table_code: a value as a code span
_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~-]+)*/?")


def _quote(value: str, safe: str = "") -> str:
    return urllib.parse.quote(str(value), safe=safe)


@dataclasses.dataclass(frozen=True)
class Links:
    """Where the S3 console and the GitHub server are, when they can be linked to."""

    region: str | None = None  # None: not real AWS, or no region known; no console links
    server: str = "https://github.com"

    @classmethod
    def resolve(cls, settings: Settings | None, environ: Mapping[str, str]) -> Links:
        server = environ.get("GITHUB_SERVER_URL", "")
        server = server.rstrip("/") if _SERVER.fullmatch(server) else "https://github.com"
        custom = any(environ.get(v) for v in aws.S3_ENDPOINT_VARIABLES)
        if settings is None or settings.endpoint_url or custom:
            return cls(None, server)
        region = settings.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        if region and aws.region_problem(region, False):
            region = None
        return cls(region or None, server)

    def console(self, s3uri: str | None) -> str | None:
        """The S3 console page of the object at ``s3uri``."""
        if not self.region or not s3uri or not s3uri.startswith("s3://"):
            return None
        bucket, _, key = s3uri.removeprefix("s3://").partition("/")
        return (
            f"https://s3.console.aws.amazon.com/s3/object/{_quote(bucket)}"
            f"?region={_quote(self.region)}&prefix={_quote(key, '/')}"
        )

    def commit(self, repository: str, sha: str) -> str:
        return f"{self.server}/{_quote(repository, '/')}/commit/{_quote(sha)}"

    def run(self, repository: str, run_id: str) -> str:
        return f"{self.server}/{_quote(repository, '/')}/actions/runs/{_quote(run_id)}"


def _link(text: str, url: str | None) -> str:
    """``text`` (already escaped) linked to ``url`` (built from quoted parts), if any."""
    return f"[{text}]({url})" if url else text


def render(
    result: Result,
    outputs: Mapping[str, str],
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The markdown of a successful step: a headline, what changed, the outputs collapsed."""
    links = Links.resolve(settings, environ or {})
    lines = [f"### versioned-action {result.operation}", ""]
    if result.dry_run:
        lines += ["> **Dry run:** nothing was changed; this is what the step would do.", ""]
    body = _BODIES.get(result.operation, _facts)
    lines += body(result, links)
    lines += ["", *_outputs(outputs)]
    return "\n".join(lines) + "\n"


def changes_alias(result: Result) -> bool:
    """Did the step move or delete an alias (worth a notice)?"""
    if result.dry_run or not result.alias:
        return False
    if result.operation in ALIAS_OPERATIONS:
        return result.changed
    if result.operation in ("put", "publish"):
        return result.previous_version != result.version
    return False


# ----- pieces ---------------------------------------------------------------------------------


def _target(version: str | None, secondary: str | None = None, weight: int | None = None) -> str:
    """``42`` or ``42`` (90%); canary ``43`` at 10%, as markdown."""
    if secondary is None:
        return inline_code(str(version))
    share = int(weight or 0)
    return (
        f"{inline_code(str(version))} ({100 - share}%); "
        f"canary {inline_code(str(secondary))} at {share}%"
    )


def _stored(target: Mapping[str, Any] | None, code: _Code = inline_code) -> str | None:
    """A stored target (a history entry's ``previous`` or ``new``) as markdown, or None."""
    if not target:
        return None
    version, secondary = code(str(target.get("version"))), target.get("secondary_version")
    if secondary is None:
        return version
    share = int(target.get("secondary_weight") or 0)
    return f"{version} ({100 - share}%) + {code(str(secondary))} ({share}%)"


def _when(value: str | None) -> str:
    try:
        moment = datetime.fromisoformat(value or "")
    except (TypeError, ValueError):
        return markdown_text(str(value or ""))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return markdown_text(moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


def _size(size: int | None) -> str:
    if size is None:
        return ""
    return human_size(size) if size < 1024 else f"{human_size(size)} ({size:,} bytes)"


def _alias_line(result: Result) -> str:
    """How the step moved the alias, e.g. alias ``production``: ``41`` → ``42``."""
    alias = inline_code(result.alias or "")
    target = _target(result.version, result.secondary_version, result.secondary_weight)
    previous = result.previous_version
    if result.dry_run:
        now = f" (it points at {inline_code(previous)} now)" if previous else ""
        return f"alias {alias} would point at {target}{now}"
    moved = result.changed if result.operation in ALIAS_OPERATIONS else changes_alias(result)
    if not moved:
        return f"alias {alias}: already at {target}"
    if previous is None:
        return f"alias {alias}: created at {target}"
    if previous != result.version:
        return f"alias {alias}: {inline_code(previous)} → {target}"
    if result.secondary_version is None:  # same primary, and it moved: the canary is gone
        return f"alias {alias}: canary removed, all traffic to {target}"
    return f"alias {alias}: split changed to {target}"


def _object_facts(result: Result, links: Links) -> list[str]:
    """Version, size, sha256 prefix and S3 URI (with its console link) as list items."""
    facts = []
    if result.version:
        facts.append(f"- version {inline_code(result.version)}")
    if result.size is not None:
        facts.append(f"- size {markdown_text(_size(result.size))}")
    if result.sha256:
        facts.append(f"- sha256 {inline_code(result.sha256[:SHA_PREFIX])}")
    if result.s3_uri:
        console = links.console(result.s3_uri)
        facts.append(
            f"- {inline_code(result.s3_uri)}" + (f" ([S3 console]({console}))" if console else "")
        )
    if result.secondary_s3_uri:
        console = links.console(result.secondary_s3_uri)
        facts.append(
            f"- canary {inline_code(result.secondary_version or '')}: "
            f"{inline_code(result.secondary_s3_uri)}"
            + (f" ([S3 console]({console}))" if console else "")
        )
    return facts


def _change(entry: Mapping[str, Any], code: _Code = inline_code) -> str:
    """What one history entry did: ``41`` → ``42``, created at ``42``, ``42`` deleted."""
    before, after = _stored(entry.get("previous"), code), _stored(entry.get("new"), code)
    if before is None:
        return f"created at {after or '?'}"
    if after is None:
        return f"{before} deleted"
    return f"{before} → {after}"


def _entry_line(entry: Mapping[str, Any]) -> str:
    """Where a rollback's configuration comes from: the change that had set it."""
    parts = [f"Restores what history entry {inline_code(str(entry.get('id') or '(no id)'))} set"]
    parts.append(f"on {_when(entry.get('changed_at'))}")
    if entry.get("actor"):
        parts.append(f"by {inline_code(str(entry['actor']))}")
    if entry.get("reason"):
        parts.append(f"({markdown_text(str(entry['reason']))})")
    return " ".join(parts) + f": {_change(entry)}"


# ----- one body per operation -----------------------------------------------------------------


def _facts(result: Result, links: Links) -> list[str]:
    """put, publish, get, and anything without a body of its own."""
    lines = [f"**{markdown_text(result.headline())}**", ""]
    lines += _object_facts(result, links)
    if result.path:
        lines.append(f"- written to {inline_code(result.path)}")
    if result.alias and result.operation in ("put", "publish"):
        lines.append(f"- {_alias_line(result)}")
    elif result.alias:
        lines.append(f"- through alias {inline_code(result.alias)}")
    return lines


def _alias_change(result: Result, links: Links) -> list[str]:
    """promote and rollback: how the alias moved, and what it now points at."""
    lines = [f"**{inline_code(result.name or '')} {_alias_line(result)}**", ""]
    entry = result.details.get("restored_entry")
    if isinstance(entry, Mapping):
        lines += [_entry_line(entry), ""]
    return lines + _object_facts(result, links)


def _delete_alias(result: Result, links: Links) -> list[str]:
    previous = _stored(result.details.get("previous"))
    if previous is None and result.previous_version:
        previous = inline_code(result.previous_version)
    if previous is None:
        return [f"**{markdown_text(result.headline())}**"]
    verb = "would be deleted" if result.dry_run else "deleted"
    title = f"{inline_code(result.name or '')} alias {inline_code(result.alias or '')}"
    return [f"**{title} {verb} (was {previous})**", "", "The versions stay."]


def _history(result: Result, links: Links) -> list[str]:
    entries = result.details.get("entries", [])
    if not entries:
        return [f"**{markdown_text(result.headline())}**"]
    title = f"{inline_code(result.name or '')} alias {inline_code(result.alias or '')}"
    count = f"{len(entries)} recorded change" + ("s" if len(entries) != 1 else "")
    lines = [f"**{title}: {count}, newest first**", ""]
    lines += ["| when | change | actor | reason | entry |", "| --- | --- | --- | --- | --- |"]
    for entry in entries[:MAX_ROWS]:
        cells = [
            _when(entry.get("changed_at")),
            _change(entry, table_code),
            table_code(str(entry["actor"])) if entry.get("actor") else "",
            markdown_text(str(entry.get("reason") or "")),
            table_code(str(entry["id"])) if entry.get("id") else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + _more(len(entries), "entries")


def _list(result: Result, links: Links) -> list[str]:
    if "artifacts" in result.details:
        names = result.details["artifacts"]
        lines = [f"**{len(names)} artifacts**", ""]
        if names:
            lines += ["| artifact |", "| --- |"]
            lines += [f"| {table_code(name)} |" for name in names[:MAX_ROWS]]
        return lines + _more(len(names), "artifacts")
    versions = result.details.get("versions", [])
    aliases = result.details.get("aliases", [])
    lines = [
        f"**{inline_code(result.name or '')}: {len(versions)} versions, {len(aliases)} aliases**",
        "",
    ]
    if not versions:
        return lines
    shown = versions[:MAX_ROWS]
    provenance = any(_provenance(v, links) != ("", "") for v in shown)
    head = ["version", "size", "sha256", "created", "aliases"]
    head += ["commit", "run"] if provenance else []
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for version in shown:
        number = str(version.get("version"))
        cells = [
            _link(table_code(number), links.console(version.get("s3_uri"))),
            markdown_text(human_size(version["size"])) if version.get("size") is not None else "",
            table_code(version["sha256"][:SHA_PREFIX]) if version.get("sha256") else "",
            _when(version.get("updated_at")),
            ", ".join(_pointing_at(number, aliases)),
        ]
        if provenance:
            cells += _provenance(version, links)
        lines.append("| " + " | ".join(cells) + " |")
    return lines + _more(len(versions), "versions")


def _pointing_at(version: str, aliases: list[Mapping[str, Any]]) -> list[str]:
    """The aliases that send traffic to ``version``, with their share when split."""
    found = []
    for alias in aliases:
        weight = int(alias.get("secondary_weight") or 0)
        split = alias.get("secondary_version") is not None
        if str(alias.get("version")) == version:
            found.append(table_code(alias["alias"]) + (f" ({100 - weight}%)" if split else ""))
        if split and str(alias["secondary_version"]) == version:
            found.append(table_code(alias["alias"]) + f" ({weight}%)")
    return found


def _provenance(version: Mapping[str, Any], links: Links) -> tuple[str, str]:
    """Commit and run cells from a version's metadata (recorded by the action's put)."""
    meta = version.get("metadata") or {}
    repository, sha, run_id = (
        meta.get(k, "") for k in ("github_repository", "github_sha", "github_run_id")
    )
    commit = ""
    if sha:
        commit = _link(
            table_code(sha[:SHA_PREFIX]), links.commit(repository, sha) if repository else None
        )
        if meta.get("github_ref_name"):
            commit += f" on {table_code(meta['github_ref_name'])}"
    run = _link(markdown_text(run_id), links.run(repository, run_id) if repository else None)
    return commit, run if run_id else ""


def _purge(result: Result, links: Links) -> list[str]:
    deleted = result.deleted_versions or []
    kept = result.details.get("kept_for_aliases", [])
    verb = "would delete" if result.dry_run else "deleted"
    listed = ", ".join(inline_code(str(v)) for v in deleted[:MAX_ROWS]) or "none"
    lines = [f"**{markdown_text(result.headline())}**", "", f"- {verb}: {listed}"]
    if len(deleted) > MAX_ROWS:
        lines[-1] += f" and {len(deleted) - MAX_ROWS} more"
    if kept:
        lines.append("- kept for aliases: " + ", ".join(inline_code(str(v)) for v in kept))
    return lines


def _more(count: int, what: str) -> list[str]:
    if count <= MAX_ROWS:
        return []
    return ["", f"{MAX_ROWS} of {count} {what} shown; the `result` output holds all of them."]


def _outputs(outputs: Mapping[str, str]) -> list[str]:
    rows = [
        f"| {table_code(k)} | {table_code(v)} |" for k, v in outputs.items() if v and k != "result"
    ]
    return [
        "<details><summary>All outputs</summary>",
        "",
        "| output | value |",
        "| --- | --- |",
        *rows,
        "",
        "</details>",
    ]


_BODIES = {
    "promote": _alias_change,
    "rollback": _alias_change,
    "delete-alias": _delete_alias,
    "history": _history,
    "list": _list,
    "purge": _purge,
}
