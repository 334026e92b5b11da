"""Validated requests: the action's inputs (or the CLI's options) as one typed value.

Both front ends hand raw strings, named like the action's inputs, to :func:`parse`, which
checks every one of them before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import BACKENDS, DEFAULT_PREFIX, DEFAULT_TABLE, archive, aws, layout
from .errors import InvalidInput
from .syntax import input_hint

OPERATIONS = (
    "put",
    "publish",
    "promote",
    "rollback",
    "get",
    "list",
    "purge",
    "history",
    "delete-alias",
)
TRUE, FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")
PROVENANCE = ("GITHUB_SHA", "GITHUB_REF_NAME", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_ACTOR")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_UNPRINTABLE = re.compile(r"[^ -~]|#")  # "#" ends the step's identity: the attempt follows

# Which operation-specific inputs each operation accepts (the common ones always apply).
COMMON = (
    "operation",
    "backend",
    "bucket",
    "prefix",
    "table",
    "aws-region",
    "endpoint-url",
    "suffix",
    "create-resources",
    "name",
)
ACCEPTS = {
    "put": ("path", "content-type", "metadata", "tags", "provenance", "publish", "alias"),
    "publish": ("alias",),
    "promote": (
        "alias",
        "version",
        "from-alias",
        "secondary-version",
        "secondary-weight",
        "expected-version",
        "dry-run",
    ),
    "rollback": ("alias", "version", "expected-version", "dry-run"),
    "get": ("alias", "version", "path"),
    "list": (),
    "purge": ("keep-last", "older-than", "dry-run"),
    "history": ("alias", "limit"),
    "delete-alias": ("alias", "expected-version", "dry-run"),
}
# The ``default:`` of action.yml's operation-specific inputs. The runner passes a default to
# every step, so an operation that does not use an input ignores it at this value (any other
# value is still an error).
DEFAULTS = {
    "provenance": "true",
    "publish": "false",
    "keep-last": "10",
    "older-than": "90d",
    "dry-run": "false",
    "limit": "20",
}
MAX_HISTORY = 1000
_Inputs = Mapping[str, str]  # the raw strings, by input name
_Fields = dict[str, Any]  # the Request's fields as they are checked


def step_identity(context: Mapping[str, str]) -> str:
    """``repository/run/job/step#attempt`` of a workflow step, the request id of its alias
    changes (see :mod:`versioned_action.rollback`).

    Everything before ``#`` is the same in every attempt of a run, and in every command of
    one ``run:`` step; ``#attempt`` is ``GITHUB_RUN_ATTEMPT``. Without a valid attempt there
    is no ``#attempt``, and no change of the step is ever taken for a re-run's.
    """
    parts = [context.get(v, "") for v in ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_JOB")]
    parts.append(context.get("GITHUB_ACTION", ""))
    identity = _UNPRINTABLE.sub("?", "/".join(parts))[:512]
    attempt = context.get("GITHUB_RUN_ATTEMPT", "")
    if attempt.isascii() and attempt.isdecimal() and len(attempt) <= 9 and int(attempt) > 0:
        identity += f"#{int(attempt)}"
    return identity


def parse_bool(field: str, value: str, default: bool) -> bool:
    """Booleans as the Actions toolkit reads them; anything else is an error."""
    if value == "":
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InvalidInput(field, f"{value!r} is not one of true, True, TRUE, false, False, FALSE")


def parse_mapping(field: str, value: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (blank lines and ``#`` comments skipped) or a JSON object."""
    text = value.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            data: dict[str, Any] = json.loads(text)  # text starting with "{" is an object
        except json.JSONDecodeError as err:
            raise InvalidInput(field, f"not valid JSON: {err.msg} at line {err.lineno}") from err
        if not all(isinstance(v, str) for v in data.values()):
            raise InvalidInput(field, "JSON values must be strings")
        return data
    result: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, item = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(field, f"line {number} {line!r} is not KEY=VALUE")
        if key.strip() in result:
            raise InvalidInput(field, f"key {key.strip()!r} is given twice")
        result[key.strip()] = item.strip()
    return result


