"""Large transfers and start-up, as whole processes: our CLI, the peer, ``aws s3 cp``.

Every figure runs its tools interleaved (ours, peer, aws-cli, ours, ...) ``repeat`` times.
A run is one child process, timed from spawn to exit; its requests and peak memory come from
inside it (:mod:`benchmarks.probe`). What a run needs is prepared before it and checked and
undone after it, untimed: the stored size or ETag, the downloaded sha256, the CLI's result.
All on the ``s3`` backend; each tool has its own bucket, except that every download reads
the object our CLI put.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError

from .counts import unique
from .seed import s3_key
from .tools import REGION, ChildFailed, ChildRun, MiB, run_measured, run_peer

TOOLS = ("ours", "peer", "aws-cli")
LABELS = {
    "ours": "ours (`versioned-action` CLI process)",
    "peer": "peer (library call in a process)",
    "aws-cli": "`aws s3 cp` process",
}
BIG_TIMEOUT = 1800.0
TINY_TIMEOUT = 120.0


def _nothing(*_) -> None:
    pass


@dataclasses.dataclass
class Case:
    tool: str
    run: Callable[[], ChildRun]
    after: Callable[[ChildRun], None] = _nothing  # untimed: check the run, then undo it


@dataclasses.dataclass
class Figure:
    title: str
    cases: list[Case]
    prepare: Callable[[], None] = _nothing  # untimed, once before the runs


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def make_file(path: Path, size: int) -> Path:
    with path.open("wb") as out:
        for offset in range(0, size, MiB):
            out.write(os.urandom(min(MiB, size - offset)))
    return path


class Transfer:
    def __init__(self, endpoint, workdir: Path, seeder, *, peer: bool, aws: Path | None):
        self.endpoint = endpoint
        self.workdir = workdir
        self.seeder = seeder
        self.peer = peer
        self.aws = aws
        self.cli = Path(sys.executable).with_name("versioned-action")
        self.bucket = {tool: unique(f"bench-{tool}") for tool in TOOLS}
        for bucket in self.bucket.values():
            seeder.bucket(bucket)
        self.files: dict[int, Path] = {}
        self.out = workdir / "downloaded.bin"

    # ----- the three tools ------------------------------------------------------------------

    def ours(self, *args, timeout=BIG_TIMEOUT) -> ChildRun:
        argv = [self.cli, "--bucket", self.bucket["ours"], "--endpoint-url", self.endpoint]
        argv += ["--aws-region", REGION, "--json", *args]
        return run_measured(argv, endpoint=self.endpoint, workdir=self.workdir, timeout=timeout)

    def peer_step(self, op: str, args: dict, bucket: str, timeout=BIG_TIMEOUT) -> ChildRun:
        request = {"backend": "s3", "bucket": bucket, "steps": [{"op": op, "args": args}]}
        results, run = run_peer(
            request, endpoint=self.endpoint, workdir=self.workdir, timeout=timeout
        )
        if "error" in results[0]:
            raise ChildFailed(f"peer {op}: {results[0]['error']}")
        return dataclasses.replace(run, stdout=json.dumps(results[0]["outcome"]))

    def peer_put(self, name: str, source: Path) -> ChildRun:
        return self.peer_step("put", {"name": name, "path": str(source)}, self.bucket["peer"])

    def aws_cp(self, source, target, timeout=BIG_TIMEOUT) -> ChildRun:
        argv = [self.aws, "s3", "cp", source, target, "--endpoint-url", self.endpoint]
        argv += ["--region", REGION, "--only-show-errors", "--cli-read-timeout", "600"]
        return run_measured(argv, endpoint=self.endpoint, workdir=self.workdir, timeout=timeout)

    # ----- checks -----------------------------------------------------------------------------

    def head(self, tool: str, key: str) -> dict:
        try:
            return self.seeder.s3.head_object(Bucket=self.bucket[tool], Key=key)
        except ClientError as err:
            raise ChildFailed(f"{tool}: s3 key {key} is not there: {err}") from err

    def expect_size(self, tool: str, key: str, size: int) -> None:
        stored = self.head(tool, key)["ContentLength"]
        if stored != size:
            raise ChildFailed(f"{tool}: s3 key {key} holds {stored} bytes, expected {size}")

    def expect_download(self, source: Path) -> Callable[[ChildRun], None]:
        expected = sha256_of(source)

        def check(_: ChildRun) -> None:
            if not self.out.is_file() or sha256_of(self.out) != expected:
                raise ChildFailed(f"{self.out} is missing or differs from {source}")
            self.out.unlink()

        return check

    def file(self, size: int) -> Path:
        if size not in self.files:
            self.files[size] = make_file(self.workdir / f"random-{size}.bin", size)
        return self.files[size]

    # ----- figures ----------------------------------------------------------------------------

    def put_new(self, size: int) -> Figure:
        source, name = self.file(size), f"put-{size}"
        latest = s3_key("s3", name, None)

        def stored(tool: str, key: str) -> Callable[[ChildRun], None]:
            def check(_: ChildRun) -> None:
                self.expect_size(tool, key, size)
                self.seeder.empty(self.bucket[tool])

            return check

        return Figure(
            f"put {size // MiB} MiB, new content",
            [
                Case("ours", lambda: self.ours("put", name, source), stored("ours", latest)),
                Case(
                    "peer",
                    lambda: self.peer_put(name, source),
                    stored("peer", latest),
                ),
                Case(
                    "aws-cli",
                    lambda: self.aws_cp(source, f"s3://{self.bucket['aws-cli']}/{name}.bin"),
                    stored("aws-cli", f"{name}.bin"),
                ),
            ],
        )

    def put_unchanged(self, size: int) -> Figure:
        source, name = self.file(size), f"again-{size}"
        latest = s3_key("s3", name, None)
        etags = {}

        def prepare() -> None:
            self.ours("put", name, source)
            if self.peer:
                self.peer_put(name, source)
            etags.update({tool: self.head(tool, latest)["ETag"] for tool in self.tools(2)})

        def unchanged(tool: str) -> Callable[[ChildRun], None]:
            def check(_: ChildRun) -> None:
                if self.head(tool, latest)["ETag"] != etags[tool]:
                    raise ChildFailed(f"{tool} uploaded unchanged content again")

            return check

        return Figure(
            f"re-put {size // MiB} MiB, unchanged",
            [
                Case("ours", lambda: self.ours("put", name, source), unchanged("ours")),
                Case(
                    "peer",
                    lambda: self.peer_put(name, source),
                    unchanged("peer"),
                ),
            ],
            prepare,
        )

    def publish(self, size: int) -> Figure:
        source, name = self.file(size), f"publish-{size}"
        version = s3_key("s3", name, 1)

        def prepare() -> None:
            self.ours("put", name, source)
            if self.peer:
                self.peer_put(name, source)

        def published(tool: str) -> Callable[[ChildRun], None]:
            def check(run: ChildRun) -> None:
                if _json(run.stdout).get("version") != "1":
                    raise ChildFailed(f"{tool} publish returned {run.stdout[:200]}")
                self.expect_size(tool, version, size)
                # the next run publishes a first version again
                self.seeder.s3.delete_object(Bucket=self.bucket[tool], Key=version)

            return check

        return Figure(
            f"publish a {size // MiB} MiB LATEST (first version)",
            [
                Case("ours", lambda: self.ours("publish", name), published("ours")),
                Case(
                    "peer",
                    lambda: self.peer_step("publish", {"name": name}, self.bucket["peer"]),
                    published("peer"),
                ),
            ],
            prepare,
        )

    def download(self, size: int, title: str, timeout: float = BIG_TIMEOUT) -> Figure:
        source = self.file(size) if size else self.tiny()
        name = f"get-{size}"
        key = s3_key("s3", name, None)
        check = self.expect_download(source)
        peer_args = {"name": name, "version": None, "path": str(self.out)}
        return Figure(
            title,
            [
                Case(
                    "ours",
                    lambda: self.ours("get", name, "--path", self.out, timeout=timeout),
                    check,
                ),
                Case(
                    "peer",
                    lambda: self.peer_step("download", peer_args, self.bucket["ours"], timeout),
                    check,
                ),
                Case(
                    "aws-cli",
                    lambda: self.aws_cp(f"s3://{self.bucket['ours']}/{key}", self.out, timeout),
                    check,
                ),
            ],
            lambda: self.ours("put", name, source),
        )

    def tiny(self) -> Path:
        path = self.workdir / "tiny.txt"
        path.write_bytes(b"tiny\n")
        return path

    def available(self, tool: str) -> bool:
        return {"ours": True, "peer": self.peer, "aws-cli": self.aws is not None}[tool]

    def tools(self, first: int = len(TOOLS)) -> list[str]:
        """The available ones of the first ``first`` tools."""
        return [tool for tool in TOOLS[:first] if self.available(tool)]
