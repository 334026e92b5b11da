"""AWS requests per operation, this project against the peer, on both backends.

One scenario of small artifacts through the public API of each library; ours runs in this
process, the peer in a child process (its own imports and globals). Each step counts the
botocore ``before-call`` events of that call alone; setup (buckets, tables) is not counted.
Our outcomes are checked against what each step must return, so a count is never that of a
call that silently did something else.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from . import report
from .counting import Meter
from .operations import Ours
from .tools import REGION, run_peer

BACKENDS = ("s3", "s3-dynamodb")


@dataclasses.dataclass(frozen=True)
class Step:
    label: str
    op: str
    args: dict
    expect: dict  # what our outcome must contain
    note: str = ""  # a footnote mark for the table (budget keys go without it)

    @property
    def title(self) -> str:
        return f"{self.label} {self.note}" if self.note else self.label


def scenario(workdir: Path) -> list[Step]:
    app = {"name": "app"}
    prod = {"name": "app", "alias": "prod"}
    download = str(workdir / "download.bin")
    return [
        Step("put new", "put", {**app, "content": "v1"}, {"changed": True}),
        Step("put same", "put", {**app, "content": "v1"}, {"changed": False}),
        Step("publish first", "publish", app, {"version": "1"}),
        Step("publish unchanged", "publish", app, {"version": "1"}),
        Step("put changed", "put", {**app, "content": "v2"}, {"changed": True}),
        Step("publish with a previous version", "publish", app, {"version": "2"}),
        Step("put_and_publish", "put_and_publish", {**app, "content": "v3"}, {"version": "3"}, "¹"),
        Step("put_alias", "put_alias", {**prod, "version": "1"}, {"version": "1"}),
        Step(
            "canary put_alias",
            "put_alias",
            {**prod, "version": "1", "secondary_version": "2", "weight": 10},
            {"version": "1"},
        ),
        Step("rollback (previous configuration)", "rollback", prod, {"version": "1"}, "³"),
        Step("get_alias", "get_alias", prod, {"version": "1"}),
        Step("list versions (LATEST + 3)", "list_versions", app, {"count": 4}),
        Step("promote to newest", "promote_newest", prod, {"version": "3"}, "²"),
        Step("alias history (4 changes)", "history", prod, {"count": 4}, "³"),
        Step("get version", "get_version", {**app, "version": "3"}, {"version": "3"}),
        Step("download", "download", {**app, "version": "3", "path": download}, {"version": "3"}),
        Step(
            "purge 2 of 3 (keep 1)",
            "purge",
            {**app, "keep": 1, "older_than": 0},
            {"count": 2},
        ),
        Step("delete_alias", "delete_alias", prod, {"deleted": True}),
    ]


NOTES = (
    "Requests: botocore `before-call` events of each call, in process (ours) or in one peer "
    "child process per backend; bucket and table creation not counted.",
    "¹ the peer has no put-and-publish: its put, then its publish.",
    "² ours: `get_newest_version_number` + `put_alias`, as the promote step; peer `s3`: "
    "`get_latest_published_artifact_version_number` + `put_alias`; peer `s3-dynamodb` (no "
    "such call): `list_artifact_versions` + `put_alias`.",
    "³ the peer keeps no alias history: no rollback, no history.",
    "The peer's `s3-dynamodb` publish makes a new version even when LATEST is unchanged, so "
    "from `publish unchanged` on it holds one version more (its purge deletes 3).",
)


PROBE = "server probe (once per process, off AWS)"


class BenchmarkError(RuntimeError):
    """A measured call did not do what the benchmark expects of it."""


def check_outcome(who: str, label: str, outcome: dict, expect: dict) -> None:
    wrong = {k: outcome.get(k) for k, v in expect.items() if outcome.get(k) != v}
    if wrong:
        raise BenchmarkError(f"{who} / {label}: expected {expect}, got {outcome}")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_ours(backend: str, endpoint: str, meter: Meter, workdir: Path) -> dict[str, int]:
    """Requests of each scenario step through our library."""
    from versioned_action import open_repository

    name = unique("ours")
    repo = open_repository(backend, bucket=name, table=name, endpoint_url=endpoint, region=REGION)
    repo.bootstrap()
    ours = Ours(repo)
    counts = {}
    with meter.measure() as probe:  # what the endpoint enforces: none on AWS, where it is known
        repo.server.enforcement()
    counts[PROBE] = probe.requests
    for step in scenario(workdir):
        measured, outcome = measure_ours(meter, ours, backend, step)
        check_outcome(f"ours {backend}", step.label, outcome, step.expect)
        counts[step.label] = measured.requests
    return counts


def measure_ours(meter: Meter, ours: Ours, backend: str, step: Step):
    """Run one step of ours under the meter; its measurement and outcome."""
    from versioned_action import VersionedError

    try:
        with meter.measure() as measured:
            outcome = ours.run(step.op, step.args)
    except VersionedError as err:
        raise BenchmarkError(f"ours {backend} / {step.label} failed: {err}") from err
    if not measured.requests:  # every operation makes at least one request
        raise BenchmarkError(
            f"ours {backend} / {step.label}: no request counted; the library made its "
            "clients before the meter was installed"
        )
    return measured, outcome


def run_peer_scenario(backend: str, endpoint: str, workdir: Path) -> dict[str, int | None]:
    """Requests of each scenario step through the peer (None where the peer failed it)."""
    name = unique("peer")
    steps = scenario(workdir)
    request = {
        "backend": backend,
        "bucket": name,
        "table": name,
        "bootstrap": True,
        "steps": [{"op": s.op, "args": s.args} for s in steps],
    }
    results, _ = run_peer(request, endpoint=endpoint, workdir=workdir, timeout=300)
    counts: dict[str, int | None] = {}
    for step, result in zip(steps, results, strict=True):
        if "error" in result:
            report.progress(f"peer {backend} / {step.label} failed: {result['error']}")
            counts[step.label] = None
        else:
            counts[step.label] = result["requests"]
    return counts


def ours_counts(endpoint: str, meter: Meter, workdir: Path) -> dict[str, dict[str, int]]:
    return {b: run_ours(b, endpoint, meter, workdir) for b in BACKENDS}


def section(endpoint: str, meter: Meter, workdir: Path, with_peer: bool) -> str:
    """The requests table: ours and the peer on both backends."""
    columns: dict[tuple[str, str], dict] = {}
    for backend in BACKENDS:
        report.progress(f"requests: {backend}, ours")
        columns[backend, "ours"] = run_ours(backend, endpoint, meter, workdir)
        if with_peer:
            report.progress(f"requests: {backend}, peer")
            columns[backend, "peer"] = run_peer_scenario(backend, endpoint, workdir)
        else:
            columns[backend, "peer"] = {}
    rows = []
    for step in scenario(workdir):
        cells = [step.title]
        for backend in BACKENDS:
            ours = columns[backend, "ours"].get(step.label)
            peer = columns[backend, "peer"].get(step.label)
            cells += [report.count(ours), report.count(peer), report.ratio(ours, peer)]
        rows.append(cells)
    head = ["operation"]
    for backend in BACKENDS:
        head += [f"{backend}: ours", f"{backend}: peer", f"{backend}: ours/peer"]
    return report.table("Requests per operation", head, rows, NOTES)
