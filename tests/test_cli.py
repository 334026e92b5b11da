"""The CLI: same operations, options mirroring the action's inputs, VERSIONED_* variables."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import NoRegionError
from click.testing import CliRunner

from versioned_action import aws_failures, cli_options, errors, syntax
from versioned_action import cli as cli_module
from versioned_action.cli import EXIT_CODES, GLOBALS, CliSyntax, main
from versioned_action.github.action import INPUT_NAMES, describe
from versioned_action.request import Settings, parse
from versioned_action.syntax import WORKFLOW

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("versioned-action")


@pytest.fixture
def cli(moto_endpoint, backend, unique, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VERSIONED_BUCKET", f"cli-{unique}")
    monkeypatch.setenv("VERSIONED_TABLE", f"cli-{unique}")
    monkeypatch.setenv("VERSIONED_BACKEND", backend)
    monkeypatch.setenv("VERSIONED_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("VERSIONED_CREATE_RESOURCES", "true")
    runner = CliRunner()

    def invoke(*args, code=0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_full_cycle_with_json(cli, tmp_path):
    (tmp_path / "app.zip").write_bytes(b"one")
    out = json.loads(cli("--json", "put", "app", "app.zip", "--publish").output)
    assert (out["version"], out["changed"]) == ("1", True)
    (tmp_path / "app.zip").write_bytes(b"two")
    cli("put", "app", "app.zip", "--publish", "--alias", "staging")
    cli("promote", "app", "prod", "--version", "1")
    out = json.loads(
        cli(
            "--json",
            "promote",
            "app",
            "prod",
            "--version",
            "1",
            "--secondary-version",
            "2",
            "--secondary-weight",
            "25",
        ).output
    )
    assert (out["secondary_version"], out["secondary_weight"]) == ("2", 25)
    human = cli("rollback", "app", "prod").output
    assert human.startswith("app alias prod now points at 1")
    lost = cli("promote", "app", "prod", "--version", "2", "--expected-version", "7", code=4)
    assert "points at 1, not 7" in lost.output
    cli("get", "app", "--alias", "staging", "--path", "got.zip")
    assert (tmp_path / "got.zip").read_bytes() == b"two"
    listing = cli("list", "app").output
    assert "alias staging -> 2" in listing and "LATEST" in listing
    assert "app" in cli("list").output


def test_purge_asks_unless_told(cli, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a")
    cli("put", "a", "a.bin", "--publish")
    result = cli("purge", "a", code=2)
    assert "--yes" in result.output
    cli("purge", "a", "--dry-run")
    out = json.loads(
        cli("--json", "purge", "a", "--yes", "--keep-last", "0", "--older-than", "0").output
    )
    assert out["deleted_versions"] == ["1"]


def test_bad_options_name_the_option(cli):
    result = cli("promote", "app", "prod", "--secondary-weight", "5", code=2)
    assert "--secondary-weight" in result.output
    result = cli("get", "app", code=3)
    assert "not found" in result.output
    assert result.output.endswith("Put it first (versioned-action put app PATH)\n")
    (Path.cwd() / "a.bin").write_bytes(b"a")
    cli("put", "app", "a.bin")
    unpublished = cli("promote", "app", "prod", code=3)  # nothing to promote: not found
    assert "has no published version" in unpublished.output
    assert "versioned-action publish app" in unpublished.output


def test_console_script_runs_as_a_process(moto_endpoint, backend, unique, tmp_path):
    exe = EXE
    assert exe.exists(), "pip install -e . provides the versioned-action command"
    (tmp_path / "x.bin").write_bytes(b"x")
    env = {**os.environ, "VERSIONED_ENDPOINT_URL": moto_endpoint, "VERSIONED_BACKEND": backend}
    done = subprocess.run(
        [
            str(exe),
            "--bucket",
            f"proc-{unique}",
            "--table",
            f"proc-{unique}",
            "--create-resources",
            "--json",
            "put",
            "x",
            "x.bin",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == "LATEST"


def test_history_and_delete_alias(cli, tmp_path):
    (tmp_path / "app.zip").write_bytes(b"one")
    cli("put", "app", "app.zip", "--publish", "--alias", "prod")
    cli(
        "promote",
        "app",
        "prod",
        "--version",
        "1",
        "--secondary-version",
        "LATEST",
        "--secondary-weight",
        "10",
    )
    human = cli("history", "app", "prod").output.splitlines()
    assert human[0] == "app alias prod: 2 recorded changes, newest first"
    assert human[-2].endswith("  1 -> 1 (90%) + LATEST (10%)")
    assert human[-1].endswith("  (none) -> 1")
    out = json.loads(cli("--json", "history", "app", "prod", "--limit", "1").output)
    assert len(out["details"]["entries"]) == 1 and out["version"] == "1"
    assert "--limit" in cli("history", "app", "prod", "--limit", "0", code=2).output

    assert "--yes" in cli("delete-alias", "app", "prod", code=2).output  # no terminal: refuse
    assert "would be deleted" in cli("delete-alias", "app", "prod", "--dry-run").output
    out = json.loads(cli("--json", "delete-alias", "app", "prod", "--yes").output)
    assert (out["changed"], out["previous_version"]) == (True, "1")
    assert "nothing to delete" in cli("delete-alias", "app", "prod", "-y").output
    assert "-> (deleted)" in cli("history", "app", "prod").output
    assert "not found" in cli("history", "app", "staging", code=3).output


def test_put_a_directory(cli, tmp_path):
    (tmp_path / "site" / "css").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("<h1>hi</h1>")
    first = json.loads(cli("--json", "put", "site", "site").output)
    assert first["changed"] is True and first["details"]["archive"] == "tar"
    (tmp_path / "site" / "index.html").touch()
    again = cli("put", "site", "site").output
    assert "unchanged (a tar of the directory)" in again
    assert f"sha256: {first['sha256']}" in again


def test_large_transfers_show_progress_on_stderr_not_in_the_json(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("VERSIONED_PROGRESS_INTERVAL", "0")
    monkeypatch.setenv("VERSIONED_PROGRESS_THRESHOLD", "1")
    (tmp_path / "big.bin").write_bytes(os.urandom(3 * 2**20))
    result = cli("--json", "put", "big", "big.bin")
    assert json.loads(result.stdout)["version"] == "LATEST"
    assert "upload s3://" in result.stderr and "100%" in result.stderr
    quiet = cli("get", "big", "--path", "copy.bin")
    assert "download s3://" in quiet.stderr
    monkeypatch.delenv("VERSIONED_PROGRESS_THRESHOLD")
    small = cli("get", "big", "--path", "again.bin")
    assert small.stderr == ""  # 3 MiB is below the default threshold


class Captured(Exception):
    """What the stubbed ``run`` raises: the request the CLI built (nothing is sent)."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


