"""The steps of a release that are files and checks, shared by the release workflow and its dry run.

    release.py check vX.Y.Z      the tag, pyproject's version and the CHANGELOG agree
    release.py notes vX.Y.Z      the CHANGELOG section of that version, for the release
    release.py pin IMAGE@DIGEST  point action.yml at a pushed image (the release commit)
    release.py newest TAG TAGS.. exit 0 if TAG is the newest of its major (then vX moves)
    release.py dry-run [vX.Y.Z]  every step that runs without GitHub, in order

The workflow (.github/workflows/release.yml) runs the same commands, so what the dry run shows is
what a tag push does up to the first step that needs GitHub.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
IMAGE = re.compile(r"ghcr\.io/[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)+@sha256:[0-9a-f]{64}")
UNPINNED = "  image: Dockerfile"


class ReleaseError(Exception):
    """A release step that must not go on; the message says what to fix."""


def version_of(tag: str) -> str:
    if not TAG.fullmatch(tag):
        raise ReleaseError(f"tag {tag!r} is not vMAJOR.MINOR.PATCH (for example v1.2.3)")
    return tag[1:]


def package_version(root: Path = ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def changelog_section(version: str, root: Path = ROOT) -> str:
    """The body of ``## [version] - date`` in CHANGELOG.md, without its heading."""
    text = (root / "CHANGELOG.md").read_text()
    heading = re.compile(
        rf"^## \[{re.escape(version)}\](?: - (\d{{4}}-\d{{2}}-\d{{2}}))?\s*$", re.M
    )
    match = heading.search(text)
    if match is None:
        raise ReleaseError(f"CHANGELOG.md has no section '## [{version}] - YYYY-MM-DD'")
    if match.group(1) is None and version != "Unreleased":
        raise ReleaseError(f"CHANGELOG.md's section [{version}] has no release date")
    end = re.compile(r"^## \[|^\[[^\]]+\]: ", re.M).search(text, match.end())
    body = text[match.end() : end.start() if end else len(text)].strip()
    if not body:
        raise ReleaseError(f"CHANGELOG.md's section [{version}] is empty")
    return body + "\n"


def check(tag: str, root: Path = ROOT) -> str:
    """Everything a tag push needs before the first build; returns the version."""
    version = version_of(tag)
    declared = package_version(root)
    if declared != version:
        raise ReleaseError(f"tag {tag} but pyproject.toml says version {declared!r}")
    changelog_section(version, root)
    lines = (root / "action.yml").read_text().splitlines()
    if UNPINNED not in lines:
        raise ReleaseError(
            "action.yml does not say 'image: Dockerfile': the tag must be on a commit of main, "
            "not on a release commit"
        )
    return version


def pinned(action_text: str, image: str) -> str:
    """action.yml with its Dockerfile replaced by the pushed image; nothing else changes."""
    if not IMAGE.fullmatch(image):
        raise ReleaseError(f"{image!r} is not ghcr.io/OWNER/NAME@sha256:<64 hex> (lower case)")
    lines = action_text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\n") == UNPINNED]
    if len(hits) != 1:
        raise ReleaseError("action.yml must have exactly one line 'image: Dockerfile' under runs")
    lines[hits[0]] = f"  image: docker://{image}\n"
    return "".join(lines)


def pin(image: str, root: Path = ROOT) -> str:
    """Rewrite action.yml in place; returns the one-line diff for the log."""
    path = root / "action.yml"
    before = path.read_text()
    after = pinned(before, image)
    path.write_text(after)
    return _diff(before, after)


def _diff(before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            "action.yml",
            "action.yml",
        )
    )


def is_newest(tag: str, others: list[str]) -> bool:
    """Does ``tag`` outrank every release tag of its major in ``others``? (Others are ignored.)"""
    mine = tuple(int(p) for p in version_of(tag).split("."))
    releases = [tuple(int(p) for p in o[1:].split(".")) for o in others if TAG.fullmatch(o)]
    return all(mine >= other for other in releases if other[0] == mine[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check").add_argument("tag")
    commands.add_parser("notes").add_argument("tag")
    commands.add_parser("pin").add_argument("image")
    newest = commands.add_parser("newest")
    newest.add_argument("tag")
    newest.add_argument("others", nargs="*")
    dry = commands.add_parser("dry-run")
    dry.add_argument("tag", nargs="?")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            print(f"release {check(args.tag)}: tag, pyproject.toml and CHANGELOG.md agree")
        elif args.command == "notes":
            sys.stdout.write(changelog_section(version_of(args.tag)))
        elif args.command == "pin":
            sys.stdout.write(pin(args.image))
        elif args.command == "newest":
            return 0 if is_newest(args.tag, args.others) else 3
        else:
            from release_dry_run import dry_run

            return dry_run(args.tag or f"v{package_version()}")
    except ReleaseError as err:
        print(f"release: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import release  # one ReleaseError for this module and release_dry_run, which imports it

    sys.exit(release.main())
