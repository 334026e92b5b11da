"""Run the action's entrypoint on this machine the way the GitHub runner starts its container.

Every input of action.yml becomes ``INPUT_<NAME>`` (hyphens kept, defaults applied), the step
gets fresh ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files, and the outputs are read back
by the runner's rules. Used by the demo and by the tests.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
ENTRYPOINT = ROOT / "entrypoint" / "main.py"


def action_metadata() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def parse_output_file(text: str) -> dict[str, str]:
    """Read ``GITHUB_OUTPUT`` by the runner's rules: ``name=value`` or ``name<<DELIM`` blocks."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            outputs[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclasses.dataclass
class Step:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error")]


class Runner:
    """One job: a workspace directory and the environment every step's container gets."""

    def __init__(self, workspace: Path, **context: str):
        self.workspace = workspace
        self.metadata = action_metadata()
        self.context = {
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_REF_NAME": "main",
            "GITHUB_REPOSITORY": "acme/widgets",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_EVENT_NAME": "push",
            **context,
        }
        self.step_number = 0

    def step(self, **inputs: str) -> Step:
        """Run the entrypoint once with ``inputs`` (named as in action.yml, ``_`` for ``-``)."""
        return self.start(**inputs).finish(timeout=300)

    def start(self, **inputs: str) -> RunningStep:
        """Start the entrypoint like :meth:`step` without waiting; ``finish()`` gives the Step."""
        self.step_number += 1
        files = self.workspace.parent / f"runner-files-{self.step_number}"
        files.mkdir(exist_ok=True)
        output_file, summary_file = files / "output", files / "summary"
        output_file.touch()
        summary_file.touch()
        given = {k.replace("_", "-"): str(v) for k, v in inputs.items()}
        unknown = set(given) - set(self.metadata["inputs"])
        assert not unknown, f"not inputs of action.yml: {unknown}"
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.workspace.parent),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "RUNNER_TEMP": str(files),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            # each step of a job has its own GITHUB_ACTION, as the runner names steps
            # without an id: __owner_repo, __owner_repo_2, ...
            "GITHUB_JOB": "deploy",
            "GITHUB_ACTION": "__acme_versioned-action"
            + ("" if self.step_number == 1 else f"_{self.step_number}"),
            **self.context,
        }
        for name, spec in self.metadata["inputs"].items():
            value = given.get(name, str(spec.get("default", "")))
            env["INPUT_" + name.replace(" ", "_").upper()] = value
        process = subprocess.Popen(
            [sys.executable, str(ENTRYPOINT)],
            cwd=self.workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return RunningStep(process, output_file, summary_file)


@dataclasses.dataclass
class RunningStep:
    """A started entrypoint: its process and the files the runner reads afterwards."""

    process: subprocess.Popen
    output_file: Path
    summary_file: Path

    def finish(self, timeout: float = 300) -> Step:
        """Wait for the step (killing it after ``timeout`` seconds) and read what it wrote."""
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise
        return Step(
            self.process.returncode,
            stdout,
            stderr,
            parse_output_file(self.output_file.read_text()),
            self.summary_file.read_text(),
        )

    def kill(self) -> None:
        """SIGKILL the step, as a cancelled job or a lost runner ends it; reap the process."""
        self.process.kill()
        self.process.communicate()
