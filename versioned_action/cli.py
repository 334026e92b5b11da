"""``versioned-action``: the action's operations from any shell or CI system.

Options mirror the action's inputs. The global ones (where the artifacts are, ``--json``) go
before or after the subcommand; every option also reads ``VERSIONED_<OPTION>``. docs/CLI.md
has the whole picture: precedence, exit statuses, completion.
"""

from __future__ import annotations

import contextvars
import json
import os
import shlex
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import click
from click.core import ParameterSource

from . import __version__, progress
from .aws_failures import debugging, unexpected
from .cli_options import (
    BY_PARAM,
    EXIT_CODES,
    GLOBALS,
    State,
    envvar,
    exit_code,
    flag,
    option,
    state_of,
)
from .errors import InvalidInput, VersionedError
from .github.commands import escape_text
from .operations import Result, run
from .request import parse
from .syntax import Syntax

PROG = "versioned-action"
# The operation being run (its name, raw inputs, syntax), for the process's boundary to name
# what it worked on when something other than a VersionedError ends it.
_STEP: contextvars.ContextVar[tuple[str, dict[str, str], Syntax] | None] = contextvars.ContextVar(
    "versioned_cli_step", default=None
)


class _Command(click.Command):
    """A subcommand: its own options, then the global ones under their own heading."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(g.option(on_command=True) for g in GLOBALS)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and isinstance(param, click.Option):
                (shared if param.name in BY_PARAM else own).append(record)
        with formatter.section("Options"):
            formatter.write_dl(own)
        with formatter.section(f"Global options (also before the command; see {PROG} -h)"):
            formatter.write_dl(shared)


class CliSyntax(Syntax):
    """Inputs as this CLI spells them: ``--version 3``, ``NAME``, ``versioned-action promote``;
    a value the environment gave is named by its variable."""

    def __init__(self, command: click.Command, from_env: Mapping[str, str] | None = None):
        self.command = command
        self.from_env = dict(from_env or {})

    def field(self, name: str) -> str | None:
        if name in self.from_env:
            return self.from_env[name]
        param = _param(self.command, name)
        if param is None:
            return None
        return param.human_readable_name if isinstance(param, click.Argument) else f"--{name}"

    def input(self, name: str, value: str | None) -> str:
        return _word(self.command, name, value)

    def run(self, operation: str, inputs: Sequence[tuple[str, str]]) -> str:
        command = main.commands.get(operation)
        if command is None:
            return f"{PROG} {operation}"
        given = dict(inputs)
        words = [PROG, operation]
        for param in command.params:
            if isinstance(param, click.Argument) and param.name is not None:
                if param.name in given:
                    words.append(shlex.quote(given.pop(param.name)))
                elif param.required:
                    words.append(param.human_readable_name)
        words += [_word(command, name, value) for name, value in given.items()]
        return " ".join(words)


def _param(command: click.Command, name: str) -> click.Parameter | None:
    for param in command.params:
        if isinstance(param, click.Argument) and param.name == name.replace("-", "_"):
            return param
        if isinstance(param, click.Option) and f"--{name}" in param.opts:
            return param
    return None


def _word(command: click.Command, name: str, value: str | None) -> str:
    """Input ``name`` (set to ``value``) on the command line of ``command``."""
    if name == "operation":
        return f"{PROG} {value}" if value else "the subcommand"
    param = _param(command, name)
    if isinstance(param, click.Argument):
        return param.human_readable_name if value is None else shlex.quote(value)
    if isinstance(param, click.Option) and param.is_flag:
        return f"--{name}" if value in (None, "true") else f"no --{name}"
    return f"--{name}" if value is None else f"--{name} {shlex.quote(value)}"


def _execute(ctx: click.Context, operation: str, **values: Any) -> None:
    """Parse, run and print one operation; a failure exits with its EXIT_CODES status."""
    state = state_of(ctx)
    raw = {"operation": operation, **state.settings}
    from_env = dict(state.from_env)
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.replace("_", "-")
        raw[name] = "true" if value is True else str(value)
        if ctx.get_parameter_source(key) is ParameterSource.ENVIRONMENT:
            from_env[name] = envvar(name)
    syntax = CliSyntax(ctx.command, from_env)
    _STEP.set((operation, raw, syntax))
    try:
        request = parse(raw, os.environ)
        with progress.routed(lambda line: click.echo(line, err=True)):
            result = run(request)
    except InvalidInput as err:  # an InvalidEnvironment names its variable
        raise click.UsageError(err.render(syntax), ctx) from err
    except VersionedError as err:
        _error_line(err.render(syntax))
        ctx.exit(exit_code(err))
    _print(result, state.as_json)


def _error_line(message: str) -> None:
    """The one line of a failure on stderr (a line break in a server's message shown as
    ``\\n``)."""
    click.echo(f"error: {escape_text(message)}", err=True)


class _Main(click.Group):
    """The group; calling it (as the console script and ``python -m`` do) is the process's
    boundary, where any other exception still ends in one error line and exit status 1 (its
    traceback only with VERSIONED_DEBUG=1). ``main()``, which click's test runner calls,
    lets it through."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.main(*args, **kwargs)
        except Exception as err:  # a bug, or an answer no layer below could read
            step = _STEP.get()
            operation, raw, syntax = step or ("", {}, CliSyntax(self))
            _error_line(unexpected(err, operation, raw).render(syntax))
            if debugging(os.environ):
                click.echo("".join(traceback.format_exception(err)).rstrip(), err=True)
            sys.exit(1)


