"""Operations history and delete-alias, rollback's restored entry, the digest output, and the
defaults of action.yml arriving on every step."""

from __future__ import annotations

import json

import pytest
from faultproxy import DROP_RESPONSE, op
from local_runner import Runner, action_metadata

from versioned_action import layout, open_repository
from versioned_action.errors import AliasNotFound, Conflict, InvalidInput
from versioned_action.models import AliasTarget, utc_now
from versioned_action.operations import run
from versioned_action.request import ACCEPTS, COMMON, DEFAULTS, parse

ENTRY_KEYS = {
    "changed_at",
    "previous",
    "new",
    "actor",
    "reason",
    "id",
    "previous_entry",
    "request",
}


@pytest.fixture
def step(http_repo, backend):
    """One operation through parse and run (as the entrypoint runs it), on one repository."""
    repo = http_repo()
    where = {"backend": backend, "bucket": repo.s3_bucket, "name": "app"}

    def call(operation: str, context: dict | None = None, **inputs: str):
        values = {
            "operation": operation,
            **where,
            **{k.replace("_", "-"): v for k, v in inputs.items()},
        }
        return run(parse(values, context or {}), repo)

    call.repo = repo
    return call


def publish_three(step, tmp_path):
    for content in (b"v1", b"v2", b"v3"):
        (tmp_path / "a.bin").write_bytes(content)
        step("put", path=str(tmp_path / "a.bin"), publish="true")


def target(version, secondary=None, weight=None):
    return {"version": version, "secondary_version": secondary, "secondary_weight": weight}


