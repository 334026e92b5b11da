"""versioned_action.compat, the drop-in for ``versioned.api`` (1.x).

The two quick starts among the seeds (002 S3 only, 004 S3 + DynamoDB) run as written, with
only their ``from versioned.api import`` line changed, once against the real peer and once
against compat, and print the same (timestamps and the canary's random draws aside). Data
written through compat reads back unchanged through ``open_repository``, and the reverse.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib.util
import io
import json
import os
import random
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from moto import mock_aws

from versioned_action import AccessDenied, Conflict, VersionedError, open_repository
from versioned_action.compat import exc, s3_and_dynamodb_backend, s3_only_backend

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
PEER_IMPORT = "from versioned.api import "
OUR_IMPORT = "from versioned_action.compat import "
MODULES = {"s3": s3_only_backend, "s3-dynamodb": s3_and_dynamodb_backend}


def needs(module: str):
    """Skip without ``module`` (the peer and its dependencies); CI must have them."""
    if importlib.util.find_spec(module) is not None:
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run the compat tests: {module} is not installed")
    pytest.skip(f"{module} is not installed (pip install versioned==1.0.1)")


# ----- the quick starts, as written ---------------------------------------------------------


def quick_start_code(number: str) -> str:
    """The Python of a seed quick start: each ``In [n]:`` cell up to its printed output."""
    found = sorted(SEEDS.glob(f"{number}_*.txt"))
    if not found:
        if os.environ.get("CI"):
            raise RuntimeError(f"seed {number} not found in {SEEDS}")
        pytest.skip(f"seed {number} is not beside the repository")
    text = found[0].read_text(encoding="utf-8")
    cells = []
    for cell in re.split(r"^In \[\d+\]:\n", text, flags=re.M)[1:]:
        cell = re.split(r"^## ", cell, maxsplit=1, flags=re.M)[0]
        cells.append(_code_of(cell))
    return "\n\n".join(cells)


def _code_of(cell: str) -> str:
    """A cell is code, a blank line, then what it printed: keep the longest run of its
    paragraphs that parses as Python, less a last one that only echoes ``{expr = }``."""
    ends = [m.start() for m in re.finditer(r"\n[ \t]*\n", cell)] + [len(cell)]
    for end in reversed(ends):
        try:
            compile(cell[:end], "<cell>", "exec")
        except SyntaxError:
            continue
        code = cell[:end]
        head, _, last = code.rstrip().rpartition("\n\n")
        echoes = [line.split(" = ")[0] for line in last.splitlines()]
        if head and all(f"{{{expr} = }}" in head for expr in echoes):
            return head
        return code
    return ""


def _rich_stand_in() -> types.ModuleType:
    """``rich.print`` for a test environment without rich: each object's repr on a line."""
    module = types.ModuleType("rich")
    module.print = lambda *objects: builtins.print(
        *(o if isinstance(o, str) else repr(o) for o in objects)
    )
    return module


def run_quick_start(code: str) -> tuple[str, dict]:
    """Execute the code with a fixed random seed; return what it printed and its names."""
    names: dict = {}
    printed = io.StringIO()
    random.seed(20240101)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<quick start>", "exec"), names)
    except BaseException:
        if "mock_aws" in names:  # the code stops its mock only when it reaches the end
            names["mock_aws"].stop()
        raise
    return printed.getvalue(), names


_TIMES = (
    re.compile(r"datetime\.datetime\((?:[^()]|\([^()]*\))*\)"),
    re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?"),
)
_CANARY = re.compile(r"Version ([23]) \((?:stable|canary)\): (\d+) requests \([\d.]+%\)")


def normalised(printed: str) -> str:
    """Timestamps out; the canary's counts checked against its 10% and then taken out."""
    for pattern in _TIMES:
        printed = pattern.sub("<time>", printed)
    counts = {int(v): int(n) for v, n in _CANARY.findall(printed)}
    assert sum(counts.values()) == 1000 and 60 <= counts[3] <= 140, counts
    return _CANARY.sub(r"Version \1: <draws>", printed)


