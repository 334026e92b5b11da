"""In-process measurement of one call: AWS requests (botocore ``before-call``), time, memory.

:func:`install` makes every botocore client created afterwards count its calls, but only
inside :meth:`Meter.measure`; clients used for seeding or checks count nothing outside it.
Memory is the growth of the peak resident set over the call: the peak is reset first by
writing ``5`` to ``/proc/self/clear_refs`` (Linux), so earlier work does not hide it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import threading
import time

MiB = 1024 * 1024


@dataclasses.dataclass
class Measurement:
    requests: int = 0
    seconds: float = 0.0
    rss_growth_mib: float | None = None


class Meter:
    """Counts the requests of every client created after :meth:`install`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: collections.Counter = collections.Counter()
        self._active = False
        self._original = None

    def install(self) -> None:
        import botocore.session

        if self._original is not None:
            return
        original = self._original = botocore.session.Session.create_client
        meter = self

        def create_client(session, *args, **kwargs):
            client = original(session, *args, **kwargs)
            service = client.meta.service_model.service_name

            def count(model, **_):
                if meter._active:
                    with meter._lock:
                        meter._calls[f"{service}.{model.name}"] += 1

            client.meta.events.register("before-call", count)
            return client

        botocore.session.Session.create_client = create_client

    @contextlib.contextmanager
    def measure(self):
        """Yield a Measurement filled in when the block ends (also if it raises)."""
        result = Measurement()
        self._calls.clear()
        baseline = reset_peak_rss()
        self._active = True
        start = time.perf_counter()
        try:
            yield result
        finally:
            result.seconds = time.perf_counter() - start
            self._active = False
            peak = peak_rss_kib()
            if baseline is not None and peak is not None:
                result.rss_growth_mib = max(0, peak - baseline) * 1024 / MiB
            result.requests = sum(self._calls.values())


def _status(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status, or None where there is none."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_kib() -> int | None:
    return _status("VmHWM")


def reset_peak_rss() -> int | None:
    """Reset the peak resident set to the current one; return it (None if not possible)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return None
    return _status("VmRSS")
