"""Progress lines of large transfers: when they appear, what they say, how they reach the log."""

from __future__ import annotations

import io
import logging
import re
import threading

import pytest
from local_runner import Runner

from versioned_action import open_repository, progress
from versioned_action.content import MiB
from versioned_action.errors import InvalidEnvironment
from versioned_action.github.commands import Reporter
from versioned_action.transfer import TransferConfig

LINE = re.compile(
    r"(upload|download) s3://\S+: [\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB), \d+%, "
    r"[\d.]+ MiB/s"
)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def records(caplog):
    caplog.set_level(logging.INFO, logger=progress.LOGGER.name)
    return lambda: [r.getMessage() for r in caplog.records if r.name == progress.LOGGER.name]


def test_a_line_at_most_every_interval_and_one_at_the_end(records):
    clock = Clock()
    tracker = progress.Progress("upload", "s3://b/k", 100 * MiB, clock=clock)
    for _ in range(4):  # 4 s: within the first interval
        clock.now += 1
        tracker.advance(10 * MiB)
    assert records() == []
    clock.now += 1
    tracker.advance(10 * MiB)  # 5 s
    clock.now += 4
    tracker.advance(10 * MiB)  # 9 s: 4 s after the last line
    clock.now += 1
    tracker.advance(40 * MiB)  # 10 s
    tracker.finish()
    assert records() == [
        "upload s3://b/k: 50.0 MiB of 100.0 MiB, 50%, 10.0 MiB/s",
        "upload s3://b/k: 100.0 MiB of 100.0 MiB, 100%, 10.0 MiB/s",
    ]


def test_nothing_below_the_threshold_or_within_the_first_interval(records):
    clock = Clock()
    small = progress.Progress("upload", "s3://b/k", progress.THRESHOLD - 1, clock=clock)
    clock.now += 60
    small.advance(progress.THRESHOLD - 1)
    small.finish()
    quick = progress.Progress("download", "s3://b/k", 10 * progress.THRESHOLD, clock=clock)
    clock.now += progress.INTERVAL - 0.1
    quick.advance(10 * progress.THRESHOLD)
    quick.finish()
    assert records() == []


def test_counts_from_many_threads_and_a_restart(records):
    tracker = progress.Progress("upload", "s3://b/k", 16 * 1024, interval=0, threshold=0)

    def parts():
        for _ in range(256):
            tracker.advance(4)

    threads = [threading.Thread(target=parts) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tracker.done == 16 * 1024 and tracker.lines == len(records()) == 16 * 256
    assert records()[-1].startswith("upload s3://b/k: 16.0 KiB of 16.0 KiB, 100%")
    tracker.restart()
    assert tracker.done == 0


def test_sizes_read_at_a_glance():
    cases = {0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 12_900_000: "12.3 MiB", 2**30: "1.0 GiB"}
    assert {size: progress.human_size(size) for size in cases} == cases


def test_the_variables_override_the_defaults(monkeypatch):
    assert progress.settings() == (progress.INTERVAL, progress.THRESHOLD)
    monkeypatch.setenv(progress.INTERVAL_VARIABLE, "0.5")
    monkeypatch.setenv(progress.THRESHOLD_VARIABLE, "1024")
    assert progress.settings() == (0.5, 1024)
    monkeypatch.setenv(progress.INTERVAL_VARIABLE, "soon")
    with pytest.raises(InvalidEnvironment, match=progress.INTERVAL_VARIABLE):
        progress.settings()


def test_multipart_parts_are_counted_as_they_complete(
    records, moto_endpoint, unique, tmp_path, monkeypatch
):
    monkeypatch.setenv(progress.INTERVAL_VARIABLE, "0")
    monkeypatch.setenv(progress.THRESHOLD_VARIABLE, "0")
    config = TransferConfig(multipart_threshold=5 * MiB, part_size=5 * MiB, max_workers=3)
    repo = open_repository(
        "s3",
        bucket=f"prg-{unique}",
        endpoint_url=moto_endpoint,
        region="us-east-1",
        transfer_config=config,
    )
    repo.bootstrap()
    repo.put_artifact("big", b"x" * (11 * MiB))
    uploads = records()
    assert len(uploads) == 3 and all(LINE.fullmatch(line) for line in uploads), uploads
    assert [_done(line) for line in uploads] == sorted(_done(line) for line in uploads)
    assert "11.0 MiB of 11.0 MiB, 100%" in uploads[-1]  # 3 parts, no extra last line
    repo.download_artifact("big", tmp_path / "big.bin")
    downloads = records()[3:]
    assert len(downloads) >= 2 and all(LINE.fullmatch(line) for line in downloads), downloads
    assert "11.0 MiB of 11.0 MiB, 100%" in downloads[-1]


def _done(line: str) -> float:
    return float(line.split(": ")[1].split(" ")[0])


def test_the_action_writes_each_record_as_one_escaped_line():
    out = io.StringIO()
    with progress.routed(Reporter(stream=out).info):
        progress.LOGGER.info("upload s3://b/k\n::error::forged ##[add-mask]x")
    progress.LOGGER.info("after the block: not the reporter's")
    assert out.getvalue() == "upload s3://b/k\\n::error::forged ##\\[add-mask]x\n"
    assert progress.LOGGER.handlers == [] and progress.LOGGER.propagate


@pytest.fixture
def runner(tmp_path, moto_endpoint, unique):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    common = {"bucket": f"prg-{unique}", "endpoint_url": moto_endpoint, "create_resources": "true"}
    return workspace, common


def test_progress_lines_in_the_log_of_a_step(runner):
    workspace, common = runner
    (workspace / "model.bin").write_bytes(b"m" * (3 * MiB))
    job = Runner(workspace, VERSIONED_PROGRESS_INTERVAL="0", VERSIONED_PROGRESS_THRESHOLD=str(MiB))
    put = job.step(operation="put", name="model", path="model.bin", **common)
    get = job.step(operation="get", name="model", path="copy.bin", **common)
    for step, action, count in ((put, "upload", 1), (get, "download", 2)):
        assert step.returncode == 0, step.stdout + step.stderr
        lines = [line for line in step.stdout.splitlines() if line.startswith(action + " ")]
        assert len(lines) >= count and all(LINE.fullmatch(line) for line in lines), step.stdout
        assert "3.0 MiB of 3.0 MiB, 100%" in lines[-1]
        inside = step.stdout.split("::group::")[1].split("::endgroup::")[0]
        assert not any(line in inside for line in lines)  # in the open: a group starts folded


def test_no_progress_lines_for_a_small_file_at_the_defaults(runner):
    workspace, common = runner
    (workspace / "a.bin").write_bytes(b"a" * 1024)
    job = Runner(workspace)
    for inputs in ({"operation": "put", "path": "a.bin"}, {"operation": "get", "path": "b.bin"}):
        step = job.step(name="a", **inputs, **common)
        assert step.returncode == 0, step.stdout + step.stderr
        assert not re.search(r"^(upload|download) ", step.stdout, re.M), step.stdout


def test_a_bad_progress_variable_fails_before_any_request(tmp_path, silent):
    step = Runner(tmp_path, VERSIONED_PROGRESS_THRESHOLD="lots").step(
        operation="list", bucket="progress", endpoint_url=silent.url
    )
    assert step.returncode == 1 and len(step.errors) == 1
    assert "VERSIONED_PROGRESS_THRESHOLD" in step.errors[0] and silent.accepted == 0
