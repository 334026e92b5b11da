"""The container action: inputs -> operation -> outputs, summary and workflow commands."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping

from ..errors import InvalidInput, VersionedError
from ..operations import Result, run
from ..request import ACCEPTS, COMMON, parse
from .commands import Reporter
from .inputs import read_inputs
from .outputs import write_outputs

INPUT_NAMES = tuple(dict.fromkeys([*COMMON, *(n for names in ACCEPTS.values() for n in names)]))


def summary_markdown(result: Result, outputs: Mapping[str, str]) -> str:
    rows = "\n".join(f"| `{k}` | `{v}` |" for k, v in outputs.items() if v and k not in ("result",))
    return (
        f"### versioned-action {result.operation}\n\n{result.headline()}\n\n"
        f"| output | value |\n| --- | --- |\n{rows}\n"
    )


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    reporter = Reporter(summary_path=environ.get("GITHUB_STEP_SUMMARY") or None)
    values = read_inputs(environ, INPUT_NAMES)
    operation = values.get("operation") or "?"
    title = f"versioned-action {operation} failed"
    try:
        request = parse(values, environ)
        with reporter.group(f"versioned-action {request.operation} {request.name or ''}".strip()):
            reporter.info(
                f"backend {request.settings.backend}, bucket {request.settings.bucket}, "
                f"prefix {request.settings.prefix or '(none)'}"
            )
            result = run(request)
            for key, value in result.outputs().items():
                if value and key != "result":
                    reporter.info(f"{key}: {value}")
    except InvalidInput as err:
        reporter.error(f"input {err.field}: {err}", title=title)
        reporter.summary(f"### {title}\n\n{err}\n")
        return 1
    except VersionedError as err:
        reporter.error(str(err), title=title)
        reporter.summary(f"### {title}\n\n{err}\n")
        return 1
    except Exception as err:  # the action's boundary: any bug still ends in one ::error line
        traceback.print_exc(file=sys.stderr)
        reporter.error(f"unexpected {type(err).__name__}: {err}", title=title)
        return 1
    outputs = result.outputs()
    write_outputs(environ.get("GITHUB_OUTPUT"), outputs)
    reporter.notice(result.headline(), title=f"versioned-action {result.operation}")
    reporter.summary(summary_markdown(result, outputs))
    return 0