def parse_duration(field: str, value: str) -> int:
    """``30s``, ``15m``, ``12h``, ``90d`` (or ``0``) as seconds."""
    if value.strip() == "0":
        return 0
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise InvalidInput(field, f"{value!r} is not a duration like 30s, 15m, 12h or 90d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_int(field: str, value: str, low: int, high: int) -> int:
    """A whole number in ``low..high``; anything else is an error."""
    if not value.strip().isdecimal() or not value.isascii() or not low <= int(value) <= high:
        raise InvalidInput(field, f"{value!r} is not a whole number {low}..{high}")
    return int(value)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Where the repository lives."""

    backend: str = "s3"
    bucket: str = ""
    prefix: str = DEFAULT_PREFIX
    table: str = DEFAULT_TABLE
    region: str | None = None
    endpoint_url: str | None = None
    suffix: str = ""
    create_resources: bool = False


@dataclasses.dataclass(frozen=True)
class Request:
    """One validated operation; fields an operation does not use stay at their defaults."""

    operation: str
    settings: Settings
    name: str = ""  # empty only for a list of every artifact
    path: Path | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    publish: bool = False
    alias: str = ""  # empty: no alias
    version: str | None = None
    from_alias: str | None = None
    secondary_version: str | None = None
    secondary_weight: int | None = None
    expected_version: str | None = None
    keep_last: int = 10
    older_than: int = 90 * 86400
    dry_run: bool = False
    limit: int = 20
    archive: str | None = None  # "tar": ``path`` is a directory, put as a tar of it
    archive_mtime: int = 0
    actor: str | None = None
    reason: str | None = None
    step: str | None = None  # the workflow step and attempt (step_identity), for re-runs


def parse(values: Mapping[str, str], context: Mapping[str, str] | None = None) -> Request:
    """Validate raw input strings (named as the action's inputs) into a :class:`Request`.

    ``context`` is the GitHub environment (``GITHUB_*``) for provenance and history.
    """
    context = context or {}
    get = {
        k: (v or "").strip() if k not in ("metadata", "tags") else (v or "")
        for k, v in values.items()
    }
    operation = get.get("operation", "")
    if operation not in OPERATIONS:
        raise InvalidInput("operation", f"{operation!r} is not one of {', '.join(OPERATIONS)}")
    for key, value in get.items():
        if key in COMMON or key in ACCEPTS[operation]:
            continue
        if value and value != DEFAULTS.get(key):
            raise InvalidInput(key, f"is not used by operation {operation!r}; remove it")

    backend = get.get("backend") or "s3"
    if backend not in BACKENDS:
        raise InvalidInput("backend", f"{backend!r} is not one of {', '.join(BACKENDS)}")
    if not get.get("bucket"):
        raise InvalidInput("bucket", "required: the S3 bucket that holds the artifacts")
    # The same rules AwsSettings.resolve applies, so a bad value fails here, named as an input.
    endpoint = aws.check_endpoint(get["endpoint-url"]) if get.get("endpoint-url") else None
    custom = bool(endpoint or any(context.get(v) for v in aws.S3_ENDPOINT_VARIABLES))
    region = aws.check_region(get["aws-region"], custom) if get.get("aws-region") else None
    settings = Settings(
        backend=backend,
        bucket=layout.validate_bucket(get["bucket"]),
        prefix=layout.validate_prefix(get.get("prefix") or DEFAULT_PREFIX),
        table=layout.validate_table(get.get("table") or DEFAULT_TABLE),
        region=region,
        endpoint_url=endpoint,
        suffix=layout.validate_suffix(get.get("suffix", "")),
        create_resources=parse_bool("create-resources", get.get("create-resources", ""), False),
    )
    fields: _Fields = {"operation": operation, "settings": settings}
    name = get.get("name", "")
    if name or operation != "list":
        fields["name"] = layout.validate_name(name)
    if get.get("alias"):
        fields["alias"] = layout.validate_alias(get["alias"])
    for key in ("version", "secondary-version", "expected-version"):
        if get.get(key):
            fields[key.replace("-", "_")] = layout.normalize_version(get[key], key)
    if get.get("from-alias"):
        fields["from_alias"] = layout.validate_alias(get["from-alias"])
    fields["dry_run"] = parse_bool("dry-run", get.get("dry-run", ""), False)
    fields["actor"] = context.get("GITHUB_ACTOR") or None
    run_id = context.get("GITHUB_RUN_ID")
    if run_id:
        fields["reason"] = f"{context.get('GITHUB_REPOSITORY', '')} run {run_id}".strip()
        fields["step"] = step_identity(context)

    check = _CHECKS[operation]
    check(get, fields, context)
    return Request(**fields)


def _path(get: _Inputs) -> Path:
    """The ``path`` input; refused with a line break in it, which the runner would read back
    otherwise in the ``path`` output (it ends a line at a lone CR too)."""
    value = get["path"]
    if "\r" in value or "\n" in value:
        raise InvalidInput(
            "path", f"{value!r} holds a line break (CR or LF); give the file a name without one"
        )
    return Path(value)


def _check_put(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if not get.get("path"):
        raise InvalidInput("path", "required for put: the file or directory to upload")
    path = _path(get)
    if path.is_dir():
        archive.scan(path)  # a link out of the tree fails here, before any request
        fields["archive"] = archive.FORMAT
        fields["archive_mtime"] = archive.source_date_epoch(context)
        guessed = archive.CONTENT_TYPE
    elif path.is_file():
        guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    else:
        raise InvalidInput(
            "path",
            f"{get['path']!r} is not a file or directory (paths are relative to the workspace)",
        )
    fields["path"] = path
    fields["content_type"] = layout.validate_content_type(get.get("content-type") or guessed)
    metadata = parse_mapping("metadata", get.get("metadata", ""))
    if "archive" in fields:
        if any(key.lower() == archive.METADATA_KEY for key in metadata):
            raise InvalidInput(
                "metadata", f"{archive.METADATA_KEY!r} is set by this tool for a directory"
            )
        metadata[archive.METADATA_KEY] = archive.FORMAT
    if parse_bool("provenance", get.get("provenance", ""), True):
        for variable in PROVENANCE:
            if context.get(variable):
                metadata.setdefault(variable.lower(), context[variable])
    layout.validate_metadata(fields["name"], metadata)
    fields["metadata"] = metadata
    fields["tags"] = layout.validate_tags(parse_mapping("tags", get.get("tags", "")))
    fields["publish"] = parse_bool("publish", get.get("publish", ""), False)


def _int_input(get: _Inputs, field: str, low: int, high: int) -> int:
    return parse_int(field, get.get(field) or DEFAULTS[field], low, high)


def _check_publish(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    pass


def _check_promote(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if "alias" not in fields:
        raise InvalidInput("alias", "required for promote: the alias to move")
    if fields.get("version") and fields.get("from_alias"):
        raise InvalidInput("from-alias", f"cannot be combined with {input_hint('version')}")
    if fields.get("from_alias") == fields["alias"]:
        raise InvalidInput("from-alias", "must name another alias than the one promoted")
    weight = get.get("secondary-weight", "")
    fields["secondary_weight"] = parse_int("secondary-weight", weight, 0, 99) if weight else None
    if fields.get("secondary_version") and fields["secondary_weight"] is None:
        raise InvalidInput(
            "secondary-weight", f"required with {input_hint('secondary-version')} (0..99)"
        )
    if fields["secondary_weight"] is not None and not fields.get("secondary_version"):
        raise InvalidInput(
            "secondary-weight", f"needs {input_hint('secondary-version')} to send traffic to"
        )


def _check_rollback(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if "alias" not in fields:
        raise InvalidInput("alias", "required for rollback: the alias to roll back")


def _check_get(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if fields.get("alias") and fields.get("version"):
        raise InvalidInput("version", f"cannot be combined with {input_hint('alias')}")
    if get.get("path"):
        path = _path(get)
        if path.is_dir():
            raise InvalidInput("path", f"{get['path']!r} is a directory; name the file to write")
        fields["path"] = path


def _check_list(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    pass


def _check_purge(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    fields["keep_last"] = _int_input(get, "keep-last", 0, layout.MAX_VERSION)
    fields["older_than"] = parse_duration(
        "older-than", get.get("older-than") or DEFAULTS["older-than"]
    )


def _check_history(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if "alias" not in fields:
        raise InvalidInput("alias", "required for history: the alias whose changes to show")
    fields["limit"] = _int_input(get, "limit", 1, MAX_HISTORY)


def _check_delete_alias(get: _Inputs, fields: _Fields, context: _Inputs) -> None:
    if "alias" not in fields:
        raise InvalidInput("alias", "required for delete-alias: the alias to delete")


_CHECKS: dict[str, Callable[[_Inputs, _Fields, _Inputs], None]] = {
    "put": _check_put,
    "publish": _check_publish,
    "promote": _check_promote,
    "rollback": _check_rollback,
    "get": _check_get,
    "list": _check_list,
    "purge": _check_purge,
    "history": _check_history,
    "delete-alias": _check_delete_alias,
}
