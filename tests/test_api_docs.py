"""Every public function and class of the library has a docstring with an example, and every
example runs as written against a moto server over HTTP.

The public API is what ``versioned_action`` and ``versioned_action.compat`` export, with the
public methods and properties of those classes. Each docstring's examples run on a fresh
server holding the bucket ``my-bucket`` with artifact ``app``: versions 1 (``b"v1"``) and 2
(``b"v2"``), LATEST holding ``b"v2"``, alias ``prod`` on version 1. They see ``repo`` (that
bucket's ``s3`` repository), ``bsm`` (a BotoSesManager, for the compat layer), every name
``versioned_action`` exports, and run in an empty working directory.
"""

from __future__ import annotations

import builtins
import doctest
import inspect
import re
import types
import urllib.request
from pathlib import Path

import pytest
from conftest import moto_server

import versioned_action
from versioned_action import compat, open_repository
from versioned_action.compat import exc, s3_and_dynamodb_backend, s3_only_backend

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _members(cls: type) -> dict[str, object]:
    """The public methods and properties ``cls`` has from this project (not from object or
    Exception), each once."""
    found: dict[str, object] = {}
    for name, value in inspect.getmembers(cls):
        if name.startswith("_") or inspect.isclass(value):
            continue
        raw = inspect.getattr_static(cls, name)
        function = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
        module = getattr(function, "__module__", "") or ""
        if module.startswith("versioned_action"):  # named where it is defined: once
            found[f"{module}.{function.__qualname__}"] = raw
    return found


def public_objects() -> dict[str, object]:
    roots: list[object] = [
        getattr(versioned_action, name)
        for name in versioned_action.__all__
        if inspect.isclass(getattr(versioned_action, name))
        or inspect.isfunction(getattr(versioned_action, name))
    ]
    for module in (s3_only_backend, s3_and_dynamodb_backend):
        roots += [module.Repository, module.Artifact, module.Alias]
    roots += [getattr(exc, name) for name in dir(exc) if name.endswith("Error")]
    objects: dict[str, object] = {}
    for root in roots:
        objects[f"{root.__module__}.{root.__qualname__}"] = root
        if inspect.isclass(root):
            objects.update(_members(root))
    return objects


PUBLIC = public_objects()


def docstring(obj: object) -> str:
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    return inspect.getdoc(target) or ""


def test_the_public_surface_is_what_the_packages_export():
    assert "versioned_action.open_repository" in PUBLIC
    assert "versioned_action.repository.Repository.put_artifact" in PUBLIC
    assert "versioned_action.aliases.AliasOperations.put_alias" in PUBLIC
    assert "versioned_action.models.Alias.random_artifact" in PUBLIC
    assert "versioned_action.compat.s3_only_backend.Repository.put_alias" in PUBLIC
    assert not [name for name in PUBLIC if name.rpartition(".")[2].startswith("_")]
    assert set(compat.__all__) >= {"s3_only_backend", "s3_and_dynamodb_backend", "exc"}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_object_has_a_docstring_with_an_example(name):
    text = docstring(PUBLIC[name])
    assert text.strip(), f"{name} has no docstring"
    assert ">>> " in text, f"{name}'s docstring has no example (a >>> line)"


@pytest.fixture(scope="module")
def docs_endpoint():
    """A moto server of this module's own, reset before each docstring's examples."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def example_globals(docs_endpoint, monkeypatch, tmp_path):
    request = urllib.request.Request(f"{docs_endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", docs_endpoint)
    monkeypatch.chdir(tmp_path)
    repo = open_repository("s3", bucket="my-bucket", region="us-east-1")
    repo.bootstrap()
    for content in (b"v1", b"v2"):
        repo.put_and_publish("app", content)
    repo.put_alias("app", "prod", version=1)
    try:
        from boto_session_manager import BotoSesManager

        bsm = BotoSesManager(region_name="us-east-1")
    except ImportError:  # any object of that shape does
        import boto3

        bsm = types.SimpleNamespace(
            boto_ses=boto3.Session(region_name="us-east-1"), aws_region="us-east-1"
        )
    names = {name: getattr(versioned_action, name) for name in versioned_action.__all__}
    return {**names, "repo": repo, "bsm": bsm, "versioned_action": versioned_action}


@pytest.mark.parametrize("name", sorted(n for n in PUBLIC if ">>> " in docstring(PUBLIC[n])))
def test_every_example_runs_as_written(name, example_globals):
    test = doctest.DocTestParser().get_doctest(
        docstring(PUBLIC[name]), dict(example_globals), name, None, 0
    )
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def test_the_readme_hierarchy_is_the_classes_hierarchy():
    """The README's tree of errors (### Errors) is the tree of classes, and every error
    ``versioned_action`` exports is in it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("\n### Errors\n", 1)[1]
    tree = section.split("```text\n", 1)[1].split("```", 1)[0]
    parents: list[str] = []
    drawn = set()
    for line in tree.splitlines():
        match = re.match(r"^([│ ]*)(?:[├└]── )?([A-Z]\w+)(.*)$", line)
        assert match, f"not a line of the tree: {line!r}"
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        name, note = match.group(2), match.group(3)
        cls = getattr(versioned_action, name)
        del parents[depth:]
        if parents:
            assert cls.__bases__[0] is getattr(versioned_action, parents[-1]), line
        for builtin in re.findall(r"also (\w+Error)\b", note):
            assert issubclass(cls, getattr(builtins, builtin)), line
        parents.append(name)
        drawn.add(name)
    exported = {
        name
        for name in versioned_action.__all__
        if inspect.isclass(getattr(versioned_action, name))
        and issubclass(getattr(versioned_action, name), versioned_action.VersionedError)
    }
    assert drawn == exported
