"""The step summary and the notices: what a person reads on the run page after each step."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime

import pytest
from local_runner import Runner
from test_hostile_values import OWN_COMMAND, code_span, command_lines, summary_blocks

from versioned_action import results
from versioned_action.github import summary
from versioned_action.github.commands import inline_code, markdown_text, table_code
from versioned_action.models import AliasTarget, HistoryEntry
from versioned_action.operations import Result
from versioned_action.request import Settings

HOSTILE = "x`|y](javascript:alert(1)) <b>b</b> ::error::f ##[add-mask]m | `v` |"
URL = re.compile(r"https://[A-Za-z0-9._~%/:?=&-]+")


@pytest.fixture
def steps(tmp_path, moto_endpoint, unique):
    """Steps of one job on a fresh bucket; ``steps(**context)`` starts another job on it."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    common = {"bucket": f"sum-{unique}", "endpoint_url": moto_endpoint, "create_resources": "true"}

    def job(backend: str = "s3", **context):
        runner = Runner(workspace, **context)

        def step(**inputs):
            done = runner.step(**{**common, "table": f"sum-{unique}", "backend": backend, **inputs})
            assert done.returncode == 0, done.stdout + done.stderr
            return done

        step.workspace = workspace
        return step

    return job


def notices(step) -> list[str]:
    return [line for line in step.stdout.splitlines() if line.startswith("::notice")]


def rows(markdown: str) -> list[list[str]]:
    """The cells of every table row outside code blocks (split at unescaped pipes)."""
    return [re.split(r"(?<!\\)\|", row)[1:-1] for row in summary_blocks(markdown)[1]]


def test_alias_changes_read_at_a_glance(steps):
    step = steps()
    for content in (b"release 1", b"release 2"):
        (step.workspace / "app.zip").write_bytes(content)
        put = step(operation="put", name="app", path="app.zip", publish="true")
    assert notices(put) == [] and "\napp 2: uploaded\n" in put.stdout  # a plain line

    created = step(operation="promote", name="app", alias="production", version="1")
    assert "**`app` alias `production`: created at `1`**" in created.summary
    assert notices(created) == [
        "::notice title=versioned-action promote::app alias production now points at 1"
    ]
    canary = step(
        operation="promote",
        name="app",
        alias="production",
        version="1",
        secondary_version="2",
        secondary_weight="10",
    )
    assert "alias `production`: split changed to `1` (90%); canary `2` at 10%" in canary.summary
    moved = step(operation="promote", name="app", alias="production", version="2")
    assert "**`app` alias `production`: `1` → `2`**" in moved.summary
    assert "- sha256 `" + put.outputs["sha256"][:12] + "`\n" in moved.summary
    assert len(notices(moved)) == 1

    again = step(operation="promote", name="app", alias="production", version="2")
    assert "**`app` alias `production`: already at `2`**" in again.summary
    assert notices(again) == [] and "\napp alias production already points at 2\n" in again.stdout

    back = step(operation="rollback", name="app", alias="production")
    assert "alias `production`: `2` → `1` (90%); canary `2` at 10%**" in back.summary
    restored = re.search(r"Restores what history entry `([0-9a-f]+)` set on (.*)", back.summary)
    assert restored, back.summary
    assert restored.group(2).endswith(
        "by `octocat` (acme\\/widgets run 4242): `1` → `1` (90%) + `2` (10%)"
    )
    assert len(notices(back)) == 1

    planned = step(operation="rollback", name="app", alias="production", dry_run="true")
    assert "> **Dry run:** nothing was changed" in planned.summary
    assert "alias `production` would point at `2` (it points at `1` now)" in planned.summary
    assert notices(planned) == []

    # every step keeps the full outputs, collapsed at the end
    for done in (put, created, back, planned):
        tail = done.summary.split("<details><summary>All outputs</summary>")[1]
        assert f"| `version` | `{done.outputs['version']}` |" in tail
        assert tail.rstrip().endswith("</details>")


