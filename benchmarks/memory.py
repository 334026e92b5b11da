"""Peak memory of putting, publishing and downloading one large file.

Starts its own moto server in a separate process (so the server's memory is not counted),
then runs the transfer in a child process and reports that child's peak resident memory.

    python benchmarks/memory.py --size-mib 1024 [--backend s3|s3-dynamodb]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import hashlib, json, resource, sys, time
from pathlib import Path
from versioned_action import open_repository
backend, endpoint, source, target = sys.argv[1:]
repo = open_repository(backend, bucket="memory-bench", table="memory-bench",
                       endpoint_url=endpoint, region="us-east-1")
repo.bootstrap()
def peak():
    # VmHWM belongs to this process's own memory map; ru_maxrss would also count the
    # parent's pages when the parent forked us (rusage survives exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
latest = repo.put_artifact("big", Path(source))
after_put = peak()
t1 = time.perf_counter()
version = repo.publish_artifact_version("big")
after_publish = peak()
t2 = time.perf_counter()
got = repo.download_artifact("big", Path(target), version=version.version)
t3 = time.perf_counter()
print(json.dumps({
    "peak_rss_mib": peak(), "peak_after_put_mib": after_put,
    "peak_after_publish_mib": after_publish,
    "put_s": round(t1 - t0, 2), "publish_s": round(t2 - t1, 2), "download_s": round(t3 - t2, 2),
    "sha256": latest.sha256, "downloaded_sha256": got.sha256, "version": version.version,
}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def make_file(path: Path, size_mib: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for i in range(size_mib):
            out.write(i.to_bytes(8, "big") + block[8:])


def measure(size_mib: int, backend: str = "s3") -> dict:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        # moto assembles a completed upload, and rereads the source of every part copy,
        # before it answers; real S3 keeps the connection alive meanwhile
        "VERSIONED_READ_TIMEOUT": "600",
    }
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        source, target = Path(tmp, "big.bin"), Path(tmp, "out", "big.bin")
        make_file(source, size_mib)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, backend, endpoint, str(source), str(target)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=3600,
        )
        if done.returncode:
            raise RuntimeError(done.stderr)
        result = json.loads(done.stdout)
        result["size_mib"] = size_mib
        result["identical"] = (
            source.read_bytes() == target.read_bytes()
            if size_mib <= 64
            else (result["sha256"] == result["downloaded_sha256"])
        )
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--backend", default="s3", choices=["s3", "s3-dynamodb"])
    args = parser.parse_args()
    print(json.dumps(measure(args.size_mib, args.backend), indent=2))


if __name__ == "__main__":
    main()
