"""Peak memory of our CLI putting, publishing and downloading one large file.

:func:`measure` is for a memory check in the test suite (the ``timings`` table has the same
figures next to the peer's): its own moto server, then ``versioned-action put``, ``publish``
and ``get`` as three child processes, each measured from inside (:mod:`benchmarks.probe`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .server import moto_server
from .tools import REGION, MiB, run_measured
from .transfer import make_file, sha256_of

TIMEOUT = 1800.0


def measure(size_mib: int = 1024, backend: str = "s3") -> dict:
    """Peak RSS (MiB) and seconds of each step, and whether the download is byte-identical."""
    cli = Path(sys.executable).with_name("versioned-action")
    with tempfile.TemporaryDirectory(prefix="versioned-footprint-") as tmp, moto_server() as url:
        workdir = Path(tmp)
        source = make_file(workdir / "big.bin", size_mib * MiB)
        target = workdir / "out" / "big.bin"
        base = [cli, "--backend", backend, "--bucket", "footprint", "--table", "footprint"]
        base += ["--endpoint-url", url, "--aws-region", REGION, "--create-resources", "--json"]
        steps = {
            "put": ["put", "big", source],
            "publish": ["publish", "big"],
            "download": ["get", "big", "--version", "1", "--path", target],
        }
        runs = {
            step: run_measured(base + args, endpoint=url, workdir=workdir, timeout=TIMEOUT)
            for step, args in steps.items()
        }
        result: dict = {"size_mib": size_mib, "backend": backend}
        for step, run in runs.items():
            result[f"{step}_s"] = round(run.seconds, 2)
            result[f"{step}_peak_rss_mib"] = run.peak_rss_mib
        result["peak_rss_mib"] = max(run.peak_rss_mib or 0 for run in runs.values())
        result["identical"] = sha256_of(source) == sha256_of(target)
        return result
