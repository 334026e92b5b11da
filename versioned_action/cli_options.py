"""The CLI's shared options: the global ones every subcommand accepts too, each subcommand's own
that read ``VERSIONED_<OPTION>``, the state the group keeps of them, and the exit statuses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from . import BACKENDS, DEFAULT_PREFIX, DEFAULT_TABLE
from .errors import AccessDenied, Conflict, InvalidInput, NotFound, VersionedError

_Decorated = TypeVar("_Decorated", bound=Callable[..., Any])

# Exit statuses: (status, the errors that end in it, what it means). 2 is click's own.
EXIT_CODES: tuple[tuple[int, tuple[type[Exception], ...], str], ...] = (
    (0, (), "success"),
    (1, (VersionedError,), "any other failure (endpoint unreachable, no bucket or table, ...)"),
    (2, (InvalidInput,), "usage: a bad option, argument or VERSIONED_* value; nothing was sent"),
    (3, (NotFound,), "not found: the artifact, version, alias or alias history"),
    (4, (Conflict,), "conflict: the alias changed meanwhile (--expected-version), version in use"),
    (5, (AccessDenied,), "access denied: AWS refused the credentials or the request"),
)


def exit_code(err: VersionedError) -> int:
    """The exit status of a failure: 2 to 5 by its class, else 1."""
    for code, kinds, _ in EXIT_CODES[2:]:
        if isinstance(err, kinds):
            return code
    return 1


def envvar(name: str) -> str:
    return "VERSIONED_" + name.upper().replace("-", "_")


@dataclasses.dataclass(frozen=True)
class Global:
    """An option of the group that every subcommand accepts too."""

    name: str  # the action's input, or "json"
    help: str
    default: str | None = None
    flag: bool = False
    aliases: tuple[str, ...] = ()
    type: click.ParamType[Any] | None = None

    def option(self, *, on_command: bool) -> click.Option:
        kwargs: dict[str, Any] = (
            {"is_flag": True, "default": False} if self.flag else {"default": self.default}
        )
        if self.type is not None:
            kwargs["type"] = self.type
        if on_command:  # recorded into the group's state by _override, not passed to callbacks
            kwargs.update(expose_value=False, callback=_override)
        return click.Option(
            [f"--{self.name}", *self.aliases, self.name.replace("-", "_")],
            envvar=envvar(self.name),
            show_envvar=True,
            help=self.help,
            **kwargs,
        )


GLOBALS = (
    Global("backend", "s3 or s3-dynamodb.", "s3", type=click.Choice(BACKENDS)),
    Global("bucket", "S3 bucket that holds the artifacts."),
    Global("prefix", "Key prefix inside the bucket.", DEFAULT_PREFIX),
    Global("table", "DynamoDB table (s3-dynamodb).", DEFAULT_TABLE),
    Global(
        "aws-region",
        "AWS region (default: AWS_REGION, then AWS_DEFAULT_REGION).",
        aliases=("--region",),
    ),
    Global("endpoint-url", "S3-compatible / local endpoint for S3 and DynamoDB."),
    Global("suffix", "Extension of stored objects, e.g. .zip.", ""),
    Global("create-resources", "Create the bucket / table when missing.", flag=True),
    Global("json", "Print the result as JSON.", flag=True),
)
BY_PARAM = {g.name.replace("-", "_"): g for g in GLOBALS}


@dataclasses.dataclass
class State:
    """The global options in force: the group's, overridden by those after the subcommand."""

    settings: dict[str, str] = dataclasses.field(default_factory=dict)  # input -> raw string
    from_env: dict[str, str] = dataclasses.field(default_factory=dict)  # input -> variable
    as_json: bool = False

    def take(self, ctx: click.Context, param: str, value: object) -> None:
        """Record the value of the global option ``param`` (its parameter name)."""
        spec = BY_PARAM[param]
        source = ctx.get_parameter_source(param)
        if spec.name == "json":
            self.as_json = bool(value)
            return
        self.settings.pop(spec.name, None)
        self.from_env.pop(spec.name, None)
        if value in (None, False):
            return
        self.settings[spec.name] = "true" if value is True else str(value)
        if source is ParameterSource.ENVIRONMENT:
            self.from_env[spec.name] = envvar(spec.name)


def state_of(ctx: click.Context) -> State:
    """The State the group put in ``ctx.obj`` before running the subcommand."""
    state = ctx.find_object(State)
    if state is None:
        raise RuntimeError("a subcommand ran without its group (versioned_action.cli.main)")
    return state


def _override(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """A global option after the subcommand wins over the same one before it (as a repeated
    option does); from the environment or its default it changes nothing."""
    state = ctx.find_object(State)
    if state is None or ctx.resilient_parsing:  # shell completion parses, never runs the group
        return
    name = param.name
    if name is not None and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
        state.take(ctx, name, value)


def option(name: str, help: str, **kwargs: Any) -> Callable[[_Decorated], _Decorated]:
    """A subcommand's ``--NAME`` option, also read from ``VERSIONED_NAME``."""
    return click.option(
        f"--{name}",
        name.replace("-", "_"),
        envvar=envvar(name),
        show_envvar=True,
        help=help,
        **kwargs,
    )


def flag(name: str, help: str) -> Callable[[_Decorated], _Decorated]:
    return option(name, help, is_flag=True, default=False)
