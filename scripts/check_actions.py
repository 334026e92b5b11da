"""Every action a workflow, an example or the README uses is on its current major, pinned.

    python scripts/check_actions.py [FILE ...]   (default: .github/workflows, examples, README.md)

- In workflow files (``.github/workflows/*.yml``, ``examples/*.yml``), every action is pinned
  by a full commit SHA with its version in a comment (``@<40 hex> # v7.0.1``), and one version
  of an action has one SHA everywhere.
- Everywhere, README.md's code blocks included, an action's major is the one in CURRENT: the
  newest major, which runs on Node 24 (Node 20 is deprecated on GitHub's runners). This
  action's own examples name it by its major tag, ``@v1``.

When Dependabot proposes a new major, this check fails until CURRENT, the examples and the
README move with it; that is the point.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CURRENT = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/upload-artifact": 7,
    "actions/download-artifact": 8,
    "actions/attest-build-provenance": 4,
    "aws-actions/configure-aws-credentials": 6,
    "docker/setup-qemu-action": 4,
    "docker/setup-buildx-action": 4,
    "docker/login-action": 4,
    "docker/build-push-action": 7,
    "pypa/gh-action-pypi-publish": 1,
}
OWN = "acme/versioned-action"
OWN_MAJOR = 1
USES = re.compile(r"^\s*-?\s*uses:\s*([^\s#]+)\s*(?:#\s*(\S+))?", re.M)
SHA = re.compile(r"[0-9a-f]{40}")
VERSION = re.compile(r"v(\d+)(?:\.\d+){0,2}")
FENCE = re.compile(r"^```ya?ml\n(.*?)^```", re.M | re.S)


def references(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, uses, version comment) of every ``uses:`` in a workflow file or README block."""
    text = path.read_text()
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)) for m in USES.finditer(text)
    ]


def problems(files: list[Path]) -> list[str]:
    found, shas = [], {}
    for path in files:
        workflow = path.suffix in (".yml", ".yaml")
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for line, uses, comment in references(path):
            where = f"{name}:{line}"
            if uses.startswith(("./", "docker://")):
                continue
            action, _, ref = uses.partition("@")
            action = "/".join(action.split("/")[:2])
            if action == OWN:
                if ref != f"v{OWN_MAJOR}":
                    found.append(f"{where}: {uses}: the examples name this action @v{OWN_MAJOR}")
                continue
            if action not in CURRENT:
                found.append(f"{where}: {action} is not in CURRENT; add its Node 24 major")
                continue
            version = comment if SHA.fullmatch(ref) else ref
            match = VERSION.fullmatch(version or "")
            if workflow and not SHA.fullmatch(ref):
                found.append(f"{where}: {uses}: pin a full commit SHA, with '# vX.Y.Z' after it")
            elif match is None:
                found.append(f"{where}: {uses}: say the version ('# vX.Y.Z' after the SHA)")
            elif int(match.group(1)) != CURRENT[action]:
                found.append(
                    f"{where}: {action} {version}: the current major is v{CURRENT[action]}"
                    " (older majors run on a deprecated Node runtime or are superseded)"
                )
            if SHA.fullmatch(ref) and version:
                other = shas.setdefault((action, version), (ref, where))
                if other[0] != ref:
                    found.append(
                        f"{where}: {action} {version} is {ref}, but {other[0]} at {other[1]}"
                    )
    return found


def readme_blocks(readme: Path, out: Path) -> list[Path]:
    """README.md's YAML code blocks, each written to its own file so that lines still point
    into the README (a block's file keeps the README's line numbers)."""
    text = readme.read_text()
    files = []
    for number, match in enumerate(FENCE.finditer(text)):
        lines_before = text.count("\n", 0, match.start(1))
        block = out / f"README.md-block-{number}.md"
        block.write_text("\n" * lines_before + match.group(1))
        files.append(block)
    return files


def main(argv: list[str]) -> int:
    import tempfile

    paths = [Path(a).resolve() for a in argv] or [
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        *sorted((ROOT / "examples").glob("*.yml")),
        ROOT / "README.md",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for path in paths:
            files += readme_blocks(path, Path(tmp)) if path.suffix == ".md" else [path]
        found = problems(files)
    for line in found:
        print(re.sub(r"^.*README\.md-block-\d+\.md", "README.md", line), file=sys.stderr)
    if not found:
        print(f"actions: {len(paths)} files, every action pinned and on its current major")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
