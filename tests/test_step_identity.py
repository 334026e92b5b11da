"""Commands that share a step's identity are separate requests; only a re-run repeats one.

Every command of one ``run:`` step sees the same GITHUB_REPOSITORY, GITHUB_RUN_ID,
GITHUB_JOB and GITHUB_ACTION (so do two action steps of a reusable workflow called twice in
one run). Such commands are new requests, each honouring its ``version`` and
``expected-version``; a rollback (or a deletion) changes nothing only when it is a later
attempt (GITHUB_RUN_ATTEMPT) of the very step whose rollback is the alias's last change,
asking the same. Through the CLI (in a shell, and with click's runner) and through the
action's entrypoint as a separate process, on both backends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from versioned_action import open_repository
from versioned_action.cli import main
from versioned_action.cli_options import EXIT_CODES
from versioned_action.errors import AliasNotFound, Conflict
from versioned_action.history import Change
from versioned_action.models import AliasTarget
from versioned_action.request import step_identity

CONFLICT = next(code for code, kinds, _ in EXIT_CODES if Conflict in kinds)  # 4
EXE = Path(sys.executable).with_name("versioned-action")
STEP = {  # one `run:` step: every command in it sees these
    "GITHUB_REPOSITORY": "acme/widgets",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_JOB": "deploy",
    "GITHUB_ACTION": "__run",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_RUN_ATTEMPT": "1",
}
ELSEWHERE = {**STEP, "GITHUB_RUN_ID": "1717", "GITHUB_ACTION": "__run_2"}  # another run's step
RERUN = {**STEP, "GITHUB_RUN_ATTEMPT": "2"}  # the same step, re-run
ATTEMPT_3 = {**STEP, "GITHUB_RUN_ATTEMPT": "3"}


@pytest.fixture
def where(moto_endpoint, backend, unique):
    """The repository's settings, as the CLI's VERSIONED_* variables."""
    return {
        "VERSIONED_BACKEND": backend,
        "VERSIONED_BUCKET": f"sid-{unique}",
        "VERSIONED_TABLE": f"sid-{unique}",
        "VERSIONED_ENDPOINT_URL": moto_endpoint,
    }


@pytest.fixture
def store(where):
    """The repository the commands use, read and prepared directly: versions 1 and 2."""
    repo = open_repository(
        where["VERSIONED_BACKEND"],
        bucket=where["VERSIONED_BUCKET"],
        table=where["VERSIONED_TABLE"],
        endpoint_url=where["VERSIONED_ENDPOINT_URL"],
        region="us-east-1",
    )
    repo.bootstrap()
    repo.put_and_publish("app", b"one")
    repo.put_and_publish("app", b"two")
    return repo


def target(repo) -> AliasTarget:
    return repo.get_alias("app", "production").target


def changes(repo) -> int:
    return len(repo.get_alias_history("app", "production", limit=100))


@pytest.fixture
def cli(store, where, tmp_path, monkeypatch):
    """``cli(env, *args)``: one command with ``env`` as its GITHUB_* variables; its JSON
    result, or for a failure its error text."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(env: dict[str, str], *args: str, code: int = 0) -> dict:
        done = runner.invoke(main, ["--json", *args], env={**where, **env})
        assert done.exit_code == code, done.output
        return json.loads(done.stdout) if code == 0 else {"error": done.stderr}

    return invoke


# ----- the CLI: several commands of one `run:` step -------------------------------------------


def test_promote_then_rollback_in_one_step_rolls_back(cli, store):
    cli(STEP, "promote", "app", "production", "--version", "1")
    promoted = cli(STEP, "promote", "app", "production", "--version", "2")
    assert (promoted["version"], promoted["changed"]) == ("2", True)
    back = cli(STEP, "rollback", "app", "production")
    assert (back["version"], back["changed"], back["previous_version"]) == ("1", True, "2")
    assert target(store) == AliasTarget("1")
    again = cli(STEP, "rollback", "app", "production")  # rolling back twice: where it started
    assert (again["version"], again["changed"]) == ("2", True)
    assert target(store) == AliasTarget("2") and changes(store) == 4


def test_rollback_with_version_and_expected_version_is_checked_as_in_a_fresh_step(cli, store):
    cli(STEP, "promote", "app", "production", "--version", "1")  # the last change: this step's
    before = changes(store)
    ask = ("rollback", "app", "production", "--version", "2", "--expected-version", "2")
    assert "points at 1, not 2" in cli(STEP, *ask, code=CONFLICT)["error"]
    assert target(store) == AliasTarget("1") and changes(store) == before
    assert "points at 1, not 2" in cli(ELSEWHERE, *ask, code=CONFLICT)["error"]  # a fresh step
    moved = cli(STEP, "rollback", "app", "production", "--version", "2", "--expected-version", "1")
    assert (moved["version"], moved["changed"], moved["previous_version"]) == ("2", True, "1")
    assert target(store) == AliasTarget("2")