# A known difference: the versions a purge deleted come from the listing, so on the s3
# backend their sha256 is empty (1.x read each one).
PURGED = ("deleted_versions", "deleted")


def results(names: dict) -> dict:
    """Every Artifact / Alias (or list of them) the code kept, less its update time."""
    kept = {}
    for key, value in names.items():
        items = value if isinstance(value, list) else [value]
        if items and all(type(i).__name__ in ("Artifact", "Alias") for i in items):
            skip = ("update_at", "sha256") if key in PURGED else ("update_at",)
            kept[key] = [
                {f.name: getattr(i, f.name) for f in dataclasses.fields(i) if f.name not in skip}
                for i in items
            ]
    return kept


def run_peer(number: str) -> subprocess.Popen:
    """The quick start against the peer, in a process of its own (the peer rebinds PynamoDB
    and the environment as it goes) while ours runs here; it prints what ``main`` does."""
    return subprocess.Popen(
        [sys.executable, __file__, number],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def main(number: str) -> None:
    if importlib.util.find_spec("rich") is None:
        sys.modules["rich"] = _rich_stand_in()
    _share_botocore_models()
    printed, names = run_quick_start(quick_start_code(number))
    json.dump({"printed": printed, "results": results(names)}, sys.stdout)


def _share_botocore_models() -> None:
    """For speed only: the peer opens a PynamoDB connection per call, each with a botocore
    session that parses the service models again (7 s of JSON in quick start 004); let those
    sessions share one loader. The requests, and so the results, are the same."""
    import botocore.session
    import pynamodb.connection.base

    loader = botocore.session.get_session().get_component("data_loader")

    def get_session():
        session = botocore.session.get_session()
        session.register_component("data_loader", loader)
        return session

    pynamodb.connection.base.get_session = get_session


@pytest.mark.peer
@pytest.mark.parametrize("number", ["002", "004"])
def test_quick_start_runs_as_written_like_the_peer(number, monkeypatch):
    needs("versioned")
    needs("boto_session_manager")
    peer_code = quick_start_code(number)
    assert peer_code.count(PEER_IMPORT) == 1
    peer = run_peer(number)
    if importlib.util.find_spec("rich") is None:
        monkeypatch.setitem(sys.modules, "rich", _rich_stand_in())

    printed, names = run_quick_start(peer_code.replace(PEER_IMPORT, OUR_IMPORT))

    out, err = peer.communicate(timeout=120)
    assert peer.returncode == 0, err
    expected = json.loads(out)
    assert "Tutorial completed" in printed or "Tutorial Completed" in printed
    assert type(names["repo"]).__module__.startswith("versioned_action.compat.")
    assert normalised(printed) == normalised(expected["printed"])
    assert results(names) == expected["results"]
    assert results(names)["remaining_versions"]  # the comparison compared something


# ----- one store, two libraries -------------------------------------------------------------


@pytest.fixture(scope="module")
def session_manager():
    """One BotoSesManager for the module: botocore loads its service models once."""
    needs("boto_session_manager")
    from boto_session_manager import BotoSesManager

    return BotoSesManager(region_name="us-east-1")


@pytest.fixture
def bsm(session_manager):
    with mock_aws():
        yield session_manager


def compat_repo(backend: str, unique: str):
    table = {"dynamodb_table_name": f"tbl-{unique}"} if backend == "s3-dynamodb" else {}
    return MODULES[backend].Repository(
        aws_region="us-east-1", s3_bucket=f"bkt-{unique}", s3_prefix="artifacts", **table
    )


def our_repo(backend: str, unique: str):
    return open_repository(
        backend, bucket=f"bkt-{unique}", table=f"tbl-{unique}", prefix="artifacts"
    )


def test_what_compat_writes_the_library_reads(backend, bsm, unique, tmp_path):
    repo = compat_repo(backend, unique)
    repo.bootstrap(bsm=bsm)
    first = repo.put_artifact(name="app", content=b"one", metadata={"build": "7"}, bsm=bsm)
    repo.publish_artifact_version(name="app", bsm=bsm)
    big = tmp_path / "two.bin"
    big.write_bytes(b"two" * 100_000)
    repo.put_artifact(name="app", content=big, bsm=bsm)  # a path streams the file
    second = repo.publish_artifact_version(name="app", bsm=bsm)
    canary = repo.put_alias(
        name="app",
        alias="prod",
        version=1,
        secondary_version=2,
        secondary_version_weight=20,
        bsm=bsm,
    )

    ours = our_repo(backend, unique)
    assert ours.get_artifact_content("app", 1) == b"one"
    assert ours.get_artifact_content("app", 2) == big.read_bytes()
    assert ours.get_artifact_version("app", 1).sha256 == first.sha256
    assert ours.get_artifact_version("app", 2).s3uri == second.s3uri
    head = ours.s3.head_object(Bucket=ours.s3_bucket, Key=ours.object_key("app", "1"))
    assert head["Metadata"]["build"] == "7"
    alias = ours.get_alias("app", "prod")
    assert (alias.version, alias.secondary_version, alias.secondary_version_weight) == (
        "1",
        "2",
        20,
    )
    assert alias.version_s3uri == canary.version_s3uri
    assert ours.get_alias_history("app", "prod")[0].new == alias.target


def test_what_the_library_writes_compat_reads(backend, bsm, unique):
    ours = our_repo(backend, unique)
    ours.bootstrap()
    ours.put_and_publish("app", b"one")
    ours.put_and_publish("app", b"two")
    ours.put_alias("app", "prod", version=2, secondary_version=1, secondary_version_weight=30)

    repo = compat_repo(backend, unique)
    version = repo.get_artifact_version(name="app", version=1, bsm=bsm)
    assert version.get_content(bsm=bsm) == b"one"
    assert version.sha256 == ours.get_artifact_version("app", 1).sha256
    assert [v.version for v in repo.list_artifact_versions(name="app", bsm=bsm)] == [
        "LATEST",
        "2",
        "1",
    ]
    alias = repo.get_alias(name="app", alias="prod", bsm=bsm)
    assert (alias.version, alias.secondary_version, alias.secondary_version_weight) == (
        "2",
        "1",
        30,
    )
    assert alias.get_version_content(bsm=bsm) == b"two"
    assert alias.get_secondary_version_content(bsm=bsm) == b"one"
    assert alias.random_artifact() in (alias.version_s3uri, alias.secondary_version_s3uri)
    assert [a.alias for a in repo.list_aliases(name="app", bsm=bsm)] == ["prod"]
    assert repo.list_artifact_names(bsm=bsm) == ["app"]


# ----- the adapter itself -------------------------------------------------------------------


def test_the_s3_only_namespace_takes_bsm_first(bsm, unique):
    repo = compat_repo("s3", unique)
    repo.bootstrap(bsm)
    repo.put_artifact(bsm, "app", b"one")
    published = repo.publish_artifact_version(bsm, "app")
    assert published.update_datetime.tzinfo is not None
    assert isinstance(published.update_at, str)
    assert repo.get_latest_published_artifact_version_number(bsm, "app") == 1
    again = s3_only_backend.Alias.from_dict(repo.put_alias(bsm, "app", "prod", 1).to_dict())
    assert again.get_version_content(bsm) == b"one"  # a result built by hand reads its URI


def test_one_repository_per_session_and_settings(bsm, unique):
    repo = compat_repo("s3-dynamodb", unique)
    core = repo.core(bsm)
    assert compat_repo("s3-dynamodb", unique).core(bsm) is core
    assert repo.core(bsm) is core  # a loop of calls builds no new clients
    other = type(bsm)(region_name="us-east-1")
    assert repo.core(other) is not core
    assert compat_repo("s3-dynamodb", unique + "x").core(bsm) is not core


@pytest.mark.parametrize("module", [s3_only_backend, s3_and_dynamodb_backend])
def test_clients_use_the_callers_session_not_the_environment(module, unique):
    """moto checking credentials: the environment's are unknown, the session's allowed."""
    needs("boto3")
    import boto3
    from moto.core import set_initial_no_auth_action_count

    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
    allow_all["Statement"][0]["Resource"] = "*"

    @set_initial_no_auth_action_count(3)
    @mock_aws
    def check():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="compat")
        iam.put_user_policy(
            UserName="compat", PolicyName="all", PolicyDocument=json.dumps(allow_all)
        )
        key = iam.create_access_key(UserName="compat")["AccessKey"]
        session = boto3.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        )
        bsm = types.SimpleNamespace(boto_ses=session, aws_region="us-east-1")  # duck-typed
        table = (
            {"dynamodb_table_name": f"tbl-{unique}"} if module is s3_and_dynamodb_backend else {}
        )
        repo = module.Repository(aws_region="us-east-1", s3_bucket=f"bkt-{unique}", **table)
        repo.core(bsm).bootstrap()
        repo.core(bsm).put_and_publish("app", b"one")
        with pytest.raises(AccessDenied):
            repo.core(None).get_artifact_version("app", 1)  # the environment's keys

    check()


