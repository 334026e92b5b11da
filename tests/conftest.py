"""Shared fixtures: a moto server over HTTP for the session, a fresh bucket and table per test."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import subprocess
import sys
import uuid

import pytest
import s3_conditions
from moto import mock_aws
from moto.server import ThreadedMotoServer

from versioned_action import open_repository

# The suite runs against moto as shipped. VERSIONED_TEST_S3=strict adds S3's CopyObject
# conditions (tests/s3_conditions.py): one more server model, never one the suite needs.
STRICT_S3 = os.environ.get("VERSIONED_TEST_S3") == "strict"
if STRICT_S3:
    s3_conditions.install()

BACKENDS = ["s3", "s3-dynamodb"]
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="also run the slow tests (CI does)")
    parser.addoption(
        "--rgw",
        action="store_true",
        help="also run the Ceph RGW tier (starts scripts/rgw, or uses VERSIONED_RGW_ENDPOINT)",
    )


def pytest_collection_modifyitems(config, items):
    skips = []
    if not config.getoption("--slow"):
        skips.append(("slow", pytest.mark.skip(reason="slow: run with --slow")))
    if not config.getoption("--rgw"):
        skips.append(("rgw", pytest.mark.skip(reason="Ceph RGW tier: run with --rgw")))
    for item in items:
        for keyword, skip in skips:
            if keyword in item.keywords:
                item.add_marker(skip)


@contextlib.contextmanager
def moto_server():
    """A moto server on a free port of 127.0.0.1, in this process; yields its URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Fake credentials and no ambient endpoint or profile: tests never reach real AWS."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "VERSIONED_", "INPUT_", "GITHUB_")):
            monkeypatch.delenv(key)
    for key, value in FAKE_AWS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def fresh_server_knowledge():
    """Each test learns what its endpoint enforces anew (a proxy's port may be reused)."""
    from versioned_action import server

    server._learned.clear()


@pytest.fixture(scope="session")
def rgw(tmp_path_factory):
    """A Ceph RADOS Gateway for the session (tests marked ``rgw`` only run with --rgw)."""
    from rgw_server import rgw_server

    with rgw_server(tmp_path_factory.mktemp("ceph")) as server:
        yield server


@pytest.fixture
def rgw_env(rgw, moto_endpoint, monkeypatch):
    """The environment of a step whose S3 is the gateway and whose DynamoDB is moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rgw.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rgw.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", rgw.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    return rgw


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(params=["http", "inprocess"])
def transport(request):
    return request.param


@pytest.fixture
def make_repo(transport, moto_endpoint, unique, request):
    """Build repositories on a fresh bucket/table, over the moto server or the in-process mock."""
    mock = None
    if transport == "inprocess":
        mock = mock_aws()
        mock.start()
    endpoint = moto_endpoint if transport == "http" else None

    def make(backend: str, *, bootstrap: bool = True, **options):
        options.setdefault("bucket", f"bkt-{unique}")
        options.setdefault("table", f"tbl-{unique}")
        options.setdefault("prefix", "artifacts")
        repo = open_repository(backend, endpoint_url=endpoint, region="us-east-1", **options)
        if bootstrap:
            repo.bootstrap()
        return repo

    yield make
    if mock is not None:
        mock.stop()


@pytest.fixture
def repo(make_repo, backend):
    return make_repo(backend)


@pytest.fixture
def http_repo(moto_endpoint, backend, unique):
    """A repository over the moto HTTP server only (for tests that use several processes)."""

    def make(**options):
        options.setdefault("bucket", f"bkt-{unique}")
        options.setdefault("table", f"tbl-{unique}")
        options.setdefault("prefix", "artifacts")
        repo = open_repository(backend, endpoint_url=moto_endpoint, region="us-east-1", **options)
        repo.bootstrap()
        return repo

    return make


MOTO_PROCESS = """
import logging, sys
sys.path.insert(0, sys.argv[1])
import s3_conditions
if sys.argv[2] == "strict":
    s3_conditions.install()
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the test session closes our stdin
server.stop()
"""


@pytest.fixture(scope="session")
def moto_process_endpoint():
    """A moto server in its own process, so that client and server do not share one GIL
    (the fault tests make thousands of requests)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            MOTO_PROCESS,
            os.path.dirname(__file__),
            "strict" if STRICT_S3 else "shipped",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([server.stdout], [], [], 60)
        port = server.stdout.readline().strip() if ready else ""
        assert port.isdigit(), "the moto server process did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def proxy(moto_process_endpoint):
    """A fault-injecting proxy in front of the moto server, stopped when the test ends."""
    from faultproxy import FaultProxy

    with FaultProxy(moto_process_endpoint, hang_limit=6.0) as running:
        yield running


@pytest.fixture(scope="session")
def store_names():
    """Where the fault tests' artifacts live: one bucket and table per backend for the session
    (building a repository takes a while), and a counter for fresh artifact names."""
    return uuid.uuid4().hex[:10], itertools.count(1)


@pytest.fixture
def make_store(moto_process_endpoint, store_names):
    """A fresh artifact per call (a storage_check.Store) that no other test uses."""
    from storage_check import Store

    session, counter = store_names

    def make(backend: str):
        where = f"flt-{session}-{'s3' if backend == 's3' else 'ddb'}"
        name = f"app{next(counter)}"
        return Store(backend, moto_process_endpoint, bucket=where, table=where, name=name)

    return make


@pytest.fixture
def make_runner(tmp_path):
    """Jobs for the action's entrypoint (attempt 1 unless told); each workspace holds
    ``app.bin`` (storage_check.NEW)."""
    from local_runner import Runner
    from storage_check import NEW

    counter = itertools.count(1)

    def make(**context: str):
        workspace = tmp_path / f"job-{next(counter)}" / "workspace"
        workspace.mkdir(parents=True)
        (workspace / "app.bin").write_bytes(NEW)
        return Runner(workspace, **{"GITHUB_RUN_ATTEMPT": "1", **context})

    return make


@pytest.fixture
def silent():
    """A server on 127.0.0.1 that accepts connections and never answers."""
    from test_runner_realities import SilentServer

    server = SilentServer()
    yield server
    server.close()
