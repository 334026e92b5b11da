"""The container action: inputs -> operation -> outputs, summary and workflow commands."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .. import progress
from ..aws_failures import debugging, unexpected
from ..errors import InvalidInput, VersionedError
from ..operations import run
from ..request import ACCEPTS, COMMON, OPERATIONS, Request, parse
from ..syntax import Syntax
from . import summary
from .commands import Reporter, markdown_block
from .inputs import check_declared, read_inputs
from .outputs import write_outputs

INPUT_NAMES = tuple(dict.fromkeys([*COMMON, *(n for names in ACCEPTS.values() for n in names)]))


def check_in_workspace(request: Request, environ: Mapping[str, str]) -> None:
    """A file the action writes must be under the workspace: the runner mounts only that
    directory of the job's into the container, so a file written anywhere else is gone when
    the step ends, and the next steps would not find it."""
    workspace = environ.get("GITHUB_WORKSPACE")
    if request.operation != "get" or request.path is None or not workspace:
        return
    target = (Path.cwd() / request.path).resolve()
    if not target.is_relative_to(Path(workspace).resolve()):
        raise InvalidInput(
            "path",
            f"{str(request.path)!r} is outside the workspace: the action runs in a container, "
            "and only the workspace reaches the job's next steps; give a path inside it",
        )


class ActionSyntax(Syntax):
    """A workflow's words, and a bad input of action.yml named as ``input NAME``."""

    def field(self, name: str) -> str | None:
        return f"input {name}" if name in INPUT_NAMES else None


ACTION = ActionSyntax()


def describe(err: VersionedError) -> str:
    """The error in a workflow's words: ``input NAME: ...`` for an input of action.yml, and
    inputs in hints as a step sets them (``version: 3``)."""
    return err.render(ACTION)


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    reporter = Reporter(summary_path=environ.get("GITHUB_STEP_SUMMARY") or None)
    values = read_inputs(environ, INPUT_NAMES)
    operation = values.get("operation", "").strip()
    title = " ".join(["versioned-action", *([operation] if operation in OPERATIONS else [])])
    title += " failed"

    def fail(message: str) -> int:
        reporter.error(message, title=title)
        reporter.summary(f"### {title}\n\n{markdown_block(message)}")
        return 1

    try:
        check_declared(environ, INPUT_NAMES)
        request = parse(values, environ)
        check_in_workspace(request, environ)
        progress.settings()  # a bad VERSIONED_PROGRESS_* fails here, before any request
        step = f"versioned-action {request.operation} {request.name or ''}".strip()
        reporter.info(
            f"{step}: backend {request.settings.backend}, bucket {request.settings.bucket}, "
            f"prefix {request.settings.prefix or '(none)'}"
        )
        with progress.routed(reporter.info):  # in the open: a group starts collapsed
            result = run(request)
    except VersionedError as err:
        return fail(describe(err))
    except Exception as err:  # the action's boundary: any bug still ends in one ::error line
        if debugging(environ) or environ.get("GITHUB_ACTIONS") != "true":
            # in a runner, the traceback only with debug logging: the step's log shows the
            # one error line; whoever runs the entrypoint outside a runner is debugging it
            reporter.traceback(err)
        return fail(describe(unexpected(err, operation, values)))
    outputs = result.outputs()
    write_outputs(environ.get("GITHUB_OUTPUT"), outputs)
    if summary.changes_alias(result):
        reporter.notice(result.headline(), title=f"versioned-action {result.operation}")
    else:
        reporter.info(result.headline())
    with reporter.group(f"{step}: outputs"):
        for key, value in outputs.items():
            if value and key not in ("result", "history"):  # both are in the summary
                reporter.info(f"{key}: {value}")
    reporter.summary(summary.render(result, outputs, request.settings, environ))
    return 0