def test_errors_are_the_1x_classes(backend, bsm, unique):
    repo = compat_repo(backend, unique)
    repo.bootstrap(bsm=bsm)
    with pytest.raises(exc.ArtifactNotFoundError) as missing:
        repo.get_artifact_version(name="app", bsm=bsm)
    assert isinstance(missing.value, VersionedError) and missing.value.name == "app"
    repo.put_artifact(name="app", content=b"one", bsm=bsm)
    repo.publish_artifact_version(name="app", bsm=bsm)
    with pytest.raises(exc.AliasNotFoundError):
        repo.get_alias(name="app", alias="prod", bsm=bsm)
    with pytest.raises(ValueError, match="'-'"):
        repo.put_alias(name="app", alias="bad-name", bsm=bsm)
    repo.delete_alias(name="app", alias="prod", bsm=bsm)  # a missing alias, as in 1.x
    repo.delete_artifact_version(name="app", version=9, bsm=bsm)  # a missing version
    repo.put_alias(name="app", alias="prod", version=1, bsm=bsm)
    with pytest.raises(Conflict):  # ours: 1.x would delete what prod serves
        repo.delete_artifact_version(name="app", version=1, bsm=bsm)


def test_purge_spares_aliased_versions(backend, bsm, unique):
    repo = compat_repo(backend, unique)
    repo.bootstrap(bsm=bsm)
    for content in (b"one", b"two", b"three"):
        repo.put_artifact(name="app", content=content, bsm=bsm)
        repo.publish_artifact_version(name="app", bsm=bsm)
    repo.put_alias(name="app", alias="prod", version=1, bsm=bsm)
    _, deleted = repo.purge_artifact_versions(
        name="app", keep_last_n=1, purge_older_than_secs=0, bsm=bsm
    )
    assert [d.version for d in deleted] == ["2"]  # 1.x would delete 1 too
    assert repo.get_alias(name="app", alias="prod", bsm=bsm).get_version_content(bsm) == b"one"


def test_s3paths(bsm, unique):
    needs("s3pathlib")
    from s3pathlib import S3Path

    repo = compat_repo("s3", unique)
    repo.bootstrap(bsm)
    artifact = repo.put_artifact(bsm, "app", b"one")
    assert isinstance(artifact.s3path, S3Path) and artifact.s3path.uri == artifact.s3uri
    assert repo.s3dir_artifact_store.uri == f"s3://bkt-{unique}/artifacts/"
    alias = repo.put_alias(bsm, "app", "dev")
    assert alias.s3path_version.uri == artifact.s3uri and alias.s3path_secondary_version is None
    table = compat_repo("s3-dynamodb", unique)  # paths need no request, so no table
    assert table.get_artifact_s3path("app", 1).uri == f"s3://bkt-{unique}/artifacts/app/000001"


def test_importing_compat_imports_neither_s3pathlib_nor_boto3():
    code = (
        "import sys, versioned_action.compat\n"
        "print(sorted({'s3pathlib', 'boto3'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


if __name__ == "__main__":  # run_peer's process
    main(sys.argv[1])