@pytest.mark.parametrize("backend", ["s3", "s3-dynamodb"])
def test_list_shows_versions_aliases_and_provenance(steps, backend):
    step = steps(backend, GITHUB_SERVER_URL="https://ghe.example.com")
    for content in (b"build 1", b"build 2"):
        (step.workspace / "app.zip").write_bytes(content)
        step(operation="put", name="app", path="app.zip", publish="true")
    step(
        operation="promote",
        name="app",
        alias="prod",
        version="1",
        secondary_version="2",
        secondary_weight="25",
    )
    step(operation="promote", name="app", alias="dev", version="LATEST")
    listed = step(operation="list", name="app")
    assert "**`app`: 3 versions, 2 aliases**" in listed.summary
    versions = {code_span(cells[0].strip()): cells for cells in rows(listed.summary)[2:5]}
    assert list(versions) == ["LATEST", "2", "1"]
    assert versions["1"][4].strip() == "`prod` (75%)"
    assert versions["2"][4].strip() == "`prod` (25%)"
    assert versions["LATEST"][4].strip() == "`dev`"
    assert versions["2"][1].strip() == "7 B"
    assert re.fullmatch(r" `[0-9a-f]{12}` ", versions["2"][2])
    assert re.fullmatch(r" \d{4}\\-\d\d\\-\d\d \d\d\\:\d\d\\:\d\d UTC ", versions["2"][3])
    header = rows(listed.summary)[0]
    if backend == "s3":  # the version objects' metadata, read by the listing's HEADs
        sha = "0123456789abcdef0123456789abcdef01234567"
        assert [c.strip() for c in header] == [
            *("version", "size", "sha256", "created", "aliases", "commit", "run")
        ]
        assert versions["2"][5].strip() == (
            f"[`0123456789ab`](https://ghe.example.com/acme/widgets/commit/{sha}) on `main`"
        )
        assert (
            versions["2"][6].strip()
            == "[4242](https://ghe.example.com/acme/widgets/actions/runs/4242)"
        )
    else:  # the table's items carry no metadata, and listing reads no object
        assert [c.strip() for c in header] == ["version", "size", "sha256", "created", "aliases"]
    assert "s3.console.aws.amazon.com" not in listed.summary  # an endpoint: not real AWS

    names = step(operation="list")
    assert "**1 artifacts**" in names.summary and "| `app` |" in names.summary


def test_hostile_values_stay_text_in_the_summary(steps):
    actor = "octo\n::error::forged" + HOSTILE
    step = steps(GITHUB_ACTOR=actor, GITHUB_REPOSITORY="acme/w\n### forged\n| a | b |\n")
    (step.workspace / "a.bin").write_bytes(b"a")
    repository = "a/b) [x](http://evil.example"
    metadata = [f"github_{key}={HOSTILE}" for key in ("sha", "run_id", "ref_name", "actor")]
    metadata.append(f"github_repository={repository}")
    step(operation="put", name="app", path="a.bin", publish="true", metadata="\n".join(metadata))
    (step.workspace / "a.bin").write_bytes(b"b")
    step(operation="put", name="app", path="a.bin", publish="true", provenance="false")
    step(operation="promote", name="app", alias="prod", version="1")
    step(operation="promote", name="app", alias="prod", version="2")
    back = step(operation="rollback", name="app", alias="prod")
    listed = step(operation="list", name="app")
    for done, operation in ((back, "rollback"), (listed, "list")):
        commands = command_lines(done.stdout)
        assert all(OWN_COMMAND.match(line) for line in commands), commands
        assert summary_blocks(done.summary)[0] == [f"### versioned-action {operation}"]
    assert f"by {inline_code(actor)} (acme\\/w\\\\n\\#\\#\\# forged" in back.summary
    assert {len(cells) for cells in rows(back.summary)} == {2}  # the outputs table alone

    table = rows(listed.summary)
    assert {len(cells) for cells in table[:5]} == {7}, table  # header, rule, 3 versions
    first = next(cells for cells in table if cells[0].strip() == "`1`")
    where = "https://github.com/" + urllib.parse.quote(repository)
    commit = f"{where}/commit/{urllib.parse.quote(HOSTILE, safe='')}"
    run = f"{where}/actions/runs/{urllib.parse.quote(HOSTILE, safe='')}"
    assert URL.fullmatch(commit) and URL.fullmatch(run)
    assert first[5].strip() == (f"[{table_code(HOSTILE[:12])}]({commit}) on {table_code(HOSTILE)}")
    assert first[6].strip() == f"[{markdown_text(HOSTILE)}]({run})"


