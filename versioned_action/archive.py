"""A directory as a deterministic tar: the same tree always gives the same bytes.

Entries are sorted by path; every mtime is ``mtime`` (0, or ``SOURCE_DATE_EPOCH``); owners are
0 with empty names; modes are 0644, or 0755 for directories and executables. Symbolic links
are kept as links when they resolve inside the tree; anything else (a link leading out, a
device, a FIFO, a socket) is refused, naming it. The tar is not compressed: gzip's output
depends on the zlib build, and the same tree must give the same sha256 on every machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidEnvironment, InvalidInput

FORMAT = "tar"
CONTENT_TYPE = "application/x-tar"
METADATA_KEY = "archive"  # recorded on the put version: ``archive=tar``
_FIELD = "path"


@dataclasses.dataclass(frozen=True)
class Member:
    """One entry of the archive: its path inside the tree and what it is."""

    name: str  # POSIX path relative to the root, no leading ./
    kind: str  # "dir", "file" or "link"
    executable: bool = False
    target: str = ""  # of a link, as stored


def source_date_epoch(environ: Mapping[str, str]) -> int:
    """The fixed mtime of every entry: ``SOURCE_DATE_EPOCH`` when set, else 0."""
    value = (environ.get("SOURCE_DATE_EPOCH") or "").strip()
    if not value:
        return 0
    if not value.isdecimal() or not value.isascii():
        raise InvalidEnvironment("SOURCE_DATE_EPOCH", f"{value!r} is not a whole number of seconds")
    return int(value)


def scan(root: Path) -> list[Member]:
    """Every entry below ``root``, sorted by path; raise InvalidInput (``path``) for what
    cannot be archived faithfully."""
    top = Path(os.path.realpath(root))
    members: list[Member] = []
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(top / relative if relative else top) as entries:
            for entry in entries:
                name = f"{relative}/{entry.name}" if relative else entry.name
                _check_name(name)
                member = _member(top, name, entry)
                members.append(member)
                if member.kind == "dir":
                    pending.append(name)
    return sorted(members, key=lambda m: m.name)


def _check_name(name: str) -> None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput(_FIELD, f"{name!r} is not a UTF-8 file name") from err


def _member(top: Path, name: str, entry: os.DirEntry[str]) -> Member:
    mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISLNK(mode):
        return Member(name, "link", target=_link_target(top, name))
    if stat.S_ISDIR(mode):
        return Member(name, "dir")
    if stat.S_ISREG(mode):
        return Member(name, "file", executable=bool(mode & 0o111))
    raise InvalidInput(
        _FIELD,
        f"{name!r} in the directory is a device, FIFO or socket; "
        "only files, directories and links inside it can be archived",
    )


def _link_target(top: Path, name: str) -> str:
    target = os.readlink(top / name)
    if os.path.isabs(target):
        raise InvalidInput(
            _FIELD, f"link {name!r} -> {target!r} is absolute; make it relative to stay inside"
        )
    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    resolved = os.path.realpath(top / name)
    if lexical.split("/")[0] == ".." or os.path.commonpath([resolved, top]) != str(top):
        raise InvalidInput(
            _FIELD, f"link {name!r} -> {target!r} leads out of the directory being archived"
        )
    return target


def _info(member: Member, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(member.name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if member.kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif member.kind == "link":
        info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, member.target
    else:
        info.mode = 0o755 if member.executable else 0o644
    return info


def write(root: Path, out: BinaryIO, mtime: int = 0) -> None:
    """Write the tar of ``root`` to the binary file ``out``, file by file (streamed)."""
    top = Path(os.path.realpath(root))
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
        for member in scan(top):
            info = _info(member, mtime)
            if member.kind != "file":
                tar.addfile(info)
                continue
            with open(top / member.name, "rb") as content:
                info.size = os.fstat(content.fileno()).st_size
                try:
                    tar.addfile(info, content)
                except OSError as err:  # tarfile: "unexpected end of data"
                    raise InvalidInput(
                        _FIELD, f"{member.name!r} changed while it was being archived"
                    ) from err


@contextlib.contextmanager
def temporary(root: Path, mtime: int = 0) -> Iterator[Path]:
    """The tar of ``root`` in a temporary file, removed when the block ends."""
    handle, name = tempfile.mkstemp(prefix="versioned-action-", suffix=".tar")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            write(root, out, mtime)
        yield path
    finally:
        path.unlink(missing_ok=True)
