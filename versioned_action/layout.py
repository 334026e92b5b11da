"""Pure encodings shared by both backends: validation, version keys, S3 keys, alias documents.

Everything here matches the storage layout of ``versioned`` 1.0.x byte for byte, so a
repository written by either tool is read by the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import InvalidInput

LATEST = "LATEST"
MAX_VERSION = 999_999
VERSION_WIDTH = 6
META_NAME = "artifact_name"
META_SHA256 = "artifact_sha256"
META_TOKEN = "artifact_write_token"  # ours: which publish created a version's object
# The alias object's metadata in the ``s3`` backend (the peer reads only its body).
META_ALIAS_ENTRY = "alias_entry"  # the change that set it
META_ALIAS_PREVIOUS = "alias_previous"  # what that change replaced
META_ALIAS_REQUEST = "alias_request"  # who asked for that change
# Every metadata key this tool writes. Some S3 stores (Ceph RGW) hand keys back with '-'
# where they were written with '_': readers take either spelling, writers use '_'.
OWN_METADATA = frozenset(
    {
        META_NAME,
        META_SHA256,
        META_TOKEN,
        META_ALIAS_ENTRY,
        META_ALIAS_PREVIOUS,
        META_ALIAS_REQUEST,
        "github_sha",
        "github_ref_name",
        "github_repository",
        "github_run_id",
        "github_actor",
    }
)
METADATA_LIMIT = 2048  # bytes of user metadata keys + values, S3's limit

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_META_KEY_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,127}")
_TAG_RE = re.compile(r"[\w .:/=+\-@]*", re.ASCII)
_CONTENT_TYPE_RE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;[ -~]*)?", re.ASCII)
_SUFFIX_RE = re.compile(r"(\.[A-Za-z0-9_-]+)*")
_PREFIX_RE = re.compile(r"[A-Za-z0-9!_.*'()/-]{0,512}")


# ----- validation ---------------------------------------------------------------------------


def validate_name(name: object) -> str:
    """Return the artifact name, or raise InvalidInput naming the rule it breaks."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("name", "the artifact name is required")
    if "/" in name or ".." in name:
        raise InvalidInput("name", f"{name!r} must not contain '/' or '..'")
    if not _NAME_RE.fullmatch(name):
        raise InvalidInput(
            "name",
            f"{name!r} must start with a letter or digit and use only letters, digits, "
            "'.', '_' and '-' (at most 128 characters)",
        )
    return name


def validate_alias(alias: object) -> str:
    """Alias names follow the seeds: not LATEST, no '-', start with a letter; plus a safe set."""
    if not isinstance(alias, str) or not alias:
        raise InvalidInput("alias", "the alias name is required")
    if alias == LATEST:
        raise InvalidInput("alias", f"{LATEST!r} is a version, not an alias name")
    if "-" in alias:
        raise InvalidInput("alias", f"{alias!r} must not contain '-' (use '_')")
    if not _ALIAS_RE.fullmatch(alias):
        raise InvalidInput(
            "alias",
            f"{alias!r} must start with a letter and use only letters, digits and '_' "
            "(at most 64 characters)",
        )
    return alias


def normalize_version(version: object, field: str = "version") -> str:
    """``None``/``"LATEST"`` -> ``"LATEST"``; ``3``/``"3"``/``"000003"`` -> ``"3"``."""
    if version is None:
        return LATEST
    if isinstance(version, bool):
        raise InvalidInput(field, f"{version!r} is not a version")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().upper() == LATEST:
        return LATEST
    elif isinstance(version, str) and version.strip().isdecimal() and version.strip().isascii():
        number = int(version.strip())
    else:
        raise InvalidInput(field, f"{version!r} is neither LATEST nor a number 1..{MAX_VERSION}")
    if not 1 <= number <= MAX_VERSION:
        raise InvalidInput(field, f"{number} is outside 1..{MAX_VERSION}")
    return str(number)


