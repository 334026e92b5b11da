"""A Ceph RADOS Gateway (S3 API) for tests: ``scripts/rgw`` on 127.0.0.1, or one already running.

Nothing here is a fixture; a test module builds its own, e.g. ::

    @pytest.fixture(scope="module")
    def rgw(tmp_path_factory):
        with rgw_server(tmp_path_factory.mktemp("rgw")) as server:
            yield server

With ``VERSIONED_RGW_ENDPOINT`` set (and ``VERSIONED_RGW_ACCESS_KEY_ID``,
``VERSIONED_RGW_SECRET_ACCESS_KEY``), that gateway is used and nothing is started or stopped.
The keys are passed to clients explicitly: the suite's autouse ``aws_env`` fixture puts fake
AWS credentials in the environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "rgw"
REGION = "us-east-1"
# scripts/rgw bounds its own start (120 s by default); the rest is for installing Ceph with
# apt-get on a fresh machine.
START_TIMEOUT = 900
STOP_TIMEOUT = 60


@dataclasses.dataclass(frozen=True)
class RgwServer:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = REGION
    directory: Path | None = None  # where scripts/rgw keeps the cluster; None if not ours


def read_env(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of the env file that ``scripts/rgw start`` writes."""
    pairs = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            pairs[key.strip()] = value.strip()
    return pairs


def stop(directory: Path) -> None:
    """Stop the daemons ``scripts/rgw start`` recorded under ``directory``."""
    subprocess.run([str(SCRIPT), "stop", str(directory)], check=True, timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def rgw_server(tmpdir: str | os.PathLike[str]) -> Iterator[RgwServer]:
    """A gateway for the duration of the block: the one ``VERSIONED_RGW_ENDPOINT`` names, or
    one started with ``scripts/rgw`` under ``tmpdir/rgw`` and stopped at exit."""
    endpoint = os.environ.get("VERSIONED_RGW_ENDPOINT")
    if endpoint:
        yield RgwServer(
            endpoint=endpoint,
            access_key=os.environ["VERSIONED_RGW_ACCESS_KEY_ID"],
            secret_key=os.environ["VERSIONED_RGW_SECRET_ACCESS_KEY"],
        )
        return

    directory = Path(tmpdir) / "rgw"
    try:
        subprocess.run(
            [str(SCRIPT), "start", str(directory)],
            check=True,
            timeout=START_TIMEOUT,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"scripts/rgw start failed:\n{err.stderr}") from None
    except subprocess.TimeoutExpired:
        if directory.exists():
            stop(directory)
        raise RuntimeError(f"scripts/rgw start took more than {START_TIMEOUT} s") from None
    try:
        env = read_env(directory / "env")
        yield RgwServer(
            endpoint=env["AWS_ENDPOINT_URL_S3"],
            access_key=env["RGW_ACCESS_KEY_ID"],
            secret_key=env["RGW_SECRET_ACCESS_KEY"],
            directory=directory,
        )
    finally:
        stop(directory)


def s3_client(server: RgwServer, **config: Any) -> Any:
    """A botocore S3 client for ``server``: its keys (never the environment's), path-style
    addressing, checksums only where an operation requires them (RGW 16 neither checks nor
    stores ``x-amz-checksum-*``). ``config`` adds to or overrides the botocore Config."""
    import botocore.session
    from botocore.config import Config

    settings: dict[str, Any] = {
        "s3": {"addressing_style": "path"},
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "retries": {"max_attempts": 2, "mode": "standard"},
    }
    settings.update(config)
    return botocore.session.get_session().create_client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(**settings),
    )