def test_history_newest_first(step, tmp_path):
    publish_three(step, tmp_path)
    alice = {"GITHUB_ACTOR": "alice", "GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "acme/app"}
    step("promote", alice, alias="prod", version="1")
    step("promote", alias="prod", version="1", secondary_version="2", secondary_weight="20")
    step("promote", alias="prod", version="2")
    result = step("history", alias="prod")
    entries = result.details["entries"]
    assert [e["new"] for e in entries] == [target("2"), target("1", "2", 20), target("1")]
    assert [e["previous"] for e in entries] == [target("1", "2", 20), target("1"), None]
    assert all(set(e) == ENTRY_KEYS for e in entries)
    assert (entries[-1]["actor"], entries[-1]["reason"]) == ("alice", "acme/app run 7")
    assert entries[0]["previous_entry"] == entries[1]["id"]
    assert entries[0]["changed_at"] > entries[1]["changed_at"]
    out = result.outputs()
    assert (out["alias"], out["version"], out["changed"]) == ("prod", "2", "false")
    assert json.loads(out["history"]) == entries
    assert result.headline() == "app alias prod: 3 recorded changes, newest first"
    limited = step("history", alias="prod", limit="1").details["entries"]
    assert limited == entries[:1]


def test_history_of_a_missing_alias_and_of_one_without_entries(step, tmp_path):
    publish_three(step, tmp_path)
    with pytest.raises(AliasNotFound, match="'prod'"):
        step("history", alias="prod")
    repo = step.repo
    # an alias written by a tool that keeps no history (the peer): no entries, no error
    if repo.backend == "s3":
        body = layout.encode_alias_document("app", "peer", "3", None, None, "s3://x", None)
        repo.s3.put_object(Bucket=repo.s3_bucket, Key=repo._alias_key("app", "peer"), Body=body)
    else:
        repo._Alias(pk=layout.alias_pk("app"), sk="peer", update_at=utc_now(), version="3").save()
    result = step("history", alias="peer")
    assert (result.details["entries"], result.version) == ([], "3")
    assert result.outputs()["history"] == "[]"
    assert result.headline() == "app alias peer: no recorded changes"


def test_delete_alias_records_history_and_is_idempotent(step, tmp_path):
    publish_three(step, tmp_path)
    step("promote", alias="prod", version="1", secondary_version="2", secondary_weight="10")
    with pytest.raises(Conflict, match="points at 1, not 3"):
        step("delete-alias", alias="prod", expected_version="3")
    planned = step("delete-alias", alias="prod", dry_run="true")
    assert (planned.changed, planned.previous_version, planned.dry_run) == (False, "1", True)
    assert planned.headline().startswith("app alias prod would be deleted (was 1) (dry run")
    assert step("get", alias="prod").version == "1"  # the dry run deleted nothing

    run_context = {"GITHUB_ACTOR": "bob", "GITHUB_RUN_ID": "9", "GITHUB_REPOSITORY": "acme/app"}
    deleted = step("delete-alias", run_context, alias="prod", expected_version="1")
    out = deleted.outputs()
    assert (out["alias"], out["previous-version"], out["changed"]) == ("prod", "1", "true")
    assert out["version"] == "" and out["secondary-version"] == ""
    assert deleted.details["previous"] == target("1", "2", 10)
    assert deleted.headline() == "app alias prod deleted (was 1)"
    with pytest.raises(AliasNotFound):
        step("get", alias="prod")

    history = step("history", alias="prod")
    newest = history.details["entries"][0]
    assert (newest["new"], newest["previous"], newest["actor"]) == (
        None,
        target("1", "2", 10),
        "bob",
    )
    assert newest == deleted.details["entry"]
    assert len(history.details["entries"]) == 2 and history.version is None
    assert history.outputs()["version"] == ""

    again = step("delete-alias", run_context, alias="prod")
    assert (again.changed, again.previous_version) == (False, None)
    assert again.headline() == "app alias prod does not exist: nothing to delete"
    assert len(step("history", alias="prod").details["entries"]) == 2  # nothing recorded

    step("promote", alias="prod", version="3")  # re-created: the old history stays below
    entries = step("history", alias="prod").details["entries"]
    assert [e["new"] for e in entries] == [target("3"), None, target("1", "2", 10)]


def test_rollback_names_the_entry_it_restored(step, tmp_path):
    publish_three(step, tmp_path)
    alice = {"GITHUB_ACTOR": "alice", "GITHUB_RUN_ID": "1", "GITHUB_REPOSITORY": "acme/app"}
    step("promote", alice, alias="prod", version="1")
    step("promote", alias="prod", version="1", secondary_version="2", secondary_weight="20")
    step("promote", alias="prod", version="2")
    entries = step("history", alias="prod").details["entries"]

    planned = step("rollback", alias="prod", dry_run="true")
    assert planned.details["restored_entry"] == entries[1]
    bob = {"GITHUB_ACTOR": "bob", "GITHUB_RUN_ID": "2", "GITHUB_JOB": "j", "GITHUB_ACTION": "s"}
    back = step("rollback", {**bob, "GITHUB_RUN_ATTEMPT": "1"}, alias="prod")
    assert back.details["restored_entry"] == entries[1]  # the change that set 1 + 2 (20%)
    assert back.details["restored_entry"]["new"] == target("1", "2", 20)
    # the job re-run (attempt 2): nothing moves, same answer
    rerun = step("rollback", {**bob, "GITHUB_RUN_ATTEMPT": "2"}, alias="prod")
    assert (rerun.changed, rerun.details["restored_entry"]) == (False, entries[1])

    undo = step("rollback", alias="prod")
    assert undo.details["restored_entry"] == entries[0]  # back to 2, as that change set it
    pinned = step("rollback", alias="prod", version="1")
    assert pinned.details["restored_entry"] == entries[2]  # alice's change set 1 alone
    assert pinned.details["restored_entry"]["actor"] == "alice"
    never = step("rollback", alias="prod", version="3")  # no change ever set 3
    assert never.details["restored_entry"] is None
    assert "restored_entry" in json.loads(never.outputs()["result"])["details"]


def test_digest_output(step, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"abc")
    out = step("put", path=str(tmp_path / "a.bin")).outputs()
    assert out["digest"] == f"sha256:{out['sha256']}" and len(out["sha256"]) == 64
    assert step("list").outputs()["digest"] == ""  # no published version: no sha256


# ----- inputs -----------------------------------------------------------------------------


def test_defaults_of_action_yml_are_known_to_parse():
    inputs = action_metadata()["inputs"]
    stated = {
        name: str(spec["default"])
        for name, spec in inputs.items()
        if "default" in spec and name not in COMMON
    }
    assert stated == DEFAULTS
    for name, spec in inputs.items():
        assert "default:" not in spec["description"].lower(), name


@pytest.mark.parametrize("operation", ["put", "publish", "promote", "list", "history", "get"])
def test_a_default_on_an_operation_that_ignores_it_is_no_error(tmp_path, operation):
    (tmp_path / "a.bin").write_bytes(b"a")
    values = {"operation": operation, "bucket": "abc", "name": "app", "alias": "prod"}
    if operation == "put":
        values["path"] = str(tmp_path / "a.bin")
    if operation in ("publish", "list", "get"):
        del values["alias"]
    parse({**values, **DEFAULTS}, {})
    for key in set(DEFAULTS) - set(ACCEPTS[operation]):
        with pytest.raises(InvalidInput) as caught:
            parse({**values, key: "3" if key != "dry-run" else "true"}, {})
        assert caught.value.field == key


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"operation": "history", "name": "app"}, "alias"),
        ({"operation": "history", "name": "app", "alias": "prod", "limit": "0"}, "limit"),
        ({"operation": "history", "name": "app", "alias": "prod", "limit": "1001"}, "limit"),
        ({"operation": "history", "name": "app", "alias": "prod", "limit": "ten"}, "limit"),
        ({"operation": "history", "alias": "prod"}, "name"),
        ({"operation": "delete-alias", "name": "app"}, "alias"),
        ({"operation": "delete-alias", "name": "app", "alias": "p", "version": "2"}, "version"),
        ({"operation": "delete-alias", "name": "app", "alias": "p", "limit": "5"}, "limit"),
        ({"operation": "put", "name": "app", "path": "/nonexistent/dir"}, "path"),
    ],
)
def test_bad_inputs_of_the_new_operations(values, field):
    with pytest.raises(InvalidInput) as caught:
        parse({"bucket": "abc", **values}, {})
    assert caught.value.field == field