def test_rollback_with_a_version_after_a_rollback_in_the_same_step_happens(cli, store):
    cli(ELSEWHERE, "promote", "app", "production", "--version", "1")
    cli(ELSEWHERE, "promote", "app", "production", "--version", "2")
    assert cli(STEP, "rollback", "app", "production")["version"] == "1"
    pinned = cli(STEP, "rollback", "app", "production", "--version", "2")
    assert (pinned["version"], pinned["changed"]) == ("2", True)
    assert target(store) == AliasTarget("2")


def test_a_genuine_rerun_changes_nothing(cli, store):
    cli(ELSEWHERE, "promote", "app", "production", "--version", "1")
    cli(ELSEWHERE, "promote", "app", "production", "--version", "2")
    first = cli(STEP, "rollback", "app", "production", "--expected-version", "2")
    assert (first["version"], first["changed"]) == ("1", True)
    restored = first["details"]["restored_entry"]
    before = changes(store)
    # attempt 2 of that step, asking the same: production no longer points at 2, yet the
    # compare-and-swap held when the rollback ran, and this is that rollback again
    rerun = cli(RERUN, "rollback", "app", "production", "--expected-version", "2")
    assert (rerun["version"], rerun["changed"], rerun["previous_version"]) == ("1", False, "2")
    assert rerun["details"]["restored_entry"] == restored
    third = cli(ATTEMPT_3, "rollback", "app", "production", "--expected-version", "2")
    assert (third["version"], third["changed"]) == ("1", False)
    assert target(store) == AliasTarget("1") and changes(store) == before


def test_a_later_attempt_asking_something_else_is_a_new_request(cli, store):
    cli(ELSEWHERE, "promote", "app", "production", "--version", "1")
    cli(ELSEWHERE, "promote", "app", "production", "--version", "2")
    assert cli(STEP, "rollback", "app", "production")["version"] == "1"
    refused = cli(RERUN, "rollback", "app", "production", "--expected-version", "2", code=CONFLICT)
    assert "points at 1, not 2" in refused["error"]
    assert target(store) == AliasTarget("1")
    pinned = cli(RERUN, "rollback", "app", "production", "--version", "2")
    assert (pinned["version"], pinned["changed"]) == ("2", True)
    # an earlier attempt asking the same is not enough: the alias's last change must be it
    again = cli(ATTEMPT_3, "rollback", "app", "production")
    assert (again["version"], again["changed"]) == ("1", True)


def test_a_rollback_recorded_without_an_attempt_never_makes_a_no_op(cli, store):
    """A change recorded before request ids named the attempt (the step's identity alone)."""
    cli(ELSEWHERE, "promote", "app", "production", "--version", "1")
    cli(ELSEWHERE, "promote", "app", "production", "--version", "2")
    old = step_identity({k: v for k, v in STEP.items() if k != "GITHUB_RUN_ATTEMPT"})
    assert "#" not in old
    one = AliasTarget("1")
    change = Change(None, "rollback", old)  # a rollback by this step, as it was recorded
    store._set_alias("app", "production", one, "2", change, False, store._primary("app", one))
    assert store.get_alias_history("app", "production")[0].request == old
    back = cli(RERUN, "rollback", "app", "production")
    assert (back["version"], back["changed"]) == ("2", True)
    assert target(store) == AliasTarget("2")


def test_delete_alias_with_expected_version_is_checked_unless_a_rerun(cli, store):
    cli(STEP, "promote", "app", "production", "--version", "1")
    deleted = cli(STEP, "delete-alias", "app", "production", "--expected-version", "1", "--yes")
    assert (deleted["changed"], deleted["previous_version"]) == (True, "1")
    refused = cli(
        STEP, "delete-alias", "app", "production", "--expected-version", "1", "--yes", code=CONFLICT
    )
    assert "does not exist, expected it at version 1" in refused["error"]
    rerun = cli(RERUN, "delete-alias", "app", "production", "--expected-version", "1", "--yes")
    assert (rerun["changed"], rerun["previous_version"]) == (False, None)
    cli(
        RERUN,
        "delete-alias",
        "app",
        "production",
        "--expected-version",
        "2",
        "--yes",
        code=CONFLICT,
    )
    gone = cli(STEP, "delete-alias", "app", "production", "--yes")  # no condition: gone is fine
    assert gone["changed"] is False
    with pytest.raises(AliasNotFound):
        store.get_alias("app", "production")


def test_commands_of_one_shell_step(store, where, tmp_path):
    """The issue's case as a workflow runs it: one `run:` script, two commands."""
    assert EXE.exists(), "pip install -e . provides the versioned-action command"
    env = {
        "PATH": f"{EXE.parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        **{k: os.environ[k] for k in os.environ if k.startswith("AWS_")},
        **STEP,
        **where,
    }
    script = """
        set -eu
        versioned-action promote app production --version 1
        versioned-action promote app production --version 2
        versioned-action rollback app production
        status=0
        versioned-action rollback app production --version 2 --expected-version 2 || status=$?
        echo "status=$status"
    """
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "app alias production now points at 1 (was 2)" in done.stdout
    assert f"status={CONFLICT}" in done.stdout and "points at 1, not 2" in done.stderr
    assert target(store) == AliasTarget("1")


