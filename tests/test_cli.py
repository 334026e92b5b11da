"""The CLI: same operations, options mirroring the action's inputs, VERSIONED_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from versioned_action.cli import main


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
    result = cli("get", "app", code=1)
    assert "not found" in result.output


def test_console_script_runs_as_a_process(moto_endpoint, backend, unique, tmp_path):
    exe = Path(sys.executable).with_name("versioned-action")
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
    assert "not found" in cli("history", "app", "staging", code=1).output


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
