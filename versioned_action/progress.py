"""Progress of a large transfer: a line every few seconds on the ``versioned_action.progress``
logger (bytes done of the total, percent, average rate), for whoever installs a handler.

A transfer smaller than the threshold, or one that finishes within the first interval, logs
nothing. ``VERSIONED_PROGRESS_INTERVAL`` (seconds) and ``VERSIONED_PROGRESS_THRESHOLD``
(bytes) override the defaults below.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from .aws import env_number
from .content import MiB

LOGGER = logging.getLogger("versioned_action.progress")
INTERVAL = 5.0  # seconds between two lines of one transfer
THRESHOLD = 64 * MiB  # smaller transfers log nothing
INTERVAL_VARIABLE = "VERSIONED_PROGRESS_INTERVAL"
THRESHOLD_VARIABLE = "VERSIONED_PROGRESS_THRESHOLD"
_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def settings() -> tuple[float, int]:
    """The interval and the threshold in force (InvalidEnvironment names a bad variable)."""
    return (
        env_number(INTERVAL_VARIABLE, INTERVAL, float, 0, 86400),
        env_number(THRESHOLD_VARIABLE, THRESHOLD, int, 0, 2**63),
    )


def human_size(size: int) -> str:
    """``512 B``, ``12.3 MiB``, ``1.0 GiB``: binary units, one decimal."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            break
    return f"{value:.1f} {unit}"


class Progress:
    """Counts the bytes of one transfer as its pieces complete, from any thread."""

    def __init__(
        self,
        action: str,
        target: str,
        total: int,
        *,
        interval: float | None = None,
        threshold: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        default_interval, default_threshold = settings()
        self.action, self.target, self.total = action, target, total
        self.interval = default_interval if interval is None else interval
        self.enabled = total >= (default_threshold if threshold is None else threshold)
        self.done = 0
        self.lines = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._start = self._last = clock()
        self._logged = -1  # ``done`` at the last line

    def advance(self, count: int) -> None:
        """``count`` more bytes are through; log a line if the interval has passed."""
        if not self.enabled:
            return
        with self._lock:
            self.done += count
            now = self._clock()
            if now - self._last >= self.interval:
                self._log(now)

    def restart(self) -> None:
        """The transfer starts over from its first byte."""
        with self._lock:
            self.done = 0

    def finish(self) -> None:
        """A last line at the end, if the transfer logged any before it."""
        with self._lock:
            if self.enabled and self.lines and self._logged != self.done:
                self._log(self._clock())

    def _log(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        percent = 100 * self.done // self.total if self.total else 100
        rate = self.done / elapsed / MiB
        LOGGER.info(
            "%s %s: %s of %s, %d%%, %.1f MiB/s",
            self.action,
            self.target,
            human_size(self.done),
            human_size(self.total),
            percent,
            rate,
        )
        self._last, self._logged = now, self.done
        self.lines += 1


class _Lines(logging.Handler):
    def __init__(self, write: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.write = write

    def emit(self, record: logging.LogRecord) -> None:
        self.write(record.getMessage())


@contextlib.contextmanager
def routed(write: Callable[[str], None]) -> Iterator[None]:
    """Give every progress line of the block to ``write`` (and to no other handler)."""
    handler = _Lines(write)
    saved = LOGGER.level, LOGGER.propagate
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(saved[0])
        LOGGER.propagate = saved[1]