# ----- the action: steps that share one identity ------------------------------------------------


@pytest.fixture
def action(store, where, make_runner):
    """Entrypoint steps that all share one identity (GITHUB_ACTION too), as two uses of the
    action in a reusable workflow called twice in one run; attempt 1 until told."""
    runner = make_runner(**{k: v for k, v in STEP.items() if k != "GITHUB_RUN_ATTEMPT"})
    common = {
        "backend": where["VERSIONED_BACKEND"],
        "bucket": where["VERSIONED_BUCKET"],
        "table": where["VERSIONED_TABLE"],
        "endpoint_url": where["VERSIONED_ENDPOINT_URL"],
        "name": "app",
        "alias": "production",
    }

    def step(operation: str, ok: bool = True, **inputs: str):
        done = runner.step(operation=operation, **common, **inputs)
        if ok:
            assert done.returncode == 0 and not done.errors, done.stdout + done.stderr
        return done

    step.runner = runner
    return step


def test_action_steps_sharing_an_identity_are_new_requests(action, store):
    action("promote", version="1")
    action("promote", version="2")
    back = action("rollback").outputs
    assert (back["version"], back["changed"], back["previous-version"]) == ("1", "true", "2")
    refused = action("rollback", ok=False, version="2", expected_version="2")
    assert refused.returncode == 1 and refused.outputs == {}
    assert "points at 1, not 2" in refused.errors[0]
    assert target(store) == AliasTarget("1")
    pinned = action("rollback", version="2").outputs  # after a rollback of the same identity
    assert (pinned["version"], pinned["changed"]) == ("2", "true")
    assert target(store) == AliasTarget("2")


def test_action_rerun_of_the_step_changes_nothing_unless_it_asks_otherwise(action, store):
    action("promote", version="1")
    action("promote", version="2")
    first = action("rollback", expected_version="2").outputs
    assert (first["version"], first["changed"]) == ("1", "true")
    before = changes(store)
    action.runner.context["GITHUB_RUN_ATTEMPT"] = "2"
    rerun = action("rollback", expected_version="2")
    assert (rerun.outputs["version"], rerun.outputs["changed"]) == ("1", "false")
    assert rerun.outputs["previous-version"] == "2"
    assert "already points at 1" in rerun.stdout and "::notice" not in rerun.stdout
    assert target(store) == AliasTarget("1") and changes(store) == before
    other = action("rollback", version="2").outputs  # attempt 2, another ask: a new request
    assert (other["version"], other["changed"]) == ("2", "true")
    assert target(store) == AliasTarget("2")


# ----- the library and the request id ---------------------------------------------------------


def test_library_callers_name_the_attempt_for_rerun_safety(store):
    store.put_alias("app", "production", 1)
    store.put_alias("app", "production", 2)
    first = store.rollback("app", "production", request="nightly-7#1")
    assert (first.version, first.changed) == ("1", True)
    assert store.rollback("app", "production", request="nightly-7#2").changed is False
    assert store.rollback("app", "production", request="nightly-7#1").version == "2"  # new
    assert store.rollback("app", "production", request="nightly-7").version == "1"
    assert store.rollback("app", "production", request="nightly-7").version == "2"  # no attempt
    entries = store.get_alias_history("app", "production", limit=3)
    assert [e.request for e in entries] == [
        "nightly-7 rollback version=- expected=-",
        "nightly-7 rollback version=- expected=-",
        "nightly-7#1 rollback version=- expected=-",
    ]
    with pytest.raises(Conflict):
        store.delete_alias("app", "production", expected_version=1, request="x#1")
    store.delete_alias("app", "production", expected_version=2, request="x#1")
    with pytest.raises(AliasNotFound):  # its re-run: gone, as it asked
        store.delete_alias("app", "production", expected_version=2, request="x#2")
    with pytest.raises(Conflict, match="does not exist"):  # the same attempt again: new
        store.delete_alias("app", "production", expected_version=2, request="x#1")


def test_step_identity_names_the_attempt():
    assert step_identity(STEP) == "acme/widgets/4242/deploy/__run#1"
    assert step_identity(RERUN) == "acme/widgets/4242/deploy/__run#2"
    assert step_identity({**STEP, "GITHUB_RUN_ATTEMPT": ""}) == "acme/widgets/4242/deploy/__run"
    assert step_identity({**STEP, "GITHUB_RUN_ATTEMPT": "x"}).endswith("/__run")
    assert step_identity({**STEP, "GITHUB_ACTION": "a#9\n"}) == "acme/widgets/4242/deploy/a?9?#1"
    recorded = f"{step_identity(STEP)} rollback version=12 expected=LATEST"
    assert recorded.isascii() and recorded.isprintable() and len(recorded) < 100
