"""Operations whose cost grows with the number of versions or artifacts, at N = 10 .. 10,000.

Artifacts are seeded straight into storage (:mod:`benchmarks.seed`), outside any
measurement; then each library lists the versions, promotes an alias to the newest one and
purges all but 5, each call counted, timed once, and its peak-memory growth taken, in
process (ours here, the peer in a child). Every outcome is checked: a list must return the N
seeded versions, a promote version N, a purge N - 5 deleted versions.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from . import report
from .counting import Meter
from .counts import BACKENDS, BenchmarkError, Step, check_outcome, measure_ours, unique
from .operations import Ours
from .seed import PREFIX, Seeder
from .tools import REGION, run_peer

KEEP = 5
# The peer's s3-dynamodb purge opens a DynamoDB connection per deleted version (about 0.13 s
# each here): above this N it would run for over 20 minutes, so it is left out.
PEER_PURGE_LIMIT = {"s3-dynamodb": 1_000}


@dataclasses.dataclass
class Cell:
    requests: int | None = None
    seconds: float | None = None
    rss_growth_mib: float | None = None
    note: str = ""

    def requests_text(self) -> str:
        if self.requests is None:
            return self.note or report.MISSING
        return report.count(self.requests) + self.note


@dataclasses.dataclass
class Results:
    rows: list[tuple[str, str, Cell, Cell]] = dataclasses.field(default_factory=list)
    ours_counts: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)

    def add(self, backend: str, label: str, ours: Cell, peer: Cell) -> None:
        self.rows.append((backend, label, ours, peer))
        if ours.requests is not None:
            self.ours_counts.setdefault(backend, {})[label] = ours.requests


def steps(versions: int) -> list[Step]:
    args = {"name": "ours"}
    return [
        Step("list versions", "list_versions", args, {"count": versions + 1}),
        Step(
            "promote to newest",
            "promote_newest",
            {**args, "alias": "prod"},
            {"version": str(versions)},
        ),
        Step(
            f"purge (keep {KEEP})",
            "purge",
            {**args, "keep": KEEP, "older_than": 0},
            {"count": versions - KEEP},
        ),
    ]


class Scale:
    def __init__(self, endpoint: str, meter: Meter, workdir: Path, with_peer: bool):
        self.endpoint = endpoint
        self.meter = meter
        self.workdir = workdir
        self.with_peer = with_peer
        self.seeder = Seeder(endpoint)
        self.results = Results()

    def _repo(self, backend: str, bucket: str, table: str):
        from versioned_action import open_repository

        return open_repository(
            backend, bucket=bucket, table=table, endpoint_url=self.endpoint, region=REGION
        )

    def versions(self, backend: str, versions: int) -> None:
        """Seed an artifact of ``versions`` versions per library, then measure each step."""
        bucket = table = unique(f"scale-{versions}")
        repo = self._repo(backend, bucket, table)
        repo.bootstrap()
        repo.server.enforcement()  # the once-per-process probe is counted in the requests table
        started = time.monotonic()
        names = ["ours", "peer"] if self.with_peer else ["ours"]
        for name in names:
            self.seeder.artifact(backend, bucket, table, name, versions)
        report.progress(
            f"scale: {backend} N={versions:,}: seeded {len(names)} artifact(s) in "
            f"{time.monotonic() - started:.0f} s"
        )
        todo = steps(versions)
        ours = [self._ours(Ours(repo), backend, step) for step in todo]
        skip = versions > PEER_PURGE_LIMIT.get(backend, versions)
        peer_steps = [step for step in todo if not (skip and step.op == "purge")]
        peer = self._peer(backend, bucket, table, peer_steps)
        done = {step.label: cell for step, cell in zip(peer_steps, peer, strict=True)}
        for step, mine in zip(todo, ours, strict=True):
            theirs = done.get(step.label, Cell(note="not run ³"))
            self.results.add(backend, f"{step.label} (N={versions:,})", mine, theirs)
        self.seeder.empty(bucket)

    def names(self, count: int) -> None:
        """``list_artifact_names`` over ``count`` artifacts (one seeded bucket, both backends)."""
        bucket = unique(f"scale-names-{count}")
        self.seeder.bucket(bucket)
        self.seeder.names(bucket, count)
        step = Step(
            f"list_artifact_names ({count:,} artifacts)", "list_names", {}, {"count": count}
        )
        for backend in BACKENDS:
            repo = self._repo(backend, bucket, unique("unused"))
            mine = self._ours(Ours(repo), backend, step)
            (theirs,) = self._peer(backend, bucket, unique("unused"), [step], bootstrap=False)
            self.results.add(backend, step.label, mine, theirs)
        self.seeder.empty(bucket)

    def _ours(self, ours: Ours, backend: str, step: Step) -> Cell:
        measured, outcome = measure_ours(self.meter, ours, backend, step)
        check_outcome(f"ours {backend}", step.label, outcome, step.expect)
        return Cell(measured.requests, measured.seconds, measured.rss_growth_mib)

    def _peer(self, backend, bucket, table, todo: list[Step], bootstrap=True) -> list[Cell]:
        if not self.with_peer:
            return [Cell() for _ in todo]
        request = {
            "backend": backend,
            "bucket": bucket,
            "table": table,
            "prefix": PREFIX,
            "bootstrap": bootstrap and backend == "s3-dynamodb",
            "steps": [
                {"op": s.op, "args": {**s.args, **({"name": "peer"} if "name" in s.args else {})}}
                for s in todo
            ],
        }
        results, _ = run_peer(request, endpoint=self.endpoint, workdir=self.workdir, timeout=3600)
        cells = []
        for step, result in zip(todo, results, strict=True):
            if "error" in result:
                report.progress(f"peer {backend} / {step.label} failed: {result['error']}")
                cells.append(Cell(note="failed"))
                continue
            cell = Cell(result["requests"], result["seconds"], result["rss_growth_mib"])
            try:
                check_outcome(f"peer {backend}", step.label, result["outcome"], step.expect)
            except BenchmarkError as err:
                report.progress(f"warning: {err}")
                cell.note = " (unexpected outcome)"
            cells.append(cell)
        return cells


COLUMNS = [
    "operation",
    "backend",
    "ours: requests",
    "peer: requests",
    "ours: s",
    "peer: s",
    "ours/peer (time)",
    "ours: peak RSS growth MiB",
    "peer: peak RSS growth MiB",
]
NOTES = (
    "One run each, in process (ours here, the peer in a child process); requests are "
    "botocore `before-call` events of the call alone, seeding excluded.",
    "Peak RSS growth: the process's VmHWM after the call minus its VmRSS before it (the "
    "peak reset through /proc/self/clear_refs).",
    f"Seeded straight into storage: `s3` an object per version, `s3-dynamodb` an item per "
    f"version (objects for LATEST and the newest 10). Purge: keep {KEEP}, older than 0 s.",
    "³ not run: the peer's `s3-dynamodb` purge opens a new DynamoDB connection for every "
    "version it deletes (`use_boto_session`), about 0.13 s each here: over 20 minutes at "
    f"N=10,000. It runs up to N={PEER_PURGE_LIMIT['s3-dynamodb']:,}.",
)


def section(endpoint, meter, workdir, *, versions, names, with_peer) -> tuple[str, Results]:
    scale = Scale(endpoint, meter, workdir, with_peer)
    for backend in BACKENDS:
        for n in versions:
            scale.versions(backend, n)
    scale.names(names)
    operations = [step.label for step in steps(KEEP)] + ["list_artifact_names"]

    def position(row) -> tuple[int, int]:
        backend, label = row[0], row[1]
        return operations.index(label.rsplit(" (", 1)[0]), BACKENDS.index(backend)

    rows = []
    for backend, label, ours, peer in sorted(scale.results.rows, key=position):
        rows.append(
            [
                label,
                backend,
                ours.requests_text(),
                peer.requests_text(),
                report.seconds(ours.seconds),
                report.seconds(peer.seconds),
                report.ratio(ours.seconds, peer.seconds),
                report.mib(ours.rss_growth_mib),
                report.mib(peer.rss_growth_mib),
            ]
        )
    return report.table("Scale", COLUMNS, rows, NOTES), scale.results
