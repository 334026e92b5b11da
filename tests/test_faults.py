"""Faults on the wire: a lost response, a reset, a 5xx, throttling or a hang on any request.

Whatever happens to one request, a step still ends exactly as a fault-free run of it does:
the same outputs, the same stored versions and aliases, every storage invariant intact and an
alias move still undone by one rollback. A fault-free run of each step (done once, then
shared) counts its requests; then the step runs once per write (or read) with the fault on
that request alone, each time on a fresh artifact.
"""

from __future__ import annotations

import ctypes
import dataclasses
import http.client
import subprocess
import threading
import traceback
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.retries.standard import ExponentialBackoff
from faultproxy import (
    BLOCK_AFTER_FORWARD,
    DROP_RESPONSE,
    OVERLOAD,
    RESET,
    Action,
    FaultProxy,
    hang,
    nth,
    nth_read,
    nth_write,
    op,
    status,
)
from storage_check import (
    OLD,
    STEP_CASES,
    State,
    StepCase,
    Store,
    call_library,
    examine,
    prepare,
    sha,
    snapshot,
    state_differences,
    step_problems,
)

from versioned_action import server

READ_TIMEOUT = "0.5"  # seconds; moto answers in milliseconds, a hang costs this much
KNOBS = {
    "VERSIONED_READ_TIMEOUT": READ_TIMEOUT,
    "VERSIONED_CONNECT_TIMEOUT": "1",
    "VERSIONED_MAX_ATTEMPTS": "3",
    "VERSIONED_CLAIM_LEASE": "2",
}
STEP_TIMEOUT = 30.0  # seconds; a fault-free step takes well under one
# (c) on writes is OVERLOAD (S3 503 SlowDown, DynamoDB throttling); a plain 500 is answered to
# a read here and to writes in the entrypoint tests below.
WRITE_FAULTS = [DROP_RESPONSE, RESET, OVERLOAD, hang(forward=True)]
READ_FAULTS = [RESET, status(500)]
WRITING_CASES = [c for c in STEP_CASES.values() if c.name != "get"]


@pytest.fixture(autouse=True)
def fault_knobs(monkeypatch):
    for key, value in KNOBS.items():
        monkeypatch.setenv(key, value)
    # botocore waits up to 1 s before retrying after throttling; the tests need only the retry
    monkeypatch.setattr(
        ExponentialBackoff,
        "_DEFAULT_BACKOFF_CONFIG",
        {"throttling_base_scale": 0.05, "non_throttling_base_scale": 0.05},
    )


@dataclasses.dataclass(frozen=True)
class Baseline:
    """A fault-free run of a step: its requests, the state before it and the state after."""

    writes: tuple[str, ...]  # what each write request was, in order
    reads: int
    before: State
    end: State


@dataclasses.dataclass
class Trial:
    """One run of a step on a fresh artifact, maybe with a fault on one request."""

    case: StepCase
    store: Store
    proxy: FaultProxy
    rule: tuple | None = None
    baseline: Baseline | None = None  # None: this is the fault-free run
    before: State | None = None

    def prepare(self):
        prepare(self.store, self.case.state)
        self.before = self.baseline.before if self.baseline else snapshot(self.store)
        self.proxy.reset()
        return self.proxy.add_rule(*self.rule) if self.rule else None

    def judge(self, added, outputs, failure) -> tuple[list[str], State | None]:
        """What went wrong, and the state the step left (None when it failed)."""
        found = [failure] if failure else []
        if added is not None and added.fired != 1:
            found.append(f"the fault never fired (the step made {len(self.proxy.writes())} writes)")
        if added is not None:
            found += _hang_problems(self.proxy, added.action)
        if outputs is None:
            return found + examine(self.store, before=self.before, dense=self.case.dense)[0], None
        expected = self.baseline.end if self.baseline else None
        more, end = step_problems(self.case, self.store, self.before, outputs, expected)
        return found + more, end


def _failure(err: BaseException) -> str:
    """A step's exception in one line, with where it came from (to tell harness bugs apart)."""
    frame = traceback.extract_tb(err.__traceback__)[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno}"
    return f"the step raised {type(err).__name__}: {err} (at {where})"


def _hang_problems(proxy, action: Action) -> list[str]:
    if action.kind != "hang":
        return []
    proxy.wait_settled()
    held = [e for e in proxy.log if e.action == str(action)]
    if held and held[0].outcome != "client closed":
        return [
            f"the client waited {proxy.hang_limit:.0f}s on a hung request without giving up "
            f"(outcome {held[0].outcome!r}): VERSIONED_READ_TIMEOUT={READ_TIMEOUT} is not honoured"
        ]
    return []


class StepTimeout(Exception):
    """Raised into a library call that outlived STEP_TIMEOUT."""


