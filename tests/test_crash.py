"""Kill the action at every crash point, then re-run the step as GitHub re-runs a job.

For each step a fault-free run counts its writes W. Then, for every n in 1..W, on a fresh
artifact: the entrypoint runs until moto has applied its n-th write, and is SIGKILLed before it
hears the answer. The storage invariants must hold right then, and again after a re-run of the
same step (same run, job and action; attempt 2), which must succeed and leave exactly what a
fault-free run leaves; an alias it moved is still undone by one rollback.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from faultproxy import BLOCK_AFTER_FORWARD, nth_write
from storage_check import (
    STEP_CASES,
    after_problems,
    examine,
    prepare,
    problems,
    state_differences,
    step_problems,
)

CRASH_CASES = ["put", "put-publish", "publish", "promote", "canary", "rollback"]
IDENTITY = {"GITHUB_RUN_ID": "90210", "GITHUB_JOB": "release", "GITHUB_ACTION": "versioned"}
KNOBS = {"VERSIONED_CLAIM_LEASE": "2", "VERSIONED_READ_TIMEOUT": "10"}
RERUN_OUTPUTS = ("version", "sha256", "secondary-version", "secondary-weight")
RERUN_TIMEOUT = 30.0  # seconds; a re-run takes one or two, plus at most the 2 s claim lease


def wait_for_crash_point(rule, process, timeout: float = 60.0) -> bool:
    """Wait until the proxy holds the answer to the chosen write (False if the step ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rule.event.wait(0.02):
            return True
        if process.poll() is not None:
            return rule.event.is_set()
    return False


def _failed(step) -> str:
    return f"failed ({step.returncode}): {step.errors or step.stderr[-2000:]}"


@pytest.mark.parametrize("name", CRASH_CASES)
def test_step_killed_at_each_write_then_rerun(backend, name, proxy, make_store, make_runner):
    case = STEP_CASES[name]

    # fault-free, to count the writes and see the end state
    store = make_store(backend)
    prepare(store, case.state)
    before = examine(store)[1]
    proxy.reset()
    step = make_runner(**IDENTITY, **KNOBS).step(**case.action_inputs(store, proxy.url))
    assert step.returncode == 0, _failed(step)
    writes = [e.describe() for e in proxy.writes()]
    found, expected_end = step_problems(case, store, before, step.outputs, None)
    assert not found, "the fault-free run already fails:\n  " + "\n  ".join(found)

    failures = []
    for n, write in enumerate(writes, start=1):
        store = make_store(backend)
        prepare(store, case.state)
        proxy.reset()
        rule = proxy.add_rule(nth_write(n), BLOCK_AFTER_FORWARD)
        runner = make_runner(**IDENTITY, **KNOBS)
        running = runner.start(**case.action_inputs(store, proxy.url))
        reached = wait_for_crash_point(rule, running.process)
        running.kill()
        where = f"killed after write {n} ({proxy.first_fault(write)})"
        if not reached:
            failures.append(f"{where}: the step ended before that write")
            continue
        failures += [
            f"{where}: {problem}" for problem in problems(store, before=before, dense=case.dense)
        ]

        proxy.reset()
        runner.context["GITHUB_RUN_ATTEMPT"] = "2"
        try:
            rerun = runner.start(**case.action_inputs(store, proxy.url)).finish(RERUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            failures.append(f"{where}: the re-run was still running after {RERUN_TIMEOUT:.0f}s")
            continue
        if rerun.returncode != 0:
            failures.append(f"{where}, the re-run {_failed(rerun)}")
            continue
        found, end = examine(store, before=before, dense=case.dense)
        found += state_differences(end, expected_end)
        found += [
            f"output {key}={rerun.outputs.get(key)!r}, a fault-free run gives {step.outputs[key]!r}"
            for key in RERUN_OUTPUTS
            if key in case.outputs and rerun.outputs.get(key) != step.outputs[key]
        ]
        found += after_problems(case, store, before)
        failures += [f"{where}, after the re-run: {problem}" for problem in found]
    assert not failures, "\n".join(failures)
