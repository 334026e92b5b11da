"""Drive the published ``versioned==1.0.1`` (the peer) in its own process.

Reads a JSON request on stdin: the backend, the repository settings and a list of
``[method, kwargs]`` steps; prints one JSON result per step. Bytes travel as latin-1 text.
The AWS endpoint comes from ``AWS_ENDPOINT_URL`` in the environment.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
from pathlib import Path


def plain(value):
    if dataclasses.is_dataclass(value):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from requests_counter import counting_requests

    with counting_requests() as counter:
        run(counter)


def run(counter) -> None:
    from boto_session_manager import BotoSesManager
    from versioned.api import s3_and_dynamodb_backend, s3_only_backend

    request = json.load(sys.stdin)
    bsm = BotoSesManager(region_name="us-east-1")
    settings = request["repo"]
    if request["backend"] == "s3":
        repo = s3_only_backend.Repository(aws_region="us-east-1", **settings)
    else:
        repo = s3_and_dynamodb_backend.Repository(aws_region="us-east-1", **settings)
    repo.bootstrap(bsm=bsm)
    results = []
    for method, kwargs in request["steps"]:
        if "content" in kwargs:
            kwargs["content"] = kwargs["content"].encode("latin-1")
        before = sum(counter.values())
        try:
            if method == "get_content":
                artifact = repo.get_artifact_version(bsm=bsm, **kwargs)
                result = artifact.get_content(bsm=bsm)
            else:
                result = getattr(repo, method)(bsm=bsm, **kwargs)
            results.append({"ok": plain(result), "requests": sum(counter.values()) - before})
        except Exception as err:  # report any peer failure to the test, by type
            results.append({"error": type(err).__name__, "message": str(err)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
