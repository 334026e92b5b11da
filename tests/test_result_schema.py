"""The result document: every operation's matches result.schema.json, and the action's `result`
output and the CLI's `--json` are the same document for the same operation."""

from __future__ import annotations

import copy
import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from local_runner import Runner, action_metadata, parse_output_file

from versioned_action import BACKENDS, open_repository, results
from versioned_action.cli import main as cli_main
from versioned_action.github import action
from versioned_action.models import AliasTarget, Artifact, HistoryEntry
from versioned_action.operations import Result, run
from versioned_action.request import OPERATIONS, parse

ROOT = Path(__file__).parents[1]
SCHEMA = results.schema()
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
CANARY = {"version": "1", "secondary-version": "2", "secondary-weight": "10"}
# Every operation, and the variants with fields of their own: (operation, inputs, file content)
STEPS = [
    ("put", {"path": "app.zip", "publish": "true", "alias": "staging"}, b"one"),
    ("put", {"path": "app.zip"}, b"two"),
    ("publish", {"alias": "staging"}, None),
    ("promote", {"alias": "prod", "version": "1"}, None),
    ("promote", {"alias": "prod", **CANARY}, None),
    ("promote", {"alias": "prod", "version": "2", "dry-run": "true"}, None),
    ("rollback", {"alias": "prod", "dry-run": "true"}, None),
    ("rollback", {"alias": "prod"}, None),
    ("get", {"alias": "prod", "path": "got.zip"}, None),
    ("get", {}, None),
    ("list", {}, None),
    ("list", {"name": ""}, None),
    ("history", {"alias": "prod"}, None),
    ("delete-alias", {"alias": "staging", "dry-run": "true"}, None),
    ("delete-alias", {"alias": "staging"}, None),
    ("delete-alias", {"alias": "staging"}, None),
    ("purge", {"keep-last": "0", "older-than": "0", "dry-run": "true"}, None),
    ("purge", {"keep-last": "0", "older-than": "0"}, None),
]
VOLATILE = {"updated_at", "changed_at", "purged_at", "id", "previous_entry"}


def problems(document: dict) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def run_steps(do) -> list[dict]:
    """Each step's document, through ``do(operation, inputs)``; the working directory holds
    the files the steps put and get."""
    documents = []
    for operation, inputs, content in STEPS:
        if content is not None:
            Path(inputs["path"]).write_bytes(content)
        documents.append(do(operation, {"name": "app", **inputs}))
    return documents


