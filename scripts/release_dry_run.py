"""The release workflow's steps that can run without GitHub, in its order, with what each gave.

The image is not built (that needs a Docker engine); its filesystem is: the same pip command as
the Dockerfile's build stage, into a folder, and the entrypoint run from that folder alone (no
site-packages, only the lock's packages and the standard library), against a moto server, for
put, publish, promote and get. The digest shown in the pinned action.yml stands for the one the
registry returns on push.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from release import ROOT, ReleaseError, changelog_section, check, pinned, version_of

sys.path.insert(0, str(ROOT / "examples"))
from local_runner import parse_output_file  # noqa: E402  (the runner's reading of GITHUB_OUTPUT)

LOCK = ROOT / "requirements" / "action.txt"
GITHUB_ONLY = [
    "build linux/amd64 + linux/arm64, push ghcr.io/OWNER/REPO:vX.Y.Z (docker/build-push-action)",
    "attest the image's build provenance, push the attestation (actions/attest-build-provenance)",
    "check that the tagged commit is on main (the compare API)",
    "check that the pushed image can be pulled anonymously (the package is public)",
    "create the release commit (action.yml pinned as above) through the API, signed by GitHub",
    "move vX.Y.Z to the release commit, as an annotated tag naming the commit of main",
    "create the GitHub release with the notes above",
    "publish the wheel and sdist above to PyPI by trusted publishing (pypa/gh-action-pypi-publish)",
    "move vX to the release commit if vX.Y.Z is the newest of its major",
]


def _say(step: str, detail: str = "") -> None:
    print(f"== {step}" + (f": {detail}" if detail else ""), flush=True)


def _run(*command: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], check=True, text=True, **kwargs)


# Files the wheel must carry besides the modules: type information and the result schema.
PACKAGE_DATA = ("versioned_action/py.typed", "versioned_action/result.schema.json")


def build_dist(out: Path) -> list[Path]:
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, stdout=subprocess.DEVNULL)
    files = sorted(out.iterdir())
    wheel = next(f for f in files if f.suffix == ".whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    missing = [f for f in PACKAGE_DATA if f not in names]
    if missing:
        raise ReleaseError(f"{wheel.name} lacks {', '.join(missing)}")
    if "License-Expression: Apache-2.0" not in text:
        raise ReleaseError(f"{wheel.name} does not declare its licence")
    return files


def image_filesystem(app: Path) -> int:
    """``/app`` as the Dockerfile's build stage leaves it; returns its size in bytes."""
    app.mkdir(parents=True)
    shutil.copy(ROOT / "LICENSE", app)
    for part in ("versioned_action", "entrypoint"):
        shutil.copytree(ROOT / part, app / part, ignore=shutil.ignore_patterns("__pycache__"))
    _run(
        "sh",
        ROOT / "scripts" / "image-app",
        app,
        LOCK,
        env={**os.environ, "PYTHON": sys.executable},
    )
    return sum(f.stat().st_size for f in app.rglob("*") if f.is_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smoke(app: Path, work: Path) -> list[str]:
    """put+publish, promote, get through the entrypoint in ``app``, as the image would run it."""
    port = _free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        build = work / "app.bin"
        build.write_bytes(os.urandom(4096))
        steps = [
            {"operation": "put", "path": str(build), "publish": "true", "alias": "staging",
             "create-resources": "true"},
            {"operation": "promote", "alias": "production", "from-alias": "staging"},
            {"operation": "get", "alias": "production", "path": str(work / "got.bin")},
            {"operation": "put", "path": str(build), "publish": "true", "backend": "s3-dynamodb",
             "create-resources": "true"},
        ]  # fmt: skip
        lines = []
        for inputs in steps:
            lines.append(
                _image_step(app, work, port, {"bucket": "dry-run", "name": "app", **inputs})
            )
        if (work / "got.bin").read_bytes() != build.read_bytes():
            raise ReleaseError("the image's get did not return the bytes its put stored")
        return lines
    finally:
        moto.terminate()
        moto.wait()


def _image_step(app: Path, work: Path, port: int, inputs: dict[str, str]) -> str:
    output = work / "output"
    output.write_text("")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{app}:{app / 'site-packages'}",  # the Dockerfile's ENV
        "PYTHONDONTWRITEBYTECODE": "1",
        "GITHUB_OUTPUT": str(output),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "INPUT_ENDPOINT-URL": f"http://127.0.0.1:{port}",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }
    done = subprocess.run(
        [sys.executable, "-S", app / "entrypoint" / "main.py"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ReleaseError(f"the image's {inputs['operation']} failed:\n{done.stdout}{done.stderr}")
    outputs = parse_output_file(output.read_text())
    return f"{inputs['operation']}: version {outputs['version']}, sha256 {outputs['sha256'][:12]}"


def _digest(app: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(p for p in app.rglob("*") if p.is_file()):
        sha.update(str(path.relative_to(app)).encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def dry_run(tag: str) -> int:
    _say("release dry run", tag)
    version = version_of(tag)
    stopped = None
    try:
        check(tag)
        _say("check", "tag, pyproject.toml and CHANGELOG.md agree")
        notes = changelog_section(version)
    except ReleaseError as err:
        stopped = str(err)
        _say("check", f"A TAG PUSH WOULD STOP HERE: {err}")
        _say("(going on with the Unreleased section, to show the rest)")
        notes = changelog_section("Unreleased")
    _say("tests", "the workflow runs `bash .ci/run` here; not repeated by the dry run")
    with tempfile.TemporaryDirectory(prefix="release-dry-run-") as tmp:
        work = Path(tmp)
        files = build_dist(work / "dist")
        _say("package", ", ".join(f"{f.name} ({f.stat().st_size:,} bytes)" for f in files))
        size = image_filesystem(work / "image" / "app")
        packages = sorted(p.name for p in (work / "image/app/site-packages").glob("*.dist-info"))
        _say(
            "image /app", f"{size / 2**20:.1f} MiB, {len(packages)} packages: {', '.join(packages)}"
        )
        for line in smoke(work / "image" / "app", work):
            _say("image smoke", line)
        image = f"ghcr.io/owner/repo@sha256:{_digest(work / 'image' / 'app')}"
        before = (ROOT / "action.yml").read_text()
        after = pinned(before, image)
        changed = [line for line in after.splitlines() if line not in before.splitlines()]
        _say("release commit", f"action.yml changes one line: {changed[0].strip()}")
    _say("release notes", f"{len(notes.splitlines())} lines")
    print(notes)
    for step in GITHUB_ONLY:
        _say("needs GitHub", step)
    if stopped:
        _say("result", f"{tag} cannot be released as the tree is: {stopped}")
        return 1
    _say("result", f"{tag} is ready: push the tag")
    return 0
