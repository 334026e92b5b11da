"""Action inputs as the runner passes them to a container: ``INPUT_<NAME>`` with hyphens kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def env_name(name: str) -> str:
    """``endpoint-url`` -> ``INPUT_ENDPOINT-URL`` (upper case, spaces to ``_``, hyphens kept)."""
    return "INPUT_" + name.replace(" ", "_").upper()


def read_inputs(environ: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """Every named input; empty string when unset. ``INPUT_ENDPOINT_URL`` is accepted too, for
    runners and shells that cannot carry a hyphen in a variable name."""
    values = {}
    for name in names:
        value = environ.get(env_name(name))
        if value is None:
            value = environ.get(env_name(name).replace("-", "_"), "")
        values[name] = value
    return values