def comparable(document: dict, bucket: str) -> dict:
    """The document without what differs from run to run: times, entry ids, the bucket."""

    def clean(value):
        if isinstance(value, dict):
            return {k: "<volatile>" if k in VOLATILE else clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value.replace(bucket, "<bucket>") if isinstance(value, str) else value

    return clean(document)


@pytest.fixture
def where(moto_endpoint, unique, tmp_path, monkeypatch):
    """A fresh bucket (and table) and its settings as action inputs; the working directory is
    empty. Made once here, so that no step spends its time on creating them."""
    monkeypatch.chdir(tmp_path)

    def make(tag: str, backend: str = "s3") -> tuple[dict[str, str], object]:
        bucket = f"rs{tag}-{unique}"
        repo = open_repository(
            backend, bucket=bucket, table=bucket, endpoint_url=moto_endpoint, region="us-east-1"
        )
        repo.bootstrap()
        return {
            "backend": backend,
            "bucket": bucket,
            "table": bucket,
            "endpoint-url": moto_endpoint,
        }, repo

    return make


def test_the_schema_is_draft_2020_12_and_ships_in_the_package():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["properties"]["schema"] == {"const": results.SCHEMA}
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert results.SCHEMA_FILE in data["package-data"]["versioned_action"]


def test_the_schema_names_the_fields_each_operation_has():
    rules = {
        rule["if"]["properties"]["operation"]["const"]: rule["then"] for rule in SCHEMA["allOf"]
    }
    assert set(rules) == set(OPERATIONS) == set(results.FIELDS)
    for operation, fields in results.FIELDS.items():
        keys = ["schema", "operation", "changed", *fields]
        assert rules[operation]["required"] == keys, operation
        assert rules[operation]["propertyNames"] == {"enum": keys}, operation


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_operation_of_the_library_matches_the_schema(where, backend):
    settings, repo = where("lib", backend)

    def do(operation, inputs):
        result = run(parse({"operation": operation, **settings, **inputs}, {}), repo)
        document = result.to_dict()
        assert json.loads(result.outputs()["result"]) == document
        return document

    documents = run_steps(do)
    for (operation, inputs, _), document in zip(STEPS, documents, strict=True):
        assert document["operation"] == operation
        assert problems(document) == [], (operation, inputs, document)
    assert {d["operation"] for d in documents} == set(OPERATIONS)
    put, plain = documents[0], documents[1]
    assert put["details"]["published"]["version"] == "1" and plain["details"]["published"] is None
    canary = documents[4]
    assert (canary["secondary_version"], canary["secondary_weight"]) == ("2", 10)
    assert canary["secondary_s3_uri"].endswith("000002")
    restored = documents[7]["details"]["restored_entry"]
    assert restored["new"] == {"version": "1", "secondary_version": None, "secondary_weight": None}
    listed = documents[10]["details"]
    assert [a["alias"] for a in listed["aliases"]] == ["prod", "staging"]
    assert documents[11]["details"] == {"artifacts": ["app"]}
    assert documents[15]["details"] == {"previous": None, "entry": None}  # nothing to delete


def test_a_directory_put_matches_the_schema(where, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>")
    settings, repo = where("dir")
    values = {"operation": "put", **settings, "name": "site", "path": "site"}
    document = run(parse(values, {}), repo).to_dict()
    assert problems(document) == [] and document["details"]["archive"] == "tar"


def action_step(settings: dict[str, str], files: Path):
    """The action's entrypoint in this process, with every input as the runner passes it."""
    declared = action_metadata()["inputs"]
    counter = iter(range(1, 1000))

    def do(operation, inputs):
        given = {**settings, "operation": operation, **inputs}
        environ = {
            "INPUT_" + name.upper(): given.get(name, str(spec.get("default", "")))
            for name, spec in declared.items()
        }
        step = files / f"step-{next(counter)}"
        step.mkdir()
        environ["GITHUB_OUTPUT"] = str(step / "output")
        environ["GITHUB_STEP_SUMMARY"] = str(step / "summary")
        assert action.main(environ) == 0
        return json.loads(parse_output_file((step / "output").read_text())["result"])

    return do


def cli_step(settings: dict[str, str], monkeypatch):
    """The CLI with --json, its settings in VERSIONED_* variables."""
    for key, value in settings.items():
        monkeypatch.setenv("VERSIONED_" + key.upper().replace("-", "_"), value)
    positional = {"put": ("name", "path"), "publish": ("name",), "get": ("name",)}
    positional |= {"list": ("name",), "purge": ("name",)}
    runner = CliRunner()

    def do(operation, inputs):
        names = positional.get(operation, ("name", "alias"))
        args = ["--json", operation, *(inputs[n] for n in names if inputs.get(n))]
        for key, value in inputs.items():
            if key not in names:
                args += [f"--{key}"] if value == "true" else [f"--{key}", value]
        if operation in ("purge", "delete-alias"):
            args.append("--yes")
        done = runner.invoke(cli_main, args, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)

    return do


def test_the_action_and_the_cli_print_the_same_document(where, tmp_path, monkeypatch):
    (by_action, _), (by_cli, _) = where("act"), where("cli")
    (tmp_path / "files").mkdir()
    (tmp_path / "action").mkdir()
    monkeypatch.chdir(tmp_path / "action")
    from_action = run_steps(action_step(by_action, tmp_path / "files"))
    (tmp_path / "cli").mkdir()
    monkeypatch.chdir(tmp_path / "cli")
    from_cli = run_steps(cli_step(by_cli, monkeypatch))
    for (operation, _, _), one, other in zip(STEPS, from_action, from_cli, strict=True):
        assert problems(one) == [], (operation, one)
        assert comparable(one, by_action["bucket"]) == comparable(other, by_cli["bucket"])


def test_the_entrypoint_process_writes_a_valid_result(moto_endpoint, unique, tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "app.zip").write_bytes(b"one")
    step = Runner(workspace).step(
        operation="put",
        name="app",
        path="app.zip",
        publish="true",
        alias="prod",
        bucket=f"rsproc-{unique}",
        endpoint_url=moto_endpoint,
        create_resources="true",
    )
    assert step.returncode == 0, step.stdout + step.stderr
    document = json.loads(step.outputs["result"])
    assert problems(document) == []
    assert document["details"]["latest"]["metadata"]["github_run_id"] == "4242"  # provenance


# ----- the schema rejects what it does not describe -------------------------------------------

WHEN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
URI = "s3://bkt/versioned-artifacts/app/versions/999999_000001"


def put_document() -> dict:
    stored = Artifact("app", "1", WHEN, URI, "ab" * 32, 3, changed=True, metadata={"a": "b"})
    result = Result("put", name="app", version="1", s3_uri=URI, sha256="ab" * 32, size=3)
    result.changed = True
    result.details = {
        "latest": results.written(stored),
        "published": results.written(stored),
        "archive": None,
    }
    return result.to_dict()


def history_document() -> dict:
    change = HistoryEntry("app", "prod", WHEN, AliasTarget("1"), AliasTarget("1", "2", 10), id="c")
    result = Result("history", name="app", alias="prod", version="1")
    result.details = {"entries": [results.entry(change)]}
    return result.to_dict()


def renamed(document: dict, path: tuple, new: str) -> dict:
    changed = copy.deepcopy(document)
    *parents, old = path
    holder = changed
    for key in parents:
        holder = holder[key]
    holder[new] = holder.pop(old)
    return changed


def test_valid_documents_pass():
    assert problems(put_document()) == [] and problems(history_document()) == []


@pytest.mark.parametrize(
    "document, path, new",
    [
        (put_document, ("s3_uri",), "s3uri"),
        (put_document, ("details", "latest", "updated_at"), "update_at"),
        (put_document, ("details", "published", "s3_uri"), "version_s3uri"),
        (history_document, ("details", "entries", 0, "new", "secondary_weight"), "weight"),
    ],
)
def test_a_misspelled_field_is_rejected(document, path, new):
    assert problems(renamed(document(), path, new))


@pytest.mark.parametrize(
    "path, key",
    [
        ((), "build"),  # unknown anywhere
        ((), "dry_run"),  # a field of other operations, not of put
        (("details",), "note"),
        (("details", "latest"), "name"),
    ],
)
def test_an_unknown_field_is_rejected(path, key):
    document = put_document()
    holder = document
    for part in path:
        holder = holder[part]
    holder[key] = False
    assert problems(document)


def test_a_missing_field_or_a_wrong_type_is_rejected():
    document = put_document()
    del document["alias"]  # null when there is none, never absent
    assert any("'alias' is a required property" in p for p in problems(document))
    assert problems({**put_document(), "size": "3"})
    assert problems({**put_document(), "schema": 2})
    assert problems({**put_document(), "operation": "copy"})
    when = {**put_document()["details"]["latest"], "updated_at": "yesterday"}
    assert problems({**put_document(), "details": {**put_document()["details"], "latest": when}})