def validate_weight(version: str, secondary_version: str | None, weight: object) -> int | None:
    """Check a canary split; returns the weight (None without a secondary version)."""
    if secondary_version is None:
        if weight is not None:
            raise InvalidInput(
                "secondary-weight", "a weight needs a secondary-version to send traffic to"
            )
        return None
    if secondary_version == version:
        raise InvalidInput(
            "secondary-version", f"{secondary_version} is already the primary version"
        )
    if weight is None:
        raise InvalidInput("secondary-weight", "required with a secondary-version (0..99)")
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise InvalidInput("secondary-weight", f"{weight!r} is not an integer 0..99")
    if not 0 <= weight <= 99:
        raise InvalidInput("secondary-weight", f"{weight} is outside 0..99")
    return weight


def validate_metadata(name: str, metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return the full S3 user metadata (ours + the caller's), lower-cased as S3 stores it."""
    result: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInput("metadata", f"{key!r}: keys and values must be strings")
        lowered = key.lower()
        if lowered.replace("-", "_") in (META_NAME, META_SHA256, META_TOKEN):
            raise InvalidInput("metadata", f"{key!r} is reserved and set by this tool")
        if not _META_KEY_RE.fullmatch(lowered):
            raise InvalidInput(
                "metadata", f"key {key!r} may use only letters, digits, '_', '.' and '-'"
            )
        if not all(" " <= ch <= "~" for ch in value):
            raise InvalidInput(
                "metadata", f"value of {key!r} must be printable ASCII (S3 sends it as a header)"
            )
        if lowered in result:
            raise InvalidInput("metadata", f"key {key!r} is given twice (S3 keys ignore case)")
        result[lowered] = value
    result[META_NAME] = name
    result[META_SHA256] = "0" * 64
    result[META_TOKEN] = "0" * 16
    size = sum(len(k.encode()) + len(v.encode()) for k, v in result.items())
    if size > METADATA_LIMIT:
        raise InvalidInput(
            "metadata", f"{size} bytes with this tool's own keys; S3 allows {METADATA_LIMIT}"
        )
    del result[META_SHA256], result[META_TOKEN]
    return result


def validate_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """S3 object tags: at most 10, keys up to 128 and values up to 256 of S3's characters."""
    tags = dict(tags or {})
    if len(tags) > 10:
        raise InvalidInput("tags", f"{len(tags)} given; S3 allows at most 10 per object")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInput("tags", f"{key!r}: keys and values must be strings")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidInput("tags", f"{key!r}: key 1..128 and value 0..256 characters")
        if not (_TAG_RE.fullmatch(key) and _TAG_RE.fullmatch(value)):
            raise InvalidInput(
                "tags", f"{key!r}: use letters, digits, spaces and + - = . _ : / @ only"
            )
        if key.lower().startswith("aws:"):
            raise InvalidInput("tags", f"{key!r}: the aws: prefix is reserved")
    return tags


def validate_content_type(content_type: str | None) -> str | None:
    """A MIME type like ``type/subtype`` (parameters allowed), or None."""
    if content_type is None or content_type == "":
        return None
    if not _CONTENT_TYPE_RE.fullmatch(content_type):
        raise InvalidInput("content-type", f"{content_type!r} is not a MIME type like type/subtype")
    return content_type


def validate_prefix(prefix: str) -> str:
    """A plain S3 key prefix, without leading or trailing slashes."""
    prefix = prefix.strip("/")
    if ".." in prefix or "//" in prefix or not _PREFIX_RE.fullmatch(prefix):
        raise InvalidInput("prefix", f"{prefix!r} must be a plain S3 key prefix like 'a/b'")
    return prefix


def validate_suffix(suffix: str) -> str:
    """A file suffix like ``.zip`` or ``.tar.gz`` (or none)."""
    if not _SUFFIX_RE.fullmatch(suffix or ""):
        raise InvalidInput("suffix", f"{suffix!r} must look like '.zip' or '.tar.gz'")
    return suffix or ""


def validate_bucket(bucket: str) -> str:
    """An S3 bucket name."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket or ""):
        raise InvalidInput("bucket", f"{bucket!r} is not a valid S3 bucket name")
    return bucket


def validate_table(table: str) -> str:
    """A DynamoDB table name."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", table or ""):
        raise InvalidInput("table", f"{table!r} is not a valid DynamoDB table name")
    return table


# ----- encodings ----------------------------------------------------------------------------


def version_sk(version: str) -> str:
    """DynamoDB sort key and S3 basename of the S3+DynamoDB backend: ``LATEST`` / ``000007``."""
    return LATEST if version == LATEST else version.zfill(VERSION_WIDTH)


def version_from_sk(sk: str) -> str:
    """Inverse of :func:`version_sk`."""
    return LATEST if sk == LATEST else str(int(sk))


def alias_pk(name: str) -> str:
    """Partition of an artifact's aliases (the peer library's)."""
    return f"__{name}-alias"


def history_pk(name: str) -> str:
    """Partition of our alias history; the peer library never reads it."""
    return f"__{name}-alias-history"


def s3only_filename(version: str) -> str:
    """``000000_LATEST`` or ``{999999 - n + 1}_{n}`` so that listing sorts newest first."""
    if version == LATEST:
        return f"{'0' * VERSION_WIDTH}_{LATEST}"
    number = int(version)
    return f"{10**VERSION_WIDTH - number:0{VERSION_WIDTH}d}_{number:0{VERSION_WIDTH}d}"


def s3only_version_from_filename(filename: str, suffix: str) -> str | None:
    """Inverse of :func:`s3only_filename` (with the suffix); None for a foreign file name."""
    if suffix:
        if not filename.endswith(suffix):
            return None
        filename = filename[: -len(suffix)]
    head, sep, tail = filename.partition("_")
    if not sep or len(head) != VERSION_WIDTH or not head.isdigit():
        return None
    if head == "0" * VERSION_WIDTH:
        return LATEST if tail == LATEST else None
    if not tail.isdigit() or int(head) != 10**VERSION_WIDTH - int(tail):
        return None
    return str(int(tail))


def read_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """S3 user metadata as a server returned it, with this tool's own keys in the spelling
    they were written in (``artifact-sha256`` -> ``artifact_sha256``)."""
    found = dict(metadata or {})
    result: dict[str, str] = {}
    for key, value in found.items():
        written = key.lower().replace("-", "_")
        result[written if written in OWN_METADATA and written not in found else key] = value
    return result


def same_metadata(one: Mapping[str, str], other: Mapping[str, str]) -> bool:
    """Do two metadata maps agree, whichever of '_' and '-' a server spelled their keys in?"""

    def folded(metadata: Mapping[str, str]) -> dict[str, str]:
        return {key.lower().replace("_", "-"): value for key, value in metadata.items()}

    return folded(one) == folded(other)


def same_etag(one: str | None, other: str | None) -> bool:
    """Are two ETags the same, quoted or not? (An empty or missing ETag matches nothing.)"""
    bare = (one or "").strip('"'), (other or "").strip('"')
    return bool(bare[0]) and bare[0] == bare[1]


def join_key(*parts: str) -> str:
    """S3 key of ``parts`` joined by ``/``, empty parts and stray slashes dropped."""
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def s3_uri(bucket: str, key: str) -> str:
    """``s3://bucket/key``."""
    return f"s3://{bucket}/{key}"


def encode_alias_document(
    name: str,
    alias: str,
    version: str,
    secondary_version: str | None,
    secondary_version_weight: int | None,
    version_s3uri: str,
    secondary_version_s3uri: str | None,
) -> bytes:
    """The S3-only alias JSON, with exactly the peer's eight keys (it rejects any other)."""
    document = {
        "name": name,
        "alias": alias,
        "update_at": "unknown",
        "version": version,
        "secondary_version": secondary_version,
        "secondary_version_weight": secondary_version_weight,
        "version_s3uri": version_s3uri,
        "secondary_version_s3uri": secondary_version_s3uri,
    }
    return json.dumps(document).encode()


def decode_alias_document(raw: bytes) -> dict[str, Any]:
    """Version, secondary version and weight from an alias JSON document."""
    document = json.loads(raw)
    secondary = document.get("secondary_version")
    return {
        "version": normalize_version(document["version"]),
        "secondary_version": None if secondary is None else normalize_version(secondary),
        "secondary_version_weight": document.get("secondary_version_weight"),
    }