def _print(result: Result, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(result.headline())
    for key, value in result.outputs().items():
        if value and key not in ("result", "changed", "digest", "history"):
            click.echo(f"  {key}: {value}")
    if result.operation == "list":
        for line in _list_lines(result):
            click.echo(line)
    if result.operation == "history":
        for entry in result.details["entries"]:
            click.echo(_history_line(entry))


def _list_lines(result: Result) -> list[str]:
    if "artifacts" in result.details:
        return [f"  {name}" for name in result.details["artifacts"]]
    lines = [
        f"  {v['version']:>7}  {v['updated_at']}  {(v['sha256'] or '-')[:12]}"
        for v in result.details["versions"]
    ]
    for alias in result.details["aliases"]:
        target = alias["version"]
        if alias["secondary_version"]:
            weight = alias["secondary_weight"]
            target += f" + {alias['secondary_version']} ({weight}%)"
        lines.append(f"  alias {alias['alias']} -> {target}")
    return lines


def _target(target: dict[str, Any] | None, none: str) -> str:
    if target is None:
        return none
    if target["secondary_version"] is None:
        return str(target["version"])
    weight = target["secondary_weight"] or 0
    return f"{target['version']} ({100 - weight}%) + {target['secondary_version']} ({weight}%)"


def _history_line(entry: dict[str, Any]) -> str:
    line = (
        f"  {entry['changed_at']}  {_target(entry['previous'], '(none)')} -> "
        f"{_target(entry['new'], '(deleted)')}"
    )
    if entry["actor"]:
        line += f"  by {entry['actor']}"
    if entry["reason"]:
        line += f"  ({entry['reason']})"
    return line


def _confirm(question: str, refusal: str, yes: bool, dry_run: bool) -> None:
    """Destructive commands ask first, unless --yes or --dry-run (without a terminal: refuse)."""
    if yes or dry_run:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(f"{refusal}: pass --yes (or --dry-run first)")
    click.confirm(question, abort=True)


def _example(*lines: str) -> str:
    """A command's help epilog: its example, kept as written."""
    return "\b\nExample:\n" + "\n".join(f"  {PROG} {line}" for line in lines)


def _epilog() -> str:
    codes = "\n".join(f"  {code}  {meaning}" for code, _, meaning in EXIT_CODES)
    return (
        "\b\nGlobal options go before or after the command; given in both places, the one\n"
        "after the command wins. Every option also reads VERSIONED_<OPTION>\n"
        "(VERSIONED_BUCKET, VERSIONED_CREATE_RESOURCES=true, VERSIONED_JSON=true, ...);\n"
        "the command line wins over the environment.\n\n"
        f"\b\nExit status:\n{codes}\n\n"
        "\b\nShell completion (bash; zsh_source and fish_source likewise):\n"
        f'  eval "$(_VERSIONED_ACTION_COMPLETE=bash_source {PROG})"\n\n'
        + _example("--bucket acme-artifacts put app dist/app.zip --publish")
    )


@click.group(
    cls=_Main,
    context_settings={"help_option_names": ["-h", "--help"]},
    params=[g.option(on_command=False) for g in GLOBALS],
    epilog=_epilog(),
)
@click.version_option(__version__, prog_name=PROG)
@click.pass_context
def main(ctx: click.Context, /, **values: Any) -> None:
    """Versioned, immutable binary artifacts in S3 (optionally with DynamoDB)."""
    state = State()
    for param in ctx.command.params:
        if param.name in BY_PARAM:
            state.take(ctx, param.name, values[param.name])
    ctx.obj = state


main.command_class = _Command


@main.command(epilog=_example("put app dist/app.zip --publish --alias staging"))
@click.argument("name")
@click.argument("path", type=click.Path(exists=False))
@option("content-type", "MIME type (default: guessed from the file name).")
@option("metadata", "Extra metadata: KEY=VALUE lines or a JSON object.")
@option("tags", "S3 object tags: KEY=VALUE lines or a JSON object.")
@click.option(
    "--provenance/--no-provenance",
    default=True,
    help="Record GITHUB_* provenance as metadata when present.",
)
@flag("publish", "Publish a new immutable version right after the put.")
@option("alias", "Point this alias at the new version.")
@click.pass_context
def put(ctx: click.Context, /, name: str, path: str, provenance: bool, **options: Any) -> None:
    """Upload PATH as the LATEST version of NAME.

    A directory is uploaded as an uncompressed tar of it (content type application/x-tar,
    metadata archive=tar), built so that the same tree always gives the same sha256: entries
    sorted by path, mtime 0 (or SOURCE_DATE_EPOCH), owner 0, modes 0644 / 0755. Links must
    stay inside the directory. `get` downloads the tar as a file; untar it yourself.
    """
    _execute(
        ctx, "put", name=name, path=path, provenance="true" if provenance else "false", **options
    )


@main.command(epilog=_example("publish app --alias staging"))
@click.argument("name")
@option("alias", "Point this alias at the new version.")
@click.pass_context
def publish(ctx: click.Context, /, name: str, **options: Any) -> None:
    """Publish LATEST as the next immutable version (unchanged LATEST: the newest one)."""
    _execute(ctx, "publish", name=name, **options)


@main.command(
    epilog=_example(
        "promote app production --version 3 --secondary-version 4 --secondary-weight 10"
    )
)
@click.argument("name")
@click.argument("alias")
@option("version", "Version to point at (default: newest published).")
@option("from-alias", "Promote the version this alias points at.")
@option("secondary-version", "Canary version.")
@option("secondary-weight", "Percent of traffic (0-99) for the canary.")
@option("expected-version", "Refuse unless ALIAS points at this version now.")
@flag("dry-run", "Show what would change; change nothing.")
@click.pass_context
def promote(ctx: click.Context, /, name: str, alias: str, **options: Any) -> None:
    """Point ALIAS of NAME at a version, optionally with a weighted canary."""
    _execute(ctx, "promote", name=name, alias=alias, **options)


@main.command(epilog=_example("rollback app production --expected-version 4"))
@click.argument("name")
@click.argument("alias")
@option("version", "Roll back to this version (default: the previous configuration).")
@option("expected-version", "Refuse unless ALIAS points at this version now.")
@flag("dry-run", "Show what would change; change nothing.")
@click.pass_context
def rollback(ctx: click.Context, /, name: str, alias: str, **options: Any) -> None:
    """Restore the previous configuration of ALIAS (or point it at --version)."""
    _execute(ctx, "rollback", name=name, alias=alias, **options)


@main.command(epilog=_example("get app --alias production --path app.zip"))
@click.argument("name")
@option("alias", "Read the version this alias points at.")
@option("version", "Version to read (default: LATEST).")
@option("path", "Write the content to this file (verified by sha256).", type=click.Path())
@click.pass_context
def get(ctx: click.Context, /, name: str, **options: Any) -> None:
    """Show a version of NAME, and with --path download it."""
    _execute(ctx, "get", name=name, **options)


@main.command(name="list", epilog=_example("list app"))
@click.argument("name", required=False)
@click.pass_context
def list_(ctx: click.Context, /, name: str | None) -> None:
    """List artifact names, or the versions and aliases of NAME."""
    _execute(ctx, "list", name=name)


@main.command(epilog=_example("purge app --keep-last 5 --older-than 30d --dry-run"))
@click.argument("name")
@option("keep-last", "Newest published versions always kept.", default="10")
@option("older-than", "Only purge versions older than this (30s, 15m, 12h, 90d).", default="90d")
@flag("dry-run", "Show what would be deleted; delete nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def purge(ctx: click.Context, /, name: str, yes: bool, **options: Any) -> None:
    """Delete old versions of NAME (never LATEST, the newest, or any aliased version)."""
    question = f"Delete old versions of {name}?"
    _confirm(question, "purge deletes versions", yes, options["dry_run"])
    _execute(ctx, "purge", name=name, **options)


@main.command(epilog=_example("history app production --limit 5"))
@click.argument("name")
@click.argument("alias")
@option("limit", "Show at most this many changes (1-1000).", default="20")
@click.pass_context
def history(ctx: click.Context, /, name: str, alias: str, **options: Any) -> None:
    """Show the recorded changes of ALIAS of NAME, newest first.

    An alias with no recorded change (created by a tool that keeps no history) shows none;
    an alias that never existed is an error.
    """
    _execute(ctx, "history", name=name, alias=alias, **options)


@main.command(name="delete-alias", epilog=_example("delete-alias app staging --yes"))
@click.argument("name")
@click.argument("alias")
@option("expected-version", "Refuse unless ALIAS points at this version now.")
@flag("dry-run", "Show what would be deleted; delete nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete_alias(ctx: click.Context, /, name: str, alias: str, yes: bool, **options: Any) -> None:
    """Delete ALIAS of NAME (recorded in its history; the versions stay).

    Deleting an alias that does not exist changes nothing and succeeds (changed: false), so
    re-running a deletion is safe.
    """
    question = f"Delete alias {alias} of {name}?"
    _confirm(question, "delete-alias deletes an alias", yes, options["dry_run"])
    _execute(ctx, "delete-alias", name=name, alias=alias, **options)


if __name__ == "__main__":  # pragma: no cover
    main()
