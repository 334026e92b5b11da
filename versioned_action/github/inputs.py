"""Action inputs as the runner passes them to a container: ``INPUT_<NAME>`` with hyphens kept.

The runner passes every ``with:`` key, declared or not, so an ``INPUT_*`` variable that names
no declared input is a typo in the workflow, and an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from ..errors import InvalidInput

PREFIX = "INPUT_"


class UnknownInput(InvalidInput):
    """An ``INPUT_*`` variable that names no input of action.yml; ``field`` is its name."""

    label = "input {field} "


def env_name(name: str) -> str:
    """``endpoint-url`` -> ``INPUT_ENDPOINT-URL`` (upper case, spaces to ``_``, hyphens kept)."""
    return PREFIX + name.replace(" ", "_").upper()


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


def check_declared(environ: Mapping[str, str], names: Sequence[str]) -> None:
    """Raise UnknownInput for the first ``INPUT_*`` variable no declared input reads."""
    known = {env_name(n) for n in names} | {env_name(n).replace("-", "_") for n in names}
    unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known)
    if not unknown:
        return
    fields = [variable[len(PREFIX) :].lower() for variable in unknown]
    message = _not_declared(fields[0], names)
    if len(fields) > 1:
        message += f" (nor are: {', '.join(fields[1:])})"
    raise UnknownInput(fields[0], message)


def _not_declared(field: str, names: Sequence[str]) -> str:
    forms = {form: name for name in names for form in (name, name.replace("-", "_"))}
    match = difflib.get_close_matches(field, list(forms), n=1, cutoff=0.6)
    if match:
        return f"is not an input of this action; did you mean {forms[match[0]]}?"
    return f"is not an input of this action; its inputs are {', '.join(names)}"
