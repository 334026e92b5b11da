"""Run a workflow file's jobs on this machine, the way the runner would, with this action local.

Steps that use this action (``uses: ./`` or ``acme/versioned-action@...``) run its entrypoint
through :class:`local_runner.Runner`; ``run:`` steps run in bash with the step's ``env:`` and a
``GITHUB_OUTPUT`` file; a few well-known actions have stand-ins that check their inputs (the
AWS credentials step sets the region, the attestation step checks its subject digest). Any
other action, any expression this evaluator does not know, and any ``${{ }}`` inside ``run:``
fail the run, so a workflow that passes here runs as pasted.

    run = WorkflowRun(Path("examples/rollback.yml"), workspace, inputs={"alias": "production"})
    job = run.job("rollback")
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import subprocess
from pathlib import Path

import yaml
from local_runner import Runner, parse_output_file

THIS_ACTION = re.compile(r"\./|acme/versioned-action@\S+")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
TOKEN = re.compile(r"\s*(?:(==|!=|&&|\|\||!|\(|\))|'((?:[^']|'')*)'|([A-Za-z_][\w.-]*))")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
RUN_IDS = itertools.count(5000)  # every workflow run has its own GITHUB_RUN_ID


class WorkflowError(AssertionError):
    """The workflow would not run as pasted; the message names the step and why."""


@dataclasses.dataclass
class StepResult:
    name: str
    outcome: str  # success, failure or skipped
    outputs: dict[str, str]
    log: str = ""


@dataclasses.dataclass
class JobResult:
    steps: list[StepResult]
    outputs: dict[str, str]
    environment: str | None

    def step(self, id_or_name: str) -> StepResult:
        return next(s for s in self.steps if s.name == id_or_name)

    @property
    def log(self) -> str:
        return "\n".join(s.log for s in self.steps)


def evaluate(expression: str, context: dict) -> str | bool | None:
    """The subset of the expression language the examples use: context paths, quoted strings,
    ``==``, ``!=``, ``&&``, ``||``, ``!`` and parentheses."""
    tokens, pos = [], 0
    text = expression.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise WorkflowError(f"expression not understood here: {expression!r}")
        tokens.append(match.groups())
        pos = match.end()
    value, rest = _or(tokens, context)
    if rest:
        raise WorkflowError(f"expression not understood here: {expression!r}")
    return value


def _or(tokens, context):
    left, tokens = _and(tokens, context)
    while tokens and tokens[0][0] == "||":
        right, tokens = _and(tokens[1:], context)
        left = left or right
    return left, tokens


def _and(tokens, context):
    left, tokens = _compare(tokens, context)
    while tokens and tokens[0][0] == "&&":
        right, tokens = _compare(tokens[1:], context)
        left = left and right
    return left, tokens


def _compare(tokens, context):
    left, tokens = _unary(tokens, context)
    while tokens and tokens[0][0] in ("==", "!="):
        op = tokens[0][0]
        right, tokens = _unary(tokens[1:], context)
        equal = str(left if left is not None else "").lower() == str(right or "").lower()
        left = equal if op == "==" else not equal
    return left, tokens


def _unary(tokens, context):
    if not tokens:
        raise WorkflowError("expression ends early")
    op, literal, path = tokens[0]
    if op == "!":
        value, rest = _unary(tokens[1:], context)
        return not value, rest
    if op == "(":
        value, rest = _or(tokens[1:], context)
        if not rest or rest[0][0] != ")":
            raise WorkflowError("unbalanced parentheses")
        return value, rest[1:]
    if literal is not None:
        return literal.replace("''", "'"), tokens[1:]
    if path in ("true", "false"):
        return path == "true", tokens[1:]
    return _lookup(path, context), tokens[1:]


def _lookup(path: str, context: dict):
    parts = path.split(".")
    if parts[0] not in context:
        raise WorkflowError(f"context {parts[0]!r} is not available here ({path})")
    value = context
    for part in parts:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def substitute(value, context: dict) -> str:
    """A ``with:``/``env:`` value with every ``${{ }}`` replaced, as the runner renders it."""
    if not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)

    def render(match: re.Match) -> str:
        result = evaluate(match.group(1), context)
        if isinstance(result, bool):
            return str(result).lower()
        return "" if result is None else str(result)

    return EXPRESSION.sub(render, value)


class WorkflowRun:
    """One run of a workflow file: its trigger's inputs and the workspace every job shares."""

    def __init__(
        self,
        path: Path,
        workspace: Path,
        inputs: dict[str, str] | None = None,
        stand_ins: dict[str, dict[str, str]] | None = None,
        **env: str,
    ):
        self.path = path
        self.stand_ins = stand_ins or {}  # step id -> the outputs it gives, instead of running
        self.workflow = yaml.safe_load(path.read_text())
        self.workspace = workspace
        self.inputs = self._inputs(inputs or {})
        self.env = env  # the machine's extra environment (AWS_ENDPOINT_URL for moto)
        self.jobs: dict[str, JobResult] = {}
        self.run_id = str(next(RUN_IDS))

    def _inputs(self, given: dict[str, str]) -> dict:
        triggers = self.workflow.get(True, self.workflow.get("on")) or {}
        declared = (triggers.get("workflow_dispatch") or {}).get("inputs", {}) if isinstance(
            triggers, dict
        ) else {}  # fmt: skip
        values = {}
        for name, spec in declared.items():
            value = given.get(name, spec.get("default", ""))
            if spec.get("type") == "choice" and str(value) not in map(str, spec["options"]):
                raise WorkflowError(f"input {name}: {value!r} is not one of {spec['options']}")
            if spec.get("required") and value in ("", None):
                raise WorkflowError(f"input {name} is required")
            values[name] = value if isinstance(value, bool) else str(value)
        unknown = set(given) - set(declared)
        if unknown:
            raise WorkflowError(f"not inputs of {self.path.name}: {sorted(unknown)}")
        return values

    def job(self, name: str, matrix: dict[str, str] | None = None) -> JobResult:
        spec = self.workflow["jobs"][name]
        for needed in (
            [spec["needs"]] if isinstance(spec.get("needs"), str) else spec.get("needs", [])
        ):
            if needed not in self.jobs:
                self.job(needed)
        context = {
            "github": {
                "repository": "acme/widgets",
                "ref_name": "v1.2.3",
                "sha": "0" * 40,
                "workflow": self.workflow.get("name", self.path.stem),
                "run_id": self.run_id,
                "server_url": "https://github.com",
            },
            "inputs": self.inputs,
            "matrix": matrix or {},
            "needs": {n: {"outputs": j.outputs} for n, j in self.jobs.items()},
            "steps": {},
            "vars": {},
            "env": {},
        }
        context["env"] = {k: substitute(v, context) for k, v in spec.get("env", {}).items()}
        environment = spec.get("environment")
        if isinstance(environment, dict):
            environment = environment.get("name")
        environment = substitute(environment, context) if environment else None
        runner = Runner(
            self.workspace,
            **{"GITHUB_RUN_ID": self.run_id, "GITHUB_JOB": name, "GITHUB_RUN_ATTEMPT": "1"},
            **self.env,
        )
        results = []
        failed = False
        for number, step in enumerate(spec["steps"], 1):
            step_id = step.get("id", f"step-{number}")
            condition = step.get("if")
            if failed or (condition is not None and not evaluate(_strip(condition), context)):
                results.append(StepResult(step_id, "skipped", {}))
                continue
            if step_id in self.stand_ins:
                result = StepResult(step_id, "success", self.stand_ins[step_id], "(stand-in)")
            else:
                result = self._step(step_id, step, context, runner)
            results.append(result)
            context["steps"][step_id] = {"outputs": result.outputs, "outcome": result.outcome}
            failed = result.outcome == "failure"
        outputs = {k: substitute(v, context) for k, v in spec.get("outputs", {}).items()}
        self.jobs[name] = JobResult(results, outputs, environment)
        return self.jobs[name]

    def _step(self, step_id: str, step: dict, context: dict, runner: Runner) -> StepResult:
        env = {
            **context["env"],
            **{k: substitute(v, context) for k, v in step.get("env", {}).items()},
        }
        inputs = {k: substitute(v, context) for k, v in step.get("with", {}).items()}
        if "run" in step:
            if EXPRESSION.search(step["run"]):
                raise WorkflowError(f"step {step_id}: an expression inside run: (use env:)")
            return self._shell(step_id, step["run"], env)
        uses = step["uses"]
        if THIS_ACTION.fullmatch(uses):
            saved = dict(runner.context)
            runner.context.update(env)  # the runner passes the job's and step's env: along
            try:
                done = runner.step(**{k.replace("-", "_"): v for k, v in inputs.items()})
            finally:
                runner.context = saved
            outcome = "success" if done.returncode == 0 else "failure"
            return StepResult(step_id, outcome, done.outputs, done.stdout + done.stderr)
        action = uses.split("@")[0]
        if action in ("actions/checkout", "actions/setup-python"):
            return StepResult(step_id, "success", {})
        if action == "aws-actions/configure-aws-credentials":
            if not inputs.get("role-to-assume", "").startswith("arn:aws:iam::"):
                raise WorkflowError(f"step {step_id}: role-to-assume is not a role ARN")
            runner.context["AWS_REGION"] = inputs["aws-region"]
            return StepResult(step_id, "success", {})
        if action == "actions/attest-build-provenance":
            if not DIGEST.fullmatch(inputs.get("subject-digest", "")) or not inputs.get(
                "subject-name"
            ):
                raise WorkflowError(f"step {step_id}: subject-name/subject-digest {inputs}")
            return StepResult(step_id, "success", {"attestation-id": "1"})
        raise WorkflowError(f"step {step_id}: no local stand-in for {uses}")

    def _shell(self, step_id: str, script: str, env: dict[str, str]) -> StepResult:
        output = self.workspace.parent / f"{step_id}.output"
        output.write_text("")
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env={**os.environ, **self.env, **env, "GITHUB_OUTPUT": str(output)},
            capture_output=True,
            text=True,
        )
        outcome = "success" if done.returncode == 0 else "failure"
        return StepResult(
            step_id, outcome, parse_output_file(output.read_text()), done.stdout + done.stderr
        )


def _strip(condition) -> str:
    text = str(condition).strip()
    match = EXPRESSION.fullmatch(text)
    return match.group(1) if match else text
