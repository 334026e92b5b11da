"""Measure a benchmark's child process from inside it; Python loads this through PYTHONPATH.

When ``BENCH_PROBE_OUT`` names a file, every botocore client the process creates counts its
API calls (``before-call``), and at exit the process writes its request count and peak
resident memory (``VmHWM`` of its own ``/proc/self/status``) to that file as JSON. Reading
our own VmHWM, unlike the parent's ``ru_maxrss``, never includes pages of the process that
forked us. Without the variable this module does nothing.
"""

import atexit
import collections
import json
import os

_OUT = os.environ.get("BENCH_PROBE_OUT")
_calls: collections.Counter = collections.Counter()


def _peak_kib() -> int | None:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def _report() -> None:
    with open(_OUT, "w") as out:
        json.dump({"peak_rss_kib": _peak_kib(), "requests": dict(_calls)}, out)


def _count_every_client() -> None:
    """Patch botocore's Session.create_client. The AWS CLI carries its own botocore, which
    its package's import hook serves under the plain name: import that package first."""
    import contextlib

    with contextlib.suppress(ImportError):
        import awscli  # noqa: F401 - installs the hook, when this is the AWS CLI
    try:
        import botocore.session
    except ImportError:  # not a boto process: report memory only
        return
    _patch(botocore.session.Session)


def _patch(session_class) -> None:
    original = session_class.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def count(model, **_):
            _calls[f"{service}.{model.name}"] += 1

        client.meta.events.register("before-call", count)
        return client

    session_class.create_client = create_client


if _OUT:
    _count_every_client()
    atexit.register(_report)