def bounded(call, timeout: float = STEP_TIMEOUT):
    """``call()`` in a thread; after ``timeout`` seconds StepTimeout is raised inside it."""
    result: dict = {}

    def target():
        try:
            result["value"] = call()
        except BaseException as err:  # handed to the caller below
            result["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(StepTimeout)
        )
        thread.join(10)
        raise StepTimeout(f"the step was still running after {timeout:.0f}s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def library_trial(trial: Trial, workdir: Path):
    server._learned.clear()  # as in a new step: what the endpoint enforces is learned anew
    added = trial.prepare()
    outputs = failure = None
    try:
        outputs = bounded(lambda: call_library(trial.case, trial.store, trial.proxy.url, workdir))
    except Exception as err:  # any failure of the step is the finding; keep trying the others
        failure = _failure(err)
    return trial.judge(added, outputs, failure)


_BASELINES: dict[tuple, Baseline] = {}


def baseline_of(key: tuple, trial: Trial, run) -> Baseline:
    """The fault-free run of ``trial`` (made once per key, then shared by the tests)."""
    if key not in _BASELINES:
        found, end = run(trial)
        log = trial.proxy.log
        assert not found, "the fault-free run already fails:\n  " + "\n  ".join(found)
        unanswered = [e for e in log if e.outcome != "answered" or (e.status or 500) >= 500]
        assert not unanswered, f"the proxy did not pass these through: {unanswered}"
        writes = tuple(e.describe() for e in log if e.is_write)
        _BASELINES[key] = Baseline(writes, sum(not e.is_write for e in log), trial.before, end)
    return _BASELINES[key]


def _report(failures: list[str]) -> str:
    return "\n".join(failures)


def library_baseline(case, backend, proxy, make_store, tmp_path) -> Baseline:
    def run(trial):
        return library_trial(trial, tmp_path / "baseline")

    return baseline_of(
        ("library", backend, case.name), Trial(case, make_store(backend), proxy), run
    )


LIBRARY_WRITE_MATRIX = [
    *[pytest.param(c, f, id=f"{c}-{f}") for c in WRITING_CASES for f in WRITE_FAULTS],
    pytest.param(STEP_CASES["canary"], hang(forward=False), id="canary-hang(forward=False)"),
]


@pytest.mark.parametrize(("case", "fault"), LIBRARY_WRITE_MATRIX)
def test_library_step_survives_a_fault_on_each_write(
    backend, case, fault, proxy, make_store, tmp_path
):
    baseline = library_baseline(case, backend, proxy, make_store, tmp_path)
    failures = []
    for n, write in enumerate(baseline.writes, start=1):
        trial = Trial(case, make_store(backend), proxy, (nth_write(n), fault), baseline)
        found, _ = library_trial(trial, tmp_path / f"w{n}")
        write = proxy.first_fault(write)
        failures += [f"{fault} on write {n} ({write}): {problem}" for problem in found]
        if any("is not honoured" in problem for problem in found):
            break  # every other write would wait out the same limit
    assert not failures, _report(failures)


@pytest.mark.parametrize("case", STEP_CASES.values(), ids=str)
def test_library_step_survives_a_fault_on_its_first_read(
    backend, case, proxy, make_store, tmp_path
):
    baseline = library_baseline(case, backend, proxy, make_store, tmp_path)
    failures = []
    for fault in READ_FAULTS:
        trial = Trial(case, make_store(backend), proxy, (nth_read(1), fault), baseline)
        found, _ = library_trial(trial, tmp_path / str(fault))
        failures += [f"{fault} on read 1: {problem}" for problem in found]
    assert not failures, _report(failures)


# ----- the harness itself ---------------------------------------------------------------------

ACTION_EFFECTS = [  # action, what a client without retries sees, applied by moto, proxy outcome
    (DROP_RESPONSE, ConnectionClosedError, True, "dropped"),
    (RESET, ConnectionClosedError, False, "reset"),
    (status(500), ("InternalError", "InternalServerError"), False, "answered"),
    (OVERLOAD, ("SlowDown", "ThrottlingException"), False, "answered"),
    (hang(forward=True), ReadTimeoutError, True, "client closed"),
    (hang(forward=False), ReadTimeoutError, False, "client closed"),
    (BLOCK_AFTER_FORWARD, ReadTimeoutError, True, "blocked"),
]


def _raw_client(service: str, endpoint: str):
    """A plain client that tries once, so every fault shows as what the client sees."""
    config = Config(
        retries={"total_max_attempts": 1},
        read_timeout=float(READ_TIMEOUT),
        connect_timeout=1,
        s3={"addressing_style": "path"},
    )
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name="us-east-1", config=config
    )


def _write_once(client, store, key: str) -> None:
    if client.meta.service_model.service_name == "s3":
        client.put_object(Bucket=store.bucket, Key=key, Body=b"x")
    else:
        client.put_item(TableName=store.table, Item={"pk": {"S": key}, "sk": {"S": "1"}})


