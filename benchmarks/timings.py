"""Run the transfer figures interleaved and tabulate them: median, min, peak RSS, requests,
and our median time over the peer's and the AWS CLI's."""

from __future__ import annotations

import dataclasses

from . import report
from .tools import ChildFailed, MiB
from .transfer import LABELS, TINY_TIMEOUT, TOOLS, Figure, Transfer

COLUMNS = [
    "figure",
    "tool",
    "median s",
    "min s",
    "peak RSS MiB",
    "requests",
    "ours/peer",
    "ours/aws-cli",
]


@dataclasses.dataclass
class Runs:
    seconds: list[float] = dataclasses.field(default_factory=list)
    peaks: list[float] = dataclasses.field(default_factory=list)
    requests: list[int] = dataclasses.field(default_factory=list)
    failed: str | None = None

    @property
    def median(self) -> float | None:
        return None if self.failed else report.median(self.seconds)


def run_figure(figure: Figure, transfer: Transfer, repeat: int) -> dict[str, Runs]:
    """Each available tool ``repeat`` times, interleaved; a tool that fails stops running."""
    cases = [case for case in figure.cases if transfer.available(case.tool)]
    runs = {case.tool: Runs() for case in cases}
    report.progress(f"transfer: {figure.title}")
    try:
        figure.prepare()
    except ChildFailed as err:
        report.progress(f"  preparing failed: {err}")
        for result in runs.values():
            result.failed = "prepare failed"
        return runs
    for attempt in range(1, repeat + 1):
        for case in cases:
            result = runs[case.tool]
            if result.failed:
                continue
            try:
                run = case.run()
                case.after(run)
                if not run.requests:
                    raise ChildFailed("no request counted inside the child (probe not loaded?)")
            except ChildFailed as err:
                report.progress(f"  {case.tool} run {attempt} failed: {err}")
                result.failed = "failed"
                continue
            report.progress(
                f"  {case.tool} run {attempt}/{repeat}: {run.seconds:.2f} s, "
                f"{report.mib(run.peak_rss_mib)} MiB, {run.requests} requests"
            )
            result.seconds.append(run.seconds)
            if run.peak_rss_mib is not None:
                result.peaks.append(run.peak_rss_mib)
            result.requests.append(run.requests)
    return runs


def rows(figure: Figure, runs: dict[str, Runs]) -> list[list[str]]:
    ours = runs.get("ours")
    ours_median = ours.median if ours else None
    out = []
    for tool in [t for t in TOOLS if any(c.tool == t for c in figure.cases)]:
        result = runs.get(tool)
        cells = [figure.title if not out else "", LABELS[tool]]
        if result is None:
            cells += [report.MISSING] * 4
        elif result.failed:
            cells += [result.failed] + [report.MISSING] * 3
        else:
            cells += [
                report.seconds(result.median),
                report.seconds(min(result.seconds)),
                report.mib(max(result.peaks) if result.peaks else None),
                report.count(result.requests),
            ]
        if tool == "ours":
            others = [runs.get(t) for t in ("peer", "aws-cli")]
            cells += [
                report.ratio(ours_median, other.median if other else None) for other in others
            ]
        else:
            cells += ["", ""]
        out.append(cells)
    return out


def notes(repeat: int) -> list[str]:
    return [
        f"{repeat} run(s) per tool, interleaved (ours, peer, aws-cli, ours, ...); `s3` backend. "
        "Times are whole processes, spawn to exit, Python start-up included.",
        "Peak RSS: the highest VmHWM of the child's own /proc/self/status over its runs. "
        "Requests: botocore `before-call` events counted inside the child process (a "
        "`sitecustomize` on its PYTHONPATH), the whole process.",
        "Ratios: our median time over the peer's / the AWS CLI's (below 1: ours is faster).",
        "The peer's API takes and returns bytes: its put reads the whole file into memory, its "
        "download writes `get_content()` to the file. `aws s3 cp` has no unchanged check and "
        "no publish. Every download reads the object our CLI put; each is checked by sha256.",
    ]


def section(transfer: Transfer, sizes: list[int], repeat: int) -> str:
    sizes = sorted(set(sizes))
    figures = [transfer.put_new(size * MiB) for size in sizes]
    figures.append(transfer.put_unchanged(sizes[-1] * MiB))
    figures += [transfer.publish(size * MiB) for size in sizes]
    figures.append(transfer.download(sizes[0] * MiB, f"download {sizes[0]} MiB"))
    figures.append(transfer.download(0, "tiny get (5 bytes): start-up", TINY_TIMEOUT))
    table_rows = []
    for figure in figures:
        table_rows += rows(figure, run_figure(figure, transfer, repeat))
        for bucket in transfer.bucket.values():
            transfer.seeder.empty(bucket)
    return report.table("Timings", COLUMNS, table_rows, notes(repeat))
