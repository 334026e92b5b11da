"""``versioned-action``: the action's operations from any shell or CI system.

Every option mirrors an input of the GitHub Action and can be set through an environment
variable ``VERSIONED_<OPTION>`` (e.g. ``VERSIONED_BUCKET``, ``VERSIONED_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
import os
import sys

import click

from . import __version__, progress
from .errors import InvalidEnvironment, InvalidInput, VersionedError
from .operations import Result, run
from .request import parse


def _option(name: str, help: str, **kwargs):
    envvar = "VERSIONED_" + name.upper().replace("-", "_")
    return click.option(
        f"--{name}", name.replace("-", "_"), envvar=envvar, show_envvar=True, help=help, **kwargs
    )


def _flag(name: str, help: str):
    return _option(name, help, is_flag=True, default=False)


def _execute(ctx: click.Context, operation: str, **values) -> None:
    """Parse, run and print one operation; errors go to stderr with exit status 1."""
    common = ctx.obj
    raw = {"operation": operation, **common["settings"]}
    for key, value in values.items():
        if value is None or value is False:
            continue
        raw[key.replace("_", "-")] = "true" if value is True else str(value)
    try:
        request = parse(raw, os.environ)
        with progress.routed(lambda line: click.echo(line, err=True)):
            result = run(request)
    except InvalidEnvironment as err:  # names the variable, which is no option
        raise click.UsageError(str(err)) from err
    except InvalidInput as err:
        raise click.UsageError(err.named(f"--{err.field}")) from err
    except VersionedError as err:
        click.echo(f"error: {err}", err=True)
        ctx.exit(1)
    _print(result, common["json"])


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
        f"  {v['version']:>7}  {v['update_at']}  {v['sha256'][:12]}"
        for v in result.details["versions"]
    ]
    for alias in result.details["aliases"]:
        target = alias["version"]
        if alias["secondary_version"]:
            target += f" + {alias['secondary_version']} ({alias['secondary_version_weight']}%)"
        lines.append(f"  alias {alias['alias']} -> {target}")
    return lines


def _target(target: dict | None, none: str) -> str:
    if target is None:
        return none
    if target["secondary_version"] is None:
        return target["version"]
    weight = target["secondary_version_weight"] or 0
    return f"{target['version']} ({100 - weight}%) + {target['secondary_version']} ({weight}%)"


def _history_line(entry: dict) -> str:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="versioned-action")
@_option("backend", "s3 or s3-dynamodb.", default="s3")
@_option("bucket", "S3 bucket that holds the artifacts.")
@_option("prefix", "Key prefix inside the bucket.", default="versioned-artifacts")
@_option("table", "DynamoDB table (s3-dynamodb).", default="versioned-artifacts")
@_option("aws-region", "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION).")
@_option("endpoint-url", "S3-compatible / local endpoint for S3 and DynamoDB.")
@_option("suffix", "Extension of stored objects, e.g. .zip.", default="")
@_flag("create-resources", "Create the bucket / table when missing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def main(ctx, as_json, **settings):
    """Versioned, immutable binary artifacts in S3 (optionally with DynamoDB)."""
    ctx.obj = {
        "json": as_json,
        "settings": {
            k.replace("_", "-"): ("true" if v is True else v)
            for k, v in settings.items()
            if v not in (None, False)
        },
    }


@main.command()
@click.argument("name")
@click.argument("path", type=click.Path(exists=False))
@_option("content-type", "MIME type (default: guessed from the file name).")
@_option("metadata", "Extra metadata: KEY=VALUE lines or a JSON object.")
@_option("tags", "S3 object tags: KEY=VALUE lines or a JSON object.")
@click.option(
    "--provenance/--no-provenance",
    default=True,
    help="Record GITHUB_* provenance as metadata when present.",
)
@_flag("publish", "Publish a new immutable version right after the put.")
@_option("alias", "Point this alias at the new version.")
@click.pass_context
def put(ctx, name, path, provenance, **options):
    """Upload PATH as the LATEST version of NAME.

    A directory is uploaded as an uncompressed tar of it (content type application/x-tar,
    metadata archive=tar), built so that the same tree always gives the same sha256: entries
    sorted by path, mtime 0 (or SOURCE_DATE_EPOCH), owner 0, modes 0644 / 0755. Links must
    stay inside the directory. `get` downloads the tar as a file; untar it yourself.
    """
    _execute(
        ctx, "put", name=name, path=path, provenance="true" if provenance else "false", **options
    )


@main.command()
@click.argument("name")
@_option("alias", "Point this alias at the new version.")
@click.pass_context
def publish(ctx, name, **options):
    """Publish LATEST as the next immutable version (unchanged LATEST: the newest one)."""
    _execute(ctx, "publish", name=name, **options)


@main.command()
@click.argument("name")
@click.argument("alias")
@_option("version", "Version to point at (default: newest published).")
@_option("from-alias", "Promote the version this alias points at.")
@_option("secondary-version", "Canary version.")
@_option("secondary-weight", "Percent of traffic (0-99) for the canary.")
@_option("expected-version", "Refuse unless ALIAS points at this version now.")
@_flag("dry-run", "Show what would change; change nothing.")
@click.pass_context
def promote(ctx, name, alias, **options):
    """Point ALIAS of NAME at a version, optionally with a weighted canary."""
    _execute(ctx, "promote", name=name, alias=alias, **options)


@main.command()
@click.argument("name")
@click.argument("alias")
@_option("version", "Roll back to this version (default: the previous configuration).")
@_option("expected-version", "Refuse unless ALIAS points at this version now.")
@_flag("dry-run", "Show what would change; change nothing.")
@click.pass_context
def rollback(ctx, name, alias, **options):
    """Restore the previous configuration of ALIAS (or point it at --version)."""
    _execute(ctx, "rollback", name=name, alias=alias, **options)


@main.command()
@click.argument("name")
@_option("alias", "Read the version this alias points at.")
@_option("version", "Version to read (default: LATEST).")
@_option("path", "Write the content to this file (verified by sha256).")
@click.pass_context
def get(ctx, name, **options):
    """Show a version of NAME, and with --path download it."""
    _execute(ctx, "get", name=name, **options)


@main.command(name="list")
@click.argument("name", required=False)
@click.pass_context
def list_(ctx, name):
    """List artifact names, or the versions and aliases of NAME."""
    _execute(ctx, "list", name=name)


@main.command()
@click.argument("name")
@_option("keep-last", "Newest published versions always kept.", default="10")
@_option("older-than", "Only purge versions older than this (30s, 15m, 12h, 90d).", default="90d")
@_flag("dry-run", "Show what would be deleted; delete nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def purge(ctx, name, yes, **options):
    """Delete old versions of NAME (never LATEST, the newest, or any aliased version)."""
    question = f"Delete old versions of {name}?"
    _confirm(question, "purge deletes versions", yes, options["dry_run"])
    _execute(ctx, "purge", name=name, **options)


@main.command()
@click.argument("name")
@click.argument("alias")
@_option("limit", "Show at most this many changes (1-1000).", default="20")
@click.pass_context
def history(ctx, name, alias, **options):
    """Show the recorded changes of ALIAS of NAME, newest first.

    An alias with no recorded change (created by a tool that keeps no history) shows none;
    an alias that never existed is an error.
    """
    _execute(ctx, "history", name=name, alias=alias, **options)


@main.command(name="delete-alias")
@click.argument("name")
@click.argument("alias")
@_option("expected-version", "Refuse unless ALIAS points at this version now.")
@_flag("dry-run", "Show what would be deleted; delete nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete_alias(ctx, name, alias, yes, **options):
    """Delete ALIAS of NAME (recorded in its history; the versions stay).

    Deleting an alias that does not exist changes nothing and succeeds (changed: false), so
    re-running a deletion is safe.
    """
    question = f"Delete alias {alias} of {name}?"
    _confirm(question, "delete-alias deletes an alias", yes, options["dry_run"])
    _execute(ctx, "delete-alias", name=name, alias=alias, **options)


if __name__ == "__main__":  # pragma: no cover
    main()
