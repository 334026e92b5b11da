"""The container action, run as the runner runs it: a separate process, INPUT_* variables."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest
from local_runner import Runner, action_metadata

from versioned_action.github.commands import escape_data, escape_property
from versioned_action.github.outputs import format_outputs


@pytest.fixture
def job(tmp_path, moto_endpoint, backend, unique):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runner = Runner(workspace)
    bucket = f"act-{unique}"
    common = {
        "backend": backend,
        "bucket": bucket,
        "table": f"act-{unique}",
        "endpoint_url": moto_endpoint,
        "create_resources": "true",
    }

    def step(**inputs):
        return runner.step(**{**common, **inputs})

    step.workspace = workspace
    step.bucket = bucket
    step.runner = runner
    step.common = common
    return step


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    except s3.exceptions.NoSuchBucket:
        return []


def ok(step):
    assert step.returncode == 0, step.stdout + step.stderr
    assert not step.errors
    return step.outputs


def test_put_publish_promote_rollback(job):
    build = job.workspace / "app.zip"
    build.write_bytes(b"release 1")
    out = ok(job(operation="put", name="app", path="app.zip"))
    assert (out["version"], out["changed"], out["size"]) == ("LATEST", "true", "9")
    assert out["sha256"] == hashlib.sha256(b"release 1").hexdigest()
    assert out["s3-uri"].startswith(f"s3://{job.bucket}/versioned-artifacts/app/")
    result = json.loads(out["result"])
    assert result["operation"] == "put" and result["version"] == "LATEST"

    out = ok(job(operation="put", name="app", path="app.zip", publish="true", alias="staging"))
    assert (out["version"], out["alias"], out["changed"]) == ("1", "staging", "true")
    again = ok(job(operation="put", name="app", path="app.zip", publish="True"))
    assert (again["version"], again["changed"]) == ("1", "false")

    build.write_bytes(b"release 2")
    ok(job(operation="put", name="app", path="app.zip"))
    out = ok(job(operation="publish", name="app"))
    assert (out["version"], out["changed"]) == ("2", "true")
    assert ok(job(operation="publish", name="app"))["changed"] == "false"

    out = ok(job(operation="promote", name="app", alias="production", from_alias="staging"))
    assert (out["version"], out["previous-version"], out["changed"]) == ("1", "", "true")
    out = ok(
        job(
            operation="promote",
            name="app",
            alias="production",
            version="1",
            secondary_version="2",
            secondary_weight="10",
        )
    )
    assert (out["secondary-version"], out["secondary-weight"]) == ("2", "10")
    assert out["secondary-s3-uri"].endswith("2") or "000002" in out["secondary-s3-uri"]
    out = ok(job(operation="promote", name="app", alias="production", expected_version="1"))
    assert (out["version"], out["secondary-version"], out["previous-version"]) == ("2", "", "1")

    out = ok(job(operation="rollback", name="app", alias="production"))
    assert (out["version"], out["secondary-version"], out["previous-version"]) == ("1", "2", "2")
    # promote and rollback describe the version the alias now points at, on both backends
    assert (out["sha256"], out["size"]) == (hashlib.sha256(b"release 1").hexdigest(), "9")
    assert out["s3-uri"] == ok(job(operation="get", name="app", version="1"))["s3-uri"]
    out = ok(job(operation="rollback", name="app", alias="production", version="2"))
    assert (out["version"], out["secondary-version"]) == ("2", "")


def test_metadata_tags_and_provenance(job, moto_endpoint):
    (job.workspace / "model.onnx").write_bytes(b"weights")
    ok(
        job(
            operation="put",
            name="model",
            path="model.onnx",
            metadata="team=ml\n# a comment\n\nepoch = 12",
            tags='{"cost-center": "42"}',
        )
    )
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    key = [k for k in bucket_keys(moto_endpoint, job.bucket) if "LATEST" in k][0]
    head = s3.head_object(Bucket=job.bucket, Key=key)
    assert head["Metadata"]["team"] == "ml" and head["Metadata"]["epoch"] == "12"
    assert head["Metadata"]["github_sha"] == job.runner.context["GITHUB_SHA"]
    assert head["Metadata"]["github_actor"] == "octocat"
    assert head["ContentType"] == "application/octet-stream"
    tags = s3.get_object_tagging(Bucket=job.bucket, Key=key)["TagSet"]
    assert tags == [{"Key": "cost-center", "Value": "42"}]
    (job.workspace / "notes.txt").write_text("hi")
    ok(job(operation="put", name="notes", path="notes.txt", provenance="false"))
    key = [k for k in bucket_keys(moto_endpoint, job.bucket) if "notes" in k][0]
    head = s3.head_object(Bucket=job.bucket, Key=key)
    assert "github_sha" not in head["Metadata"] and head["ContentType"] == "text/plain"


def test_get_list_purge(job):
    for i in range(1, 5):
        (job.workspace / "db.sqlite").write_bytes(f"db {i}".encode())
        ok(job(operation="put", name="db", path="db.sqlite", publish="true"))
    ok(job(operation="promote", name="db", alias="prod", version="1"))
    out = ok(job(operation="get", name="db", alias="prod", path="out/prod.sqlite"))
    assert (job.workspace / "out" / "prod.sqlite").read_bytes() == b"db 1"
    assert (out["version"], out["path"], out["alias"]) == ("1", "out/prod.sqlite", "prod")
    out = ok(job(operation="get", name="db"))
    assert (out["version"], out["path"]) == ("LATEST", "")
    out = ok(job(operation="list", name="db"))
    listed = json.loads(out["result"])
    assert [v["version"] for v in listed["details"]["versions"]] == ["LATEST", "4", "3", "2", "1"]
    assert out["version"] == "4"
    out = ok(job(operation="list"))
    assert json.loads(out["result"])["details"]["artifacts"] == ["db"]
    out = ok(job(operation="purge", name="db", keep_last="1", older_than="0", dry_run="true"))
    assert (json.loads(out["deleted-versions"]), out["changed"]) == (["3", "2"], "false")
    out = ok(job(operation="purge", name="db", keep_last="1", older_than="0"))
    assert (json.loads(out["deleted-versions"]), out["changed"]) == (["3", "2"], "true")
    out = ok(job(operation="purge", name="db", keep_last="0"))
    assert json.loads(out["deleted-versions"]) == []  # nothing is 90 days old


def test_summary_and_log(job):
    (job.workspace / "a.bin").write_bytes(b"a")
    step = job(operation="put", name="a", path="a.bin", publish="true")
    ok(step)
    assert "::group::versioned-action put a" in step.stdout
    assert "::endgroup::" in step.stdout
    # a put that moves no alias says what it did in a plain line, not a notice
    assert "::notice" not in step.stdout and "\na 1: uploaded\n" in step.stdout
    assert "### versioned-action put" in step.summary and "| `version` | `1` |" in step.summary
    step = job(operation="promote", name="a", alias="prod")
    assert "::notice title=versioned-action promote::a alias prod now points at 1" in step.stdout


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_booleans_the_toolkit_accepts(job, value):
    (job.workspace / "a.bin").write_bytes(b"a")
    out = ok(job(operation="put", name="a", path="a.bin", publish=value))
    assert out["version"] == ("1" if value.lower() == "true" else "LATEST")


BAD_INPUTS = [
    ({"operation": "deploy"}, "operation"),
    ({"operation": "put", "name": "app"}, "path"),
    ({"operation": "put", "name": "app", "path": "missing.zip"}, "path"),
    ({"operation": "put", "name": "../app", "path": "a.bin"}, "name"),
    ({"operation": "put", "name": "app", "path": "a.bin", "publish": "yes"}, "publish"),
    ({"operation": "put", "name": "app", "path": "a.bin", "metadata": "novalue"}, "metadata"),
    ({"operation": "put", "name": "app", "path": "a.bin", "metadata": "{bad json"}, "metadata"),
    ({"operation": "put", "name": "app", "path": "a.bin", "tags": "aws:x=1"}, "tags"),
    ({"operation": "put", "name": "app", "path": "a.bin", "content_type": "zip"}, "content-type"),
    ({"operation": "put", "name": "app", "path": "a.bin", "alias": "blue-green"}, "alias"),
    ({"operation": "put", "name": "app", "path": "a.bin", "keep_last": "3"}, "keep-last"),
    (
        {"operation": "put", "name": "app", "path": "a.bin", "create_resources": "1"},
        "create-resources",
    ),
    ({"operation": "promote", "name": "app"}, "alias"),
    ({"operation": "promote", "name": "app", "alias": "prod", "version": "0"}, "version"),
    (
        {"operation": "promote", "name": "app", "alias": "prod", "secondary_version": "2"},
        "secondary-weight",
    ),
    (
        {
            "operation": "promote",
            "name": "app",
            "alias": "prod",
            "secondary_version": "2",
            "secondary_weight": "100",
        },
        "secondary-weight",
    ),
    (
        {
            "operation": "promote",
            "name": "app",
            "alias": "prod",
            "version": "1",
            "from_alias": "staging",
        },
        "from-alias",
    ),
    ({"operation": "rollback", "name": "app"}, "alias"),
    ({"operation": "purge", "name": "app", "older_than": "3 weeks"}, "older-than"),
    ({"operation": "purge", "name": "app", "keep_last": "-1"}, "keep-last"),
    ({"operation": "get", "name": "app", "alias": "prod", "version": "2"}, "version"),
    ({"operation": "list", "bucket": "Not_A_Bucket"}, "bucket"),
    ({"operation": "list", "backend": "gcs"}, "backend"),
    ({"operation": "list", "endpoint_url": "localhost:9000"}, "endpoint-url"),
]


@pytest.mark.parametrize(("inputs", "field"), BAD_INPUTS)
def test_bad_input_fails_clearly_and_writes_nothing(job, moto_endpoint, inputs, field):
    (job.workspace / "a.bin").write_bytes(b"a")
    step = job(**inputs)
    assert step.returncode == 1
    assert len(step.errors) == 1, step.stdout
    assert f"input {field}" in step.errors[0] or f"{field}" in step.errors[0]
    assert step.errors[0].startswith("::error title=versioned-action")
    assert step.outputs == {}
    assert bucket_keys(moto_endpoint, job.bucket) == []


def test_aws_failures_fail_clearly(job):
    step = job(
        operation="get", name="app", create_resources="false", bucket="no-such-bucket-anywhere"
    )
    assert step.returncode == 1 and len(step.errors) == 1 and step.outputs == {}
    missing = "no-such-bucket-anywhere" if job.common["backend"] == "s3" else job.common["table"]
    assert missing in step.errors[0] and "create-resources" in step.errors[0]
    step = job(operation="get", name="app")
    assert step.returncode == 1 and "not found" in step.errors[0]
    (job.workspace / "a.bin").write_bytes(b"a")
    ok(job(operation="put", name="app", path="a.bin", publish="true"))
    step = job(operation="rollback", name="app", alias="prod")
    assert "alias 'prod'" in step.errors[0]
    ok(job(operation="promote", name="app", alias="prod"))
    step = job(operation="rollback", name="app", alias="prod")
    assert step.returncode == 1 and "nothing before it" in step.errors[0]
    step = job(operation="promote", name="app", alias="prod", expected_version="7")
    assert step.returncode == 1 and "points at 1, not 7" in step.errors[0]


def test_inputs_are_read_with_hyphens_kept():
    from versioned_action.github.inputs import read_inputs

    environ = {"INPUT_ENDPOINT-URL": "http://a", "INPUT_DRY_RUN": "true"}
    assert read_inputs(environ, ["endpoint-url", "dry-run", "name"]) == {
        "endpoint-url": "http://a",
        "dry-run": "true",
        "name": "",
    }


def test_outputs_cannot_be_forged():
    value = "x\nversion<<EOF\n1\nEOF\nghadelimiter_fake"
    text = format_outputs({"path": value, "version": "2"})
    from local_runner import parse_output_file

    assert parse_output_file(text) == {"path": value, "version": "2"}


def test_workflow_command_escaping():
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c\n") == "a%3Ab%2Cc%0A"


def test_readme_tables_match_action_yml():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    metadata = action_metadata()
    for kind in ("inputs", "outputs"):
        for name in metadata[kind]:
            assert f"| `{name}` |" in readme, f"README lacks {kind[:-1]} {name}"
    documented = {
        line.split("`")[1]
        for line in readme.splitlines()
        if line.startswith("| `") and line.count("`") >= 2
    }
    assert documented >= set(metadata["inputs"]) | set(metadata["outputs"])


def test_action_reads_every_input_of_action_yml():
    from versioned_action.github.action import INPUT_NAMES

    assert set(INPUT_NAMES) == set(action_metadata()["inputs"])


def test_seed_quick_start_through_the_action(job):
    """The seeds' quick start, step by step, as workflow steps."""
    backend = job.common["backend"]

    def put(content: bytes, **metadata):
        (job.workspace / "artifact.bin").write_bytes(content)
        lines = "\n".join(f"{k}={v}" for k, v in metadata.items())
        return ok(
            job(
                operation="put",
                name="my_application",
                path="artifact.bin",
                metadata=lines,
                suffix=".bin",
            )
        )

    def step(**inputs):
        return ok(job(name="my_application", suffix=".bin", **inputs))

    first = put(b"Binary content for version 1.0", description="core", version="1.0")
    assert first["version"] == "LATEST"
    assert step(operation="publish")["version"] == "1"
    put(b"Binary content for version 2.0", version="2.0")
    assert step(operation="publish")["version"] == "2"
    assert step(operation="promote", alias="development", version="LATEST")["version"] == "LATEST"
    assert step(operation="promote", alias="production", version="1")["version"] == "1"
    assert step(operation="promote", alias="staging", version="2")["version"] == "2"
    blue_green = step(operation="promote", alias="production", from_alias="staging")
    assert (blue_green["version"], blue_green["previous-version"]) == ("2", "1")
    put(b"Binary content for version 3.0", version="3.0")
    assert step(operation="publish")["version"] == "3"
    canary = step(
        operation="promote",
        alias="production",
        version="2",
        secondary_version="3",
        secondary_weight="10",
    )
    assert (canary["secondary-version"], canary["secondary-weight"]) == ("3", "10")
    step(
        operation="promote",
        alias="production",
        version="2",
        secondary_version="3",
        secondary_weight="50",
    )
    assert step(operation="promote", alias="production", version="3")["version"] == "3"
    emergency = step(operation="rollback", alias="production", version="2")
    assert (emergency["version"], emergency["previous-version"]) == ("2", "3")
    got = step(operation="get", alias="production", path="prod.bin")
    assert (job.workspace / "prod.bin").read_bytes() == b"Binary content for version 2.0"
    assert got["version"] == "2"
    keep = "2" if backend == "s3" else "3"  # each seed purges with its own keep_last_n
    purged = step(operation="purge", keep_last=keep, older_than="0")
    assert json.loads(purged["deleted-versions"]) == (["1"] if backend == "s3" else [])
    listed = json.loads(step(operation="list")["result"])["details"]
    expected = ["LATEST", "3", "2"] if backend == "s3" else ["LATEST", "3", "2", "1"]
    assert [v["version"] for v in listed["versions"]] == expected


def test_dry_runs_prefix_and_region(job, moto_endpoint):
    (job.workspace / "a.bin").write_bytes(b"a")
    common = {"prefix": "team/builds", "aws_region": "us-east-1", "name": "a"}
    ok(job(operation="put", path="a.bin", publish="true", **common))
    (job.workspace / "a.bin").write_bytes(b"b")
    ok(job(operation="put", path="a.bin", publish="true", **common))
    ok(job(operation="promote", alias="prod", version="1", **common))
    planned = ok(job(operation="promote", alias="prod", version="2", dry_run="true", **common))
    assert (planned["version"], planned["previous-version"], planned["changed"]) == (
        "2",
        "1",
        "false",
    )
    ok(job(operation="promote", alias="prod", version="2", **common))
    planned = ok(job(operation="rollback", alias="prod", dry_run="TRUE", **common))
    assert (planned["version"], planned["changed"]) == ("1", "false")
    current = ok(job(operation="get", alias="prod", **common))
    assert current["version"] == "2"  # neither dry run moved it
    assert all(k.startswith("team/builds/a/") for k in bucket_keys(moto_endpoint, job.bucket))