def _applied(store, service: str, key: str) -> bool:
    if service == "s3":
        found = store.client("s3").list_objects_v2(Bucket=store.bucket, Prefix=key)
        return found.get("KeyCount", 0) == 1
    item = store.client("dynamodb").get_item(
        TableName=store.table, Key={"pk": {"S": key}, "sk": {"S": "1"}}, ConsistentRead=True
    )
    return "Item" in item


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_each_action_does_what_it_says(service, proxy, make_store):
    store = make_store("s3-dynamodb")
    store.direct.bootstrap()
    client = _raw_client(service, proxy.url)
    for action, seen, applied, outcome in ACTION_EFFECTS:
        key = f"{store.name}-{action}"
        proxy.reset()
        rule = proxy.add_rule(op("PutObject" if service == "s3" else "PutItem"), action)
        with pytest.raises((ClientError, HTTPClientError)) as raised:
            _write_once(client, store, key)
        if isinstance(seen, tuple):
            assert isinstance(raised.value, ClientError), (action, raised.value)
            assert raised.value.response["Error"]["Code"] in seen, action
        else:
            assert isinstance(raised.value, seen), (action, raised.value)
        proxy.wait_settled()
        held = action.kind in ("hang", "block_after_forward")
        assert (rule.fired, rule.event.is_set()) == (1, held), action
        assert _applied(store, service, key) == applied, action
        assert [e.outcome for e in proxy.log] == [outcome], action


def test_proxy_keeps_connections_alive_and_reads_chunked_bodies(proxy, make_store):
    store = make_store("s3")
    store.direct.bootstrap()
    host, port = proxy.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for i in range(2):  # one connection, two requests
            body = iter([b"abc", b"defg" * 1000, b""])
            path = f"/{store.bucket}/{store.name}/chunked{i}"
            conn.request("PUT", path, body=body, encode_chunked=True)
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"")
    finally:
        conn.close()
    got = store.client("s3").get_object(Bucket=store.bucket, Key=f"{store.name}/chunked1")
    got = got["Body"].read()
    assert got == b"abc" + b"defg" * 1000
    assert [(e.op, e.status) for e in proxy.log] == [("PutObject", 200)] * 2


def test_read_faults_botocore_retries_are_invisible(backend, proxy, make_store):
    """Faults botocore simply retries (on a read) change nothing at all."""
    store = make_store(backend)
    prepare(store, "two")
    for fault in (RESET, status(500), OVERLOAD, DROP_RESPONSE, hang(forward=False)):
        proxy.reset()
        rule = proxy.add_rule(op("GetObject"), fault)
        content = store.shared(proxy.url).get_artifact_content(store.name, 1)
        assert (content, rule.fired) == (OLD, 1), fault
        assert [e.outcome for e in proxy.log if e.op == "GetObject"][-1] == "answered"


BIG = bytes(range(256)) * (17 * 4096)  # 17 MiB: above the multipart threshold


@pytest.mark.parametrize(
    "write", ["CompleteMultipartUpload", "CopyObject"], ids=["latest-upload", "version-copy"]
)
def test_lost_response_of_a_large_write(backend, write, proxy, make_store):
    """put + publish of a large file: the response to the LATEST upload's completion, or to
    the version's one server-side copy, is lost."""
    store = make_store(backend)
    prepare(store, "published")
    before = snapshot(store)
    proxy.reset()
    rule = proxy.add_rule(nth(op(write), 1), DROP_RESPONSE)
    latest, version = store.shared(proxy.url).put_and_publish(store.name, BIG)
    assert rule.fired == 1
    assert (latest.changed, version.version, version.changed) == (True, "2", True)
    assert version.sha256 == sha(BIG) and version.size == len(BIG)
    found, end = examine(store, before=before)
    found += state_differences(end, State({"LATEST": sha(BIG), "1": sha(OLD), "2": sha(BIG)}, {}))
    assert not found, _report(found)


# ----- the same through the action's entrypoint, as a separate process ------------------------

ENTRYPOINT_CASES = [
    ("put-publish", DROP_RESPONSE),
    ("rollback", status(500)),
    ("publish", hang(forward=True)),
]


def action_trial(trial: Trial, runner):
    added = trial.prepare()
    running = runner.start(**trial.case.action_inputs(trial.store, trial.proxy.url))
    try:
        step = running.finish(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        failure = f"the step was still running after {STEP_TIMEOUT:.0f}s"
        return trial.judge(added, None, failure)
    failure = None
    if step.returncode != 0 or step.errors:
        failure = f"the step failed ({step.returncode}): {step.errors or step.stderr[-2000:]}"
    outputs = step.outputs if step.returncode == 0 else None
    return trial.judge(added, outputs, failure)


@pytest.mark.parametrize(("name", "fault"), ENTRYPOINT_CASES, ids=lambda v: str(v))
def test_action_step_survives_a_fault_on_each_write(
    backend, name, fault, proxy, make_store, make_runner
):
    case = STEP_CASES[name]
    runner = make_runner(**KNOBS)
    baseline = baseline_of(
        ("action", backend, name),
        Trial(case, make_store(backend), proxy),
        lambda trial: action_trial(trial, runner),
    )
    failures = []
    for n, write in enumerate(baseline.writes, start=1):
        trial = Trial(case, make_store(backend), proxy, (nth_write(n), fault), baseline)
        found, _ = action_trial(trial, runner)
        write = proxy.first_fault(write)
        failures += [f"{fault} on write {n} ({write}): {problem}" for problem in found]
    assert not failures, _report(failures)
