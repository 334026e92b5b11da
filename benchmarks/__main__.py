"""Command line of the benchmark suite; ``python -m benchmarks --help`` lists the options."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import budget, counts, report, scale, timings, tools
from .counting import Meter
from .seed import Seeder
from .server import ServerError, moto_server
from .transfer import Transfer

SECTIONS = ("all", "transfer", "requests", "scale")
FULL = {"sizes": [256, 1024], "repeat": 3, "versions": (10, 1_000, 10_000), "names": 1_000}
QUICK = {"sizes": [32], "repeat": 1, "versions": (10, 50), "names": 50}
CHECK = {"versions": (10, 1_000), "names": 1_000}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmarks of versioned-action against the peer versioned==1.0.1 and "
        "the AWS CLI, on a moto server of its own on 127.0.0.1.",
    )
    parser.add_argument(
        "section", nargs="?", default="all", choices=SECTIONS, help="which tables (default: all)"
    )
    parser.add_argument("--repeat", type=int, help="runs per tool and figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="32 MiB files, 1 run, N <= 50")
    parser.add_argument("--size-mib", type=int, help="one size for every large file figure")
    parser.add_argument("--no-install", action="store_true", help="never create .bench-venv")
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    parser.add_argument(
        "--check", action="store_true", help="requests: ours only, against request_budget.json"
    )
    parser.add_argument(
        "--write-budget", action="store_true", help="requests: record ours as the new budget"
    )
    args = parser.parse_args(argv)
    if (args.check or args.write_budget) and args.section != "requests":
        parser.error("--check and --write-budget go with the requests section")
    if args.repeat is not None and not 1 <= args.repeat <= 100:
        parser.error("--repeat must be 1..100")
    if args.size_mib is not None and not 1 <= args.size_mib <= 16_384:
        parser.error("--size-mib must be 1..16384")
    settings = dict(QUICK if args.quick else FULL)
    if args.size_mib:
        settings["sizes"] = [args.size_mib]
    if args.repeat:
        settings["repeat"] = args.repeat
    args.settings = settings
    return args


def _terminate(_signum, _frame):
    raise KeyboardInterrupt  # unwinds like Ctrl-C: the server and files are cleaned up


def check_budget(endpoint: str, meter: Meter, workdir: Path, write: bool) -> int:
    started = time.monotonic()
    measured = counts.ours_counts(endpoint, meter, workdir)
    _, results = scale.section(endpoint, meter, workdir, with_peer=False, **CHECK)
    for backend, operations in results.ours_counts.items():
        measured[backend].update(operations)
    elapsed = time.monotonic() - started
    if write:
        budget.write(measured)
        print(f"wrote {budget.BUDGET_FILE} ({elapsed:.0f} s)")
        return 0
    verdict = budget.check(measured, budget.load())
    print("\n".join(verdict.lines()))
    print(f"request budget check took {elapsed:.0f} s")
    if verdict.passed:
        print("request budget: every operation within budget")
        return 0
    failing = [line.split(":")[0] for line in verdict.over + verdict.unbudgeted]
    print("request budget FAILED for: " + "; ".join(failing), file=sys.stderr)
    return 1


def run(args: argparse.Namespace, endpoint: str, workdir: Path) -> int:
    meter = Meter()
    meter.install()
    if args.check or args.write_budget:
        return check_budget(endpoint, meter, workdir, args.write_budget)
    settings, section = args.settings, args.section
    peer = tools.peer_available()
    parts = []
    aws_version = None
    if section in ("all", "transfer"):
        aws = tools.awscli(install=not args.no_install)
        aws_version = tools.awscli_version() if aws else None
        transfer = Transfer(endpoint, workdir, Seeder(endpoint), peer=peer, aws=aws)
        parts.append(timings.section(transfer, settings["sizes"], settings["repeat"]))
    if section in ("all", "requests"):
        parts.append(counts.section(endpoint, meter, workdir, with_peer=peer))
    if section in ("all", "scale"):
        table, _ = scale.section(
            endpoint,
            meter,
            workdir,
            versions=settings["versions"],
            names=settings["names"],
            with_peer=peer,
        )
        parts.append(table)
    markdown = "\n".join([report.header(sys.argv[1:], aws_version), *parts])
    print(markdown)
    if args.output:
        args.output.write_text(markdown)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _terminate)
    for key in [k for k in os.environ if k.startswith(("AWS_", "VERSIONED_"))]:
        del os.environ[key]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="versioned-bench-") as tmp,
            moto_server() as endpoint,
        ):
            os.environ.update(tools.aws_environment(endpoint))
            return run(args, endpoint, Path(tmp))
    except KeyboardInterrupt:
        print("interrupted: moto server stopped, temporary files removed", file=sys.stderr)
        return 130
    except (ServerError, tools.ChildFailed, counts.BenchmarkError) as err:
        print(f"benchmark failed: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