def test_history_and_delete_alias_through_the_action(tmp_path, moto_endpoint, unique):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "a.bin").write_bytes(b"a")
    runner = Runner(workspace)
    common = {
        "bucket": f"hop-{unique}",
        "endpoint_url": moto_endpoint,
        "create_resources": "true",
        "name": "app",
    }

    def ok(**inputs):
        done = runner.step(**common, **inputs)
        assert done.returncode == 0 and not done.errors, done.stdout + done.stderr
        return done

    ok(operation="put", path="a.bin", publish="true", alias="prod")
    history = ok(operation="history", alias="prod", limit="5")
    entries = json.loads(history.outputs["history"])
    assert [e["new"]["version"] for e in entries] == ["1"]
    assert (history.outputs["version"], history.outputs["alias"]) == ("1", "prod")
    assert json.loads(history.outputs["result"])["details"]["entries"] == entries
    deleted = ok(operation="delete-alias", alias="prod")
    assert (deleted.outputs["previous-version"], deleted.outputs["changed"]) == ("1", "true")
    again = ok(operation="delete-alias", alias="prod")
    assert again.outputs["changed"] == "false" and "nothing to delete" in again.stdout
    missing = runner.step(**common, operation="history", alias="staging")
    assert (
        missing.returncode == 1
        and "alias 'staging' of artifact 'app' not found" in (missing.errors[0])
    )


# ----- faults -----------------------------------------------------------------------------


def test_a_deletion_whose_answer_is_lost_still_counts_once(backend, proxy, unique, monkeypatch):
    monkeypatch.setenv("VERSIONED_READ_TIMEOUT", "0.5")
    monkeypatch.setenv("VERSIONED_CONNECT_TIMEOUT", "1")
    repo = open_repository(
        backend, bucket=f"lost-{unique}", table=f"lost-{unique}", endpoint_url=proxy.url
    )
    repo.bootstrap()
    repo.put_artifact("app", b"x")
    repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    write = (
        op("DeleteObject", key_contains="/aliases/")
        if backend == "s3"
        else op("TransactWriteItems")
    )
    rule = proxy.add_rule(write, DROP_RESPONSE)
    entry = repo.delete_alias("app", "prod")
    assert rule.fired == 1
    assert entry.new is None and entry.previous == AliasTarget("1")
    history = repo.get_alias_history("app", "prod")
    assert [e.id for e in history if e.new is None] == [entry.id]
    with pytest.raises(AliasNotFound):
        repo.get_alias("app", "prod")


def test_a_deletion_never_removes_a_move_it_did_not_see(
    backend, proxy, moto_process_endpoint, unique
):
    """Another run moves the alias between this deletion's read and its write: the deletion
    is conditional on what it read, so it reads again and records what it really removed."""
    where = {"bucket": f"race-{unique}", "table": f"race-{unique}"}
    repo = open_repository(backend, endpoint_url=proxy.url, **where)
    repo.bootstrap()
    other = open_repository(backend, endpoint_url=moto_process_endpoint, **where)
    for content in (b"one", b"two"):
        repo.put_artifact("app", content)
        repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    write = (
        op("DeleteObject", key_contains="/aliases/")
        if backend == "s3"
        else op("TransactWriteItems")
    )
    moved = []

    def move_first(request) -> bool:  # runs in the proxy before it forwards the request
        if not moved and write(request):
            moved.append(other.put_alias("app", "prod", 2))
        return False  # forward it as it is

    proxy.add_rule(move_first, DROP_RESPONSE)  # never fires: move_first answers False
    entry = repo.delete_alias("app", "prod")
    assert moved and entry.previous == AliasTarget("2")
    changes = [(e.previous, e.new) for e in repo.get_alias_history("app", "prod")]
    assert changes[:2] == [(AliasTarget("2"), None), (AliasTarget("1"), AliasTarget("2"))]
    with pytest.raises(AliasNotFound):
        repo.get_alias("app", "prod")


def test_a_rollback_of_a_deleted_alias_says_when_and_how_to_bring_it_back(repo):
    repo.put_artifact("app", b"one")
    repo.publish_artifact_version("app")
    repo.put_alias("app", "prod", 1)
    repo.delete_alias("app", "prod", actor="octocat")
    with pytest.raises(AliasNotFound) as caught:
        repo.rollback("app", "prod")
    message = str(caught.value)
    assert "deleted 20" in message and "by octocat, when it pointed at 1" in message
    assert "repo.put_alias('app', 'prod', version=1)" in message
    with pytest.raises(AliasNotFound, match="not found. Create it"):
        repo.rollback("app", "never")  # no history: the plain error
