"""The tools compared and how their processes are run: this project's CLI, the peer library,
and the AWS CLI in its own venv (``.bench-venv``, created on first use, never silently).

Every child runs with fake credentials, no AWS profile, and ``probe/`` on PYTHONPATH, whose
``sitecustomize`` reports the child's own requests and peak memory when it exits.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
PROBE = PACKAGE / "probe"
BENCH_VENV = ROOT / ".bench-venv"
AWSCLI = "awscli==1.46.3"
PEER = "versioned==1.0.1"
REGION = "us-east-1"
MiB = 1024 * 1024


class ChildFailed(RuntimeError):
    """A measured child process failed; the message names the command and its stderr."""


def aws_environment(endpoint: str) -> dict[str, str]:
    """Variables every client (parent and children) runs with: local endpoint, fake account."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # moto assembles a completed 1 GiB upload before it answers; real S3 keeps the
        # connection alive meanwhile
        "VERSIONED_READ_TIMEOUT": "600",
    }


def clean_environ() -> dict[str, str]:
    """This process's environment without AWS, action or CI settings that could leak in."""
    prefixes = ("AWS_", "VERSIONED_", "GITHUB_", "INPUT_", "BENCH_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@dataclasses.dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_mib: float | None
    requests: int
    stdout: str


def run_measured(argv, *, endpoint, workdir: Path, timeout: float, stdin: str | None = None):
    """Run one child process; time it whole and read what its probe reported."""
    fd, report_name = tempfile.mkstemp(prefix="probe-", suffix=".json", dir=workdir)
    os.close(fd)
    report = Path(report_name)
    pythonpath = os.pathsep.join(
        p for p in (str(PROBE), str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env = {
        **clean_environ(),
        **aws_environment(endpoint),
        "PYTHONPATH": pythonpath,
        "BENCH_PROBE_OUT": str(report),
    }
    try:
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [str(a) for a in argv],
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                cwd=workdir,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise ChildFailed(f"{_show(argv)} did not finish in {timeout:.0f} s") from err
        seconds = time.perf_counter() - start
        if done.returncode:
            raise ChildFailed(
                f"{_show(argv)} exited with {done.returncode}:\n{done.stderr[-3000:]}"
            )
        try:
            probe = json.loads(report.read_text())
        except ValueError as err:
            raise ChildFailed(
                f"{_show(argv)} wrote no probe report (not a Python process?)"
            ) from err
    finally:
        report.unlink(missing_ok=True)
    peak = probe.get("peak_rss_kib")
    return ChildRun(
        seconds=seconds,
        peak_rss_mib=None if peak is None else peak / 1024,
        requests=sum(probe.get("requests", {}).values()),
        stdout=done.stdout,
    )


def _show(argv) -> str:
    return " ".join(Path(str(a)).name if i == 0 else str(a) for i, a in enumerate(argv))


def peer_available() -> bool:
    """Is the peer installed here? If not, say how to install it."""
    try:
        version = importlib.metadata.version("versioned")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version == PEER.split("==")[1]:
        return True
    found = f"versioned {version} is installed" if version else "versioned is not installed"
    print(
        f"peer columns show '-': {found}; install the peer with:\n"
        f"    {sys.executable} -m pip install {PEER}",
        file=sys.stderr,
    )
    return False


def awscli(install: bool) -> Path | None:
    """The ``aws`` executable in .bench-venv, creating the venv when allowed; None if absent."""
    aws = BENCH_VENV / "bin" / "aws"
    if aws.exists():
        return aws
    if not install:
        print(f"aws-cli columns show '-': {BENCH_VENV} is missing (--no-install)", file=sys.stderr)
        return None
    print(
        f"creating .bench-venv with awscli (first use): {AWSCLI} into {BENCH_VENV}", file=sys.stderr
    )
    created = not BENCH_VENV.exists()
    try:
        subprocess.run([sys.executable, "-m", "venv", BENCH_VENV], check=True, timeout=300)
        subprocess.run(
            [BENCH_VENV / "bin" / "python", "-m", "pip", "install", "--quiet"]
            + ["--disable-pip-version-check", AWSCLI],
            check=True,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as err:
        if created:  # half made: the next run starts over
            shutil.rmtree(BENCH_VENV, ignore_errors=True)
        print(f"aws-cli columns show '-': could not create {BENCH_VENV}: {err}", file=sys.stderr)
        return None
    return aws


def awscli_version() -> str | None:
    for site in BENCH_VENV.glob("lib/python*/site-packages"):
        for dist in importlib.metadata.distributions(path=[str(site)]):
            if dist.metadata["Name"] == "awscli":
                return dist.version
    return None


def run_peer(request: dict, *, endpoint: str, workdir: Path, timeout: float):
    """Run steps in a peer child process; return its per-step results and the whole run."""
    run = run_measured(
        [sys.executable, "-m", "benchmarks.peer_child"],
        endpoint=endpoint,
        workdir=workdir,
        timeout=timeout,
        stdin=json.dumps(request),
    )
    try:
        results = json.loads(run.stdout)
    except ValueError as err:
        raise ChildFailed(f"the peer child printed no results: {run.stdout[-500:]!r}") from err
    return results, run