# ----- rendering of results the other tests do not reach ----------------------------------


def _entry(when: int, previous, new, **extra) -> dict:
    moment = datetime(2026, 5, 1, 12, when, tzinfo=UTC)
    return results.entry(HistoryEntry("app", "prod", moment, previous, new, **extra))


def test_history_is_a_table_newest_first():
    entries = [
        _entry(3, AliasTarget("2"), None, actor="octocat", reason="retire", id="c3"),
        _entry(2, AliasTarget("1"), AliasTarget("2", "3", 10), actor="hubot", id="c2"),
        _entry(1, None, AliasTarget("1"), reason="first | `one`", id="c1"),
    ]
    result = Result("history", name="app", alias="prod", details={"entries": entries})
    markdown = summary.render(result, {})
    assert "**`app` alias `prod`: 3 recorded changes, newest first**" in markdown
    assert rows(markdown)[2:5] == [
        [" 2026\\-05\\-01 12\\:03\\:00 UTC ", " `2` deleted ", " `octocat` ", " retire ", " `c3` "],
        [
            " 2026\\-05\\-01 12\\:02\\:00 UTC ",
            " `1` → `2` (90%) + `3` (10%) ",
            " `hubot` ",
            "  ",
            " `c2` ",
        ],
        [
            " 2026\\-05\\-01 12\\:01\\:00 UTC ",
            " created at `1` ",
            "  ",
            " first \\| \\`one\\` ",
            " `c1` ",
        ],
    ]
    assert not summary.changes_alias(result)


def test_delete_alias_says_what_it_pointed_at():
    previous = {"version": "42", "secondary_version": None, "secondary_weight": None}
    result = Result(
        "delete-alias",
        name="app",
        alias="prod",
        previous_version="42",
        changed=True,
        details={"previous": previous},
    )
    assert "**`app` alias `prod` deleted (was `42`)**" in summary.render(result, {})
    assert summary.changes_alias(result)
    planned = Result(
        "delete-alias",
        name="app",
        alias="prod",
        previous_version="42",
        dry_run=True,
        details={"previous": previous},
    )
    assert "alias `prod` would be deleted (was `42`)" in summary.render(planned, {})
    assert not summary.changes_alias(planned)


def test_s3_console_links_only_on_real_aws():
    uri = "s3://bkt/team(1)/app/versions/999999_000001.tar.gz"
    result = Result("get", name="app", version="1", s3_uri=uri, sha256="ab" * 32, size=3)
    link = (
        "([S3 console](https://s3.console.aws.amazon.com/s3/object/bkt?region=eu-west-1"
        "&prefix=team%281%29/app/versions/999999_000001.tar.gz))"
    )
    assert link in summary.render(result, {}, Settings(bucket="bkt", region="eu-west-1"))
    from_env = summary.render(result, {}, Settings(bucket="bkt"), {"AWS_REGION": "eu-west-1"})
    assert link in from_env
    for settings, environ in [
        (Settings(bucket="bkt", region="eu-west-1", endpoint_url="http://127.0.0.1:9"), {}),
        (Settings(bucket="bkt", region="eu-west-1"), {"AWS_ENDPOINT_URL_S3": "http://x:9"}),
        (Settings(bucket="bkt"), {}),
        (Settings(bucket="bkt"), {"AWS_REGION": "garage"}),
    ]:
        assert "s3.console" not in summary.render(result, {}, settings, environ)


def test_long_lists_are_cut_with_a_pointer_to_the_output():
    versions = [
        {"version": str(n), "s3_uri": f"s3://b/k/{n}", "sha256": "", "size": n, "updated_at": ""}
        for n in range(150, 0, -1)
    ]
    result = Result("list", name="app", details={"versions": versions, "aliases": []})
    markdown = summary.render(result, {})
    assert len(rows(markdown)) == 2 + summary.MAX_ROWS + 2  # and the outputs table's head
    assert "100 of 150 versions shown; the `result` output holds all of them." in markdown