@pytest.fixture
def parsed(monkeypatch, tmp_path):
    """Run the CLI up to the request it would carry out, with no AWS at all."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.zip").write_bytes(b"zip")

    def stub(request):
        raise Captured(request)

    monkeypatch.setattr(cli_module, "run", stub)

    def invoke(*args, env=None):
        result = CliRunner().invoke(main, list(args), env=env)
        assert isinstance(result.exception, Captured), result.output
        return result.exception.request

    return invoke


def test_global_options_go_before_or_after_the_command_and_after_wins(parsed, monkeypatch):
    monkeypatch.setenv("VERSIONED_BUCKET", "from-env")
    assert parsed("list").settings.bucket == "from-env"
    assert parsed("--bucket", "before", "list").settings.bucket == "before"
    assert parsed("list", "--bucket", "after").settings.bucket == "after"
    assert parsed("--bucket", "before", "list", "--bucket", "after").settings.bucket == "after"
    assert parsed("--bucket", "before", "list", "--prefix", "p").settings.bucket == "before"
    after = parsed(
        "put",
        "app",
        "dist/app.zip",
        "--publish",
        "--backend",
        "s3-dynamodb",
        "--region",
        "eu-west-1",
        "--suffix",
        ".zip",
        "--create-resources",
    )
    assert after.publish and after.settings == Settings(
        backend="s3-dynamodb", bucket="from-env", region="eu-west-1", suffix=".zip",
        create_resources=True,
    )  # fmt: skip


def test_every_global_option_reads_its_variable(parsed):
    env = {
        "VERSIONED_BACKEND": "s3-dynamodb",
        "VERSIONED_BUCKET": "env-bucket",
        "VERSIONED_PREFIX": "env/prefix",
        "VERSIONED_TABLE": "env-table",
        "VERSIONED_AWS_REGION": "eu-west-1",
        "VERSIONED_ENDPOINT_URL": "http://127.0.0.1:9",
        "VERSIONED_SUFFIX": ".zip",
        "VERSIONED_CREATE_RESOURCES": "true",
        "VERSIONED_JSON": "true",
    }
    assert sorted(env) == sorted(cli_options.envvar(g.name) for g in GLOBALS)
    assert parsed("list", env=env).settings == Settings(
        backend="s3-dynamodb",
        bucket="env-bucket",
        prefix="env/prefix",
        table="env-table",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:9",
        suffix=".zip",
        create_resources=True,
    )


def test_json_and_bucket_after_the_command_against_a_server(cli, tmp_path, unique, monkeypatch):
    (tmp_path / "a.bin").write_bytes(b"a")
    args = ("put", "app", "a.bin", "--bucket", f"after-{unique}", "--json")
    out = json.loads(cli("--bucket", "never-used-bucket", *args).output)
    assert out["s3_uri"].startswith(f"s3://after-{unique}/")
    monkeypatch.setenv("VERSIONED_JSON", "true")
    assert json.loads(cli("list", "app", "--bucket", f"after-{unique}").output)["name"] == "app"


def test_a_bad_value_is_named_as_the_caller_gave_it(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    given = runner.invoke(main, ["list", "--bucket", "Bad_Bucket"])
    assert given.exit_code == 2 and "Error: --bucket: 'Bad_Bucket' is not" in given.output
    from_env = runner.invoke(main, ["list"], env={"VERSIONED_BUCKET": "Bad_Bucket"})
    assert from_env.exit_code == 2 and "Error: VERSIONED_BUCKET: 'Bad_Bucket'" in from_env.output
    assert "--bucket" not in from_env.output.partition("Error:")[2]
    (tmp_path / "f").write_bytes(b"f")
    argument = runner.invoke(main, ["--bucket", "bkt", "put", "bad name", "f"])
    assert argument.exit_code == 2 and "Error: NAME: 'bad name'" in argument.output


def _every_error() -> list[errors.VersionedError]:
    return [
        errors.BucketNotFound("b"),
        errors.TableNotFound("t"),
        errors.AccessDenied("bucket 'b'"),
        errors.EndpointUnreachable("http://127.0.0.1:9 could not be reached"),
        errors.ArtifactNotFound("app", "s3://b/p"),
        errors.VersionNotFound("app", "3"),
        errors.AliasNotFound("app", "prod"),
        errors.HistoryNotFound("app", "prod"),
        errors.Conflict("alias 'prod' of 'app' points at 1, not 7"),
        errors.IntegrityError("sha256 mismatch"),
        aws_failures.translate(NoRegionError()),
        errors.InvalidInput("version", "'x' is not a version", hint=syntax.input_hint("alias")),
    ]


@pytest.mark.parametrize(
    "error, on_the_cli, in_a_workflow, in_python",
    [
        (
            errors.BucketNotFound("b"),
            "(--create-resources)",
            "(create-resources: true)",
            "(repo.bootstrap())",
        ),
        (
            errors.TableNotFound("t"),
            "(--create-resources)",
            "(create-resources: true)",
            "(repo.bootstrap())",
        ),
        (errors.HistoryNotFound("app", "prod"), "(--version N)", "(version: N)", "(version=N)"),
        (
            errors.AliasNotFound("app", "prod"),
            "(versioned-action promote app prod)",
            "(operation: promote, name: app, alias: prod)",
            "(repo.put_alias('app', 'prod'))",
        ),
        (
            errors.ArtifactNotFound("app", "s3://b/p"),
            "(versioned-action put app PATH)",
            "(operation: put, name: app)",
            "(repo.put_artifact('app', content))",
        ),
        (
            errors.VersionNotFound("app", "3"),
            "(versioned-action list app)",
            "(operation: list, name: app)",
            "(repo.list_artifact_versions('app'))",
        ),
        (
            errors.EndpointUnreachable("x"),
            "Check --endpoint-url (",
            "Check endpoint-url (",
            "Check endpoint_url (",
        ),
        (
            errors.VersionedError(
                "x", hint=syntax.run_hint("promote", name="app", alias="a b", version="3")
            ),
            "x. versioned-action promote app 'a b' --version 3",
            "x. operation: promote, name: app, alias: a b, version: 3",
            "x. repo.put_alias('app', 'a b', version=3)",
        ),
        (
            errors.InvalidInput("secondary-weight", "120 is outside 0..99"),
            "--secondary-weight: 120 is outside 0..99",
            "secondary-weight: 120 is outside 0..99",
            "invalid secondary_version_weight: 120 is outside 0..99",
        ),
    ],
)
def test_hints_name_inputs_in_the_callers_syntax(error, on_the_cli, in_a_workflow, in_python):
    cli_text = error.render(CliSyntax(main.commands["promote"]))
    assert on_the_cli in cli_text and "{" not in cli_text
    assert in_a_workflow in error.render(WORKFLOW) and in_a_workflow in describe(error)
    assert in_python in str(error) and in_python in error.render() and "{" not in str(error)


def test_no_message_names_an_input_twice():
    for error in _every_error():
        for command in main.commands.values():
            cli_text = error.render(CliSyntax(command))
            options = re.findall(r"(?<![\w-])--[a-z][a-z-]*", cli_text)
            assert len(options) == len(set(options)), cli_text
        for text in (str(error), describe(error)):
            named = [n for n in re.findall(r"\b([a-z][a-z-]*)(?=:)", text) if n in INPUT_NAMES]
            assert len(named) == len(set(named)), text
    invalid = aws_failures.translate(NoRegionError())
    assert describe(invalid) == "input aws-region: no region configured; set it, or AWS_REGION"


@pytest.mark.parametrize(
    "error, code",
    [
        (errors.ArtifactNotFound("app", "s3://b/p"), 3),
        (errors.VersionNotFound("app", "3"), 3),
        (errors.AliasNotFound("app", "prod"), 3),
        (errors.HistoryNotFound("app", "prod"), 3),
        (errors.Conflict("lost"), 4),
        (errors.AccessDenied("bucket 'b'"), 5),
        (errors.BucketNotFound("b"), 1),
        (errors.EndpointUnreachable("x"), 1),
        (errors.IntegrityError("x"), 1),
        (errors.VersionedError("x"), 1),
        (errors.InvalidInput("version", "bad"), 2),
        (errors.InvalidEnvironment("VERSIONED_MAX_ATTEMPTS", "bad"), 2),
    ],
)
def test_exit_statuses_follow_the_error_tree(error, code, monkeypatch):
    def fail(request):
        raise error

    monkeypatch.setattr(cli_module, "run", fail)
    result = CliRunner().invoke(main, ["--bucket", "bkt", "list"])
    assert result.exit_code == code, result.output
    assert cli_module.exit_code(error) == code


def test_help_lists_the_exit_statuses_and_completion():
    text = CliRunner().invoke(main, ["-h"]).output
    for code, _, meaning in EXIT_CODES:
        assert f"  {code}  {meaning}\n" in text
    assert [code for code, _, _ in EXIT_CODES] == [0, 1, 2, 3, 4, 5]
    assert "_VERSIONED_ACTION_COMPLETE=bash_source versioned-action" in text
    reference = (ROOT / "docs" / "CLI.md").read_text()
    for code, _, meaning in EXIT_CODES:
        assert f"| {code} | {meaning} |" in reference


def test_the_error_tree():
    assert issubclass(errors.InvalidInput, ValueError)
    assert issubclass(errors.InvalidEnvironment, ValueError)
    for kind in (
        errors.ArtifactNotFound,
        errors.VersionNotFound,
        errors.AliasNotFound,
        errors.HistoryNotFound,
    ):
        assert issubclass(kind, errors.NotFound) and issubclass(kind, LookupError)
    for error in _every_error():
        assert isinstance(error, errors.VersionedError)
    with pytest.raises(ValueError, match="invalid operation"):
        parse({"operation": "deploy"})
    with pytest.raises(LookupError):
        raise errors.AliasNotFound("app", "prod")


@pytest.mark.parametrize("command", ["", *sorted(main.commands)])
def test_every_help_shows_an_example_that_runs(command, parsed, monkeypatch):
    monkeypatch.setenv("VERSIONED_BUCKET", "bkt")
    text = CliRunner().invoke(main, [*command.split(), "-h"]).output
    examples = [line.strip() for line in text.splitlines()]
    examples = [line for line in examples if line.startswith("versioned-action ")]
    assert len(examples) == 1, text
    request = parsed(*shlex.split(examples[0])[1:])
    assert request.operation == (command or request.operation)


def test_shell_completion_script_and_answers():
    env = {**os.environ, "_VERSIONED_ACTION_COMPLETE": "bash_source"}
    script = subprocess.run(
        [str(EXE)], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "_versioned_action_completion()" in script
    registered = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", f"{script}\ncomplete -p versioned-action"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "-F _versioned_action_completion versioned-action" in registered

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        env = {
            **os.environ,
            "_VERSIONED_ACTION_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        }
        done = subprocess.run(
            [str(EXE)], env=env, capture_output=True, text=True, check=True, timeout=60
        )
        return done.stdout.split()

    assert complete("versioned-action pu") == ["plain,publish", "plain,purge", "plain,put"]
    assert complete("versioned-action put app dist/app.zip --buck") == ["plain,--bucket"]
    assert complete("versioned-action --backend s3") == ["plain,s3", "plain,s3-dynamodb"]
