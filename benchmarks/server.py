"""A moto server (S3 and DynamoDB) in its own process on 127.0.0.1, for one benchmark run.

Its own process, so its memory never counts as a client's; its own session, so a Ctrl-C at
the terminal reaches the benchmark, which then stops the server itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """The moto server did not start, or died."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - our loopback server
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it serves
    except OSError:
        return False
    return True


def _tail(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-2000:]


@contextlib.contextmanager
def moto_server(python: str = sys.executable) -> Iterator[str]:
    """Yield the endpoint URL of a fresh moto server; stop it (and wait for it) at the end."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": ""},
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(endpoint + "/moto-api/"):
                if process.poll() is not None:
                    raise ServerError(
                        f"moto server exited with {process.returncode}:\n{_tail(log)}"
                    )
                if time.monotonic() > deadline:
                    raise ServerError(f"moto server not answering after {START_TIMEOUT:.0f} s")
                time.sleep(0.1)
            yield endpoint
            if process.poll() is not None:
                raise ServerError(f"moto server died during the run:\n{_tail(log)}")
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
