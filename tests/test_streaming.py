"""Large files: multipart uploads, verified server-side copies, streamed downloads, memory."""

from __future__ import annotations

import hashlib
import os

import pytest
from requests_counter import watch

from versioned_action import LATEST, copying
from versioned_action.transfer import MiB, TransferConfig

SMALL_PARTS = TransferConfig(multipart_threshold=5 * MiB, part_size=5 * MiB, max_workers=3)


@pytest.fixture
def big_repo(http_repo):
    repo = http_repo(transfer_config=SMALL_PARTS)
    repo.server.enforcement()  # learned before the requests the tests count
    return repo


def blob(size: int, seed: int) -> bytes:
    return (seed.to_bytes(4, "big") + os.urandom(1021)) * (size // 1025) + b"x" * (size % 1025)


def replace_latest_mid_publish(repo, monkeypatch, content: bytes) -> None:
    """The publish's next look at the newest version first puts ``content`` as LATEST: after
    the publish read LATEST, before it copies."""
    original = repo._newest

    def racing(name, **kwargs):
        monkeypatch.setattr(repo, "_newest", original)
        repo.put_artifact("model", content)
        return original(name, **kwargs)

    monkeypatch.setattr(repo, "_newest", racing)


def test_multipart_put_publish_download(big_repo, tmp_path):
    data = blob(12 * MiB + 17, 1)
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    calls = watch(big_repo)
    latest = big_repo.put_artifact("model", path)
    assert calls["s3.UploadPart"] == 3 and calls["s3.CompleteMultipartUpload"] == 1
    assert latest.sha256 == hashlib.sha256(data).hexdigest() and latest.size == len(data)
    calls.clear()
    version = big_repo.publish_artifact_version("model")
    assert calls["s3.CopyObject"] == 1  # one server-side copy, whatever the part layout
    assert calls["s3.UploadPartCopy"] == calls["s3.GetObject"] == 0
    out = tmp_path / "out.bin"
    got = big_repo.download_artifact("model", out, version=version.version)
    assert out.read_bytes() == data and got.sha256 == latest.sha256


def test_over_the_copy_limit_copies_in_the_source_part_layout(big_repo, monkeypatch):
    """Above CopyObject's 5 GiB limit (lowered here) the copy goes part by part."""
    data = blob(12 * MiB + 17, 7)
    big_repo.put_artifact("model", data)
    monkeypatch.setattr(copying, "MAX_COPY_PART", 8 * MiB)
    calls = watch(big_repo)
    version = big_repo.publish_artifact_version("model")
    assert calls["s3.UploadPartCopy"] == 3 and calls["s3.CopyObject"] == 0
    assert big_repo.get_artifact_content("model", version.version) == data
    assert version.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [6 * MiB, 11 * MiB], ids=["one-part", "multipart"])
def test_a_copy_of_a_latest_replaced_mid_publish_holds_what_it_says(big_repo, monkeypatch, size):
    """LATEST replaced after the publish read it. Where the copy's source condition holds, the
    copy is refused and the publish reads LATEST again; where it is ignored (moto as shipped)
    the copy takes the new bytes with their own metadata and the publish learns which it
    took. Either way the version holds the new bytes and says so; nothing is deleted."""
    first, second = blob(size, 8), blob(size, 9)
    big_repo.put_artifact("model", first)
    replace_latest_mid_publish(big_repo, monkeypatch, second)
    calls = watch(big_repo)
    version = big_repo.publish_artifact_version("model")
    refused_first = big_repo.server.enforcement().copy_conditions
    assert calls["s3.CopyObject"] == (2 if refused_first else 1), calls
    assert calls["s3.DeleteObject"] == 0, calls
    stored = big_repo.get_artifact_content("model", version.version)
    assert stored == second and version.sha256 == hashlib.sha256(second).hexdigest()
    assert big_repo.list_artifact_versions("model")[1].version == version.version == "1"


def test_put_and_publish_large_ships_its_own_bytes(big_repo, monkeypatch, tmp_path):
    mine, theirs = blob(6 * MiB, 4), blob(6 * MiB, 5)
    path = tmp_path / "mine.bin"
    path.write_bytes(mine)
    replace_latest_mid_publish(big_repo, monkeypatch, theirs)
    _, version = big_repo.put_and_publish("model", path)
    assert big_repo.get_artifact_content("model", version.version) == mine
    assert big_repo.get_artifact_content("model", LATEST) == theirs


def test_unseekable_stream_is_spooled(big_repo):
    read_fd, write_fd = os.pipe()
    data = blob(6 * MiB, 6)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the writer child
        os.close(read_fd)
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as stream:
        artifact = big_repo.put_artifact("piped", stream)
    os.waitpid(pid, 0)
    assert big_repo.get_artifact_content("piped") == data
    assert artifact.size == len(data)


@pytest.mark.slow
def test_one_gib_stays_under_128_mib():
    from benchmarks.footprint import measure

    result = measure(1024)
    assert result["identical"], result
    assert result["peak_rss_mib"] < 128, result
