"""Run steps of the peer ``versioned==1.0.1`` in this process (``-m benchmarks.peer_child``).

Reads a JSON request on stdin: ``backend``, ``bucket``, ``table``, ``prefix``, ``bootstrap``
(done first, not measured) and ``steps`` (see :mod:`benchmarks.operations`). Prints a JSON
list with, per step, its requests, seconds, peak-memory growth and outcome, or its error.
The endpoint comes from ``AWS_ENDPOINT_URL``.
"""

from __future__ import annotations

import json
import sys

from .counting import Meter
from .operations import Peer


def open_peer(request: dict) -> Peer:
    from boto_session_manager import BotoSesManager
    from versioned.api import s3_and_dynamodb_backend, s3_only_backend

    bsm = BotoSesManager(region_name="us-east-1")
    settings = {"aws_region": "us-east-1", "s3_bucket": request["bucket"]}
    settings["s3_prefix"] = request.get("prefix", "versioned-artifacts")
    if request["backend"] == "s3":
        repo = s3_only_backend.Repository(**settings)
    else:
        repo = s3_and_dynamodb_backend.Repository(dynamodb_table_name=request["table"], **settings)
    if request.get("bootstrap"):
        repo.bootstrap(bsm=bsm)
    return Peer(repo, bsm, request["backend"])


def main() -> None:
    request = json.load(sys.stdin)
    meter = Meter()
    meter.install()
    peer = open_peer(request)
    results = []
    for step in request["steps"]:
        result: dict = {}
        with meter.measure() as measured:
            try:
                result["outcome"] = peer.run(step["op"], step.get("args", {}))
            except Exception as err:  # the peer's errors are a result to report, not ours
                result["error"] = f"{type(err).__name__}: {err}"
        result.update(
            requests=measured.requests,
            seconds=measured.seconds,
            rss_growth_mib=measured.rss_growth_mib,
        )
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
