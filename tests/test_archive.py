"""A directory put: one deterministic tar of the tree, so the same tree dedups on re-put."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile

import boto3
import pytest
from local_runner import Runner

from versioned_action import archive
from versioned_action.errors import InvalidEnvironment, InvalidInput
from versioned_action.request import parse


def make_tree(root):
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "run").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "run").chmod(0o700)
    (root / "lib" / "deep").mkdir(parents=True)
    (root / "lib" / "deep" / "data.bin").write_bytes(bytes(range(256)) * 40)
    (root / "lib" / "a-b.txt").write_text("sorts before lib/deep")
    (root / "empty").mkdir()
    (root / "README").write_text("read me")
    (root / "README").chmod(0o600)
    (root / "latest").symlink_to("lib/deep/data.bin")
    (root / "lib" / "up").symlink_to("../README")
    return root


def tar_of(root, mtime: int = 0) -> bytes:
    out = io.BytesIO()
    archive.write(root, out, mtime)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_same_tree_gives_the_same_bytes(tmp_path):
    tree = make_tree(tmp_path / "one")
    first = tar_of(tree)
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (1_000_000, 2_000_000), follow_symlinks=False)
    (tree / "README").chmod(0o640)  # modes are normalised: still 0644
    if os.geteuid() == 0:  # only root can give files away
        for path in tree.rglob("*"):
            os.chown(path, 4321, 4321, follow_symlinks=False)
    assert tar_of(tree) == first
    elsewhere = tmp_path / "copy" / "other-name"
    shutil.copytree(tree, elsewhere, symlinks=True)  # new inodes, times, creation order
    assert sha(tar_of(elsewhere)) == sha(first)
    assert tar_of(tree, mtime=1_700_000_000) == tar_of(elsewhere, mtime=1_700_000_000) != first


def test_the_tar_holds_the_tree_normalised(tmp_path):
    tree = make_tree(tmp_path / "t")
    with tarfile.open(fileobj=io.BytesIO(tar_of(tree, mtime=42))) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [
            "README",
            "bin",
            "bin/run",
            "empty",
            "latest",
            "lib",
            "lib/a-b.txt",
            "lib/deep",
            "lib/deep/data.bin",
            "lib/up",
        ]
        kinds = {m.name: (m.type, m.mode) for m in members}
        assert kinds["README"] == (tarfile.REGTYPE, 0o644)
        assert kinds["bin/run"] == (tarfile.REGTYPE, 0o755)
        assert kinds["empty"] == (tarfile.DIRTYPE, 0o755)
        assert kinds["latest"][0] == tarfile.SYMTYPE
        assert tar.getmember("latest").linkname == "lib/deep/data.bin"
        assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 42)}
        assert tar.extractfile("lib/deep/data.bin").read() == bytes(range(256)) * 40


def test_different_content_gives_a_different_sha(tmp_path):
    tree = make_tree(tmp_path / "t")
    before = sha(tar_of(tree))
    (tree / "README").write_text("read me!")
    changed = sha(tar_of(tree))
    (tree / "README").write_text("read me")
    (tree / "bin" / "run").chmod(0o644)  # no longer executable: a different archive
    assert len({before, changed, sha(tar_of(tree))}) == 3
    (tree / "bin" / "run").chmod(0o755)
    assert sha(tar_of(tree)) == before


def test_an_empty_directory_is_an_empty_tar(tmp_path):
    (tmp_path / "empty").mkdir()
    data = tar_of(tmp_path / "empty")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmembers() == []
    assert data == tar_of(tmp_path / "empty")


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("out", "../../etc/passwd", "leads out"),
        ("abs", "/etc/passwd", "is absolute"),
        ("here", ".", None),  # the root itself is inside
        ("sub/parent", "..", None),
        ("sub/twice", "../..", "leads out"),
        ("via", "here/../escaped", "leads out"),  # lexically inside, really outside
    ],
)
def test_links_must_stay_inside(tmp_path, name, target, message):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "here").symlink_to(".")
    if name != "here":
        (root / name).symlink_to(target)
    if message is None:
        assert any(m.name == name and m.kind == "link" for m in archive.scan(root))
        return
    with pytest.raises(InvalidInput) as caught:
        archive.scan(root)
    assert caught.value.field == "path" and repr(name) in str(caught.value)
    assert message in str(caught.value)


def test_devices_and_fifos_are_refused(tmp_path):
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "pipe")
    with pytest.raises(InvalidInput, match="'pipe'.*FIFO"):
        archive.scan(tmp_path / "d")


def test_the_temporary_tar_is_removed(tmp_path):
    tree = make_tree(tmp_path / "t")
    with archive.temporary(tree) as path:
        assert path.read_bytes() == tar_of(tree)
    assert not path.exists()
    with pytest.raises(RuntimeError), archive.temporary(tree) as path:
        raise RuntimeError("a failed put")
    assert not path.exists()


def test_parse_a_directory_put(tmp_path):
    tree = make_tree(tmp_path / "t")
    values = {"operation": "put", "bucket": "abc", "name": "app", "path": str(tree)}
    request = parse(values, {"SOURCE_DATE_EPOCH": "1700000000"})
    assert (request.archive, request.archive_mtime) == ("tar", 1_700_000_000)
    assert (request.content_type, request.metadata["archive"]) == ("application/x-tar", "tar")
    assert parse({**values, "content-type": "application/x-app"}, {}).content_type == (
        "application/x-app"
    )
    with pytest.raises(InvalidEnvironment, match="SOURCE_DATE_EPOCH"):
        parse(values, {"SOURCE_DATE_EPOCH": "yesterday"})
    with pytest.raises(InvalidInput) as caught:
        parse({**values, "metadata": "Archive=zip"}, {})
    assert caught.value.field == "metadata"


def test_an_escaping_link_fails_the_step_before_any_request(tmp_path, silent):
    workspace = tmp_path / "workspace"
    (workspace / "dist").mkdir(parents=True)
    (workspace / "dist" / "config").symlink_to("../../secrets")
    step = Runner(workspace).step(
        operation="put", bucket="links", name="app", path="dist", endpoint_url=silent.url
    )
    assert step.returncode == 1 and step.outputs == {}
    assert len(step.errors) == 1 and "input path" in step.errors[0]
    assert "'config'" in step.errors[0] and "leads out" in step.errors[0]
    assert silent.accepted == 0


def test_a_directory_put_through_the_action(tmp_path, moto_endpoint, unique):
    workspace, temp = tmp_path / "workspace", tmp_path / "temp"
    make_tree(workspace / "dist")
    temp.mkdir()
    runner = Runner(workspace, TMPDIR=str(temp))
    common = {
        "bucket": f"arc-{unique}",
        "table": f"arc-{unique}",
        "endpoint_url": moto_endpoint,
        "create_resources": "true",
        "name": "site",
    }
    first = runner.step(operation="put", path="dist", publish="true", **common)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.outputs
    assert (out["version"], out["changed"]) == ("1", "true")
    assert out["sha256"] == sha(tar_of(workspace / "dist"))
    assert out["digest"] == f"sha256:{out['sha256']}"
    assert json.loads(out["result"])["details"]["archive"] == "tar"
    assert "a tar of the directory" in first.stdout

    for path in (workspace / "dist").rglob("*"):
        os.utime(path, (5, 5), follow_symlinks=False)
    again = runner.step(operation="put", path="dist", publish="true", **common).outputs
    assert (again["version"], again["changed"], again["sha256"]) == ("1", "false", out["sha256"])

    got = runner.step(operation="get", version="1", path="site.tar", **common)
    assert got.returncode == 0, got.stdout
    with tarfile.open(workspace / "site.tar") as tar:
        assert tar.extractfile("README").read() == b"read me"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    key = out["s3-uri"].split("/", 3)[3]
    head = s3.head_object(Bucket=common["bucket"], Key=key)
    assert (head["ContentType"], head["Metadata"]["archive"]) == ("application/x-tar", "tar")
    assert list(temp.iterdir()) == []  # the temporary tar is gone
