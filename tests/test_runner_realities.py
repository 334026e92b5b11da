"""What real runners and real AWS do that moto does not: dead endpoints, IAM refusals, broken
downloads, file modes. Every server here is a small one of this file's own, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError, IncompleteReadError, ResponseStreamingError
from local_runner import Runner

from versioned_action import AccessDenied, IntegrityError, open_repository
from versioned_action import download as downloads
from versioned_action.aws import AwsSettings
from versioned_action.aws_failures import translate
from versioned_action.errors import Conflict, EndpointUnreachable, InvalidEnvironment
from versioned_action.layout import META_SHA256

DENIED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>1</RequestId></Error>"
)


# ----- small servers -------------------------------------------------------------------------


class SilentServer:
    """Accepts TCP connections and never answers: a dead endpoint behind a live load balancer."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.accepted = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.sock.accept()
                self.accepted += 1
                self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


class CannedServer(ThreadingHTTPServer):
    """Answers every request with one status and body (an S3 error document, typically)."""

    daemon_threads = True

    def __init__(self, status: int, body: bytes):
        self.status, self.body, self.requests = status, body, []
        super().__init__(("127.0.0.1", 0), _CannedHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


class _CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path))
        body = b"" if self.command == "HEAD" else self.server.body
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer


class CuttingProxy(ThreadingHTTPServer):
    """Forwards to the moto server; the first ``cuts`` object GETs send half the body, then
    drop the connection (``on_cut`` runs just before each cut)."""

    daemon_threads = True

    def __init__(self, upstream: str, cuts: int = 1, on_cut=None):
        self.upstream = upstream.removeprefix("http://")
        self.cuts, self.on_cut, self.gets = cuts, on_cut, []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self):
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    _HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}

    def log_message(self, *args):
        pass

    def _forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self._HOP}
        upstream.request(self.command, self.path, body or None, headers)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        cut = self.command == "GET" and response.status in (200, 206) and self.server.cuts > 0
        if self.command == "GET":
            self.server.gets.append((self.headers.get("Range"), self.headers.get("If-Match")))
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in self._HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not cut:
            self.wfile.write(payload)
            return
        self.server.cuts -= 1
        self.wfile.write(payload[: len(payload) // 2])
        self.wfile.flush()
        if self.server.on_cut:  # before the cut: the client's resume must see its effect
            self.server.on_cut()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


@pytest.fixture
def denied():
    server = CannedServer(403, DENIED_XML)
    yield server
    server.close()


# ----- 4. timeouts and the retry budget -------------------------------------------------------


def test_default_budget_fails_a_dead_endpoint_in_about_a_minute():
    settings = AwsSettings.resolve("us-east-1", "http://127.0.0.1:9")
    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts) == (5, 15, 3)
    assert 55 <= settings.retry_budget() <= 70
    config = settings.s3_client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (5, 15)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_timeouts_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("VERSIONED_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("VERSIONED_READ_TIMEOUT", "7")
    monkeypatch.setenv("VERSIONED_MAX_ATTEMPTS", "1")
    settings = AwsSettings.resolve("us-east-1", "http://127.0.0.1:9")
    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts) == (2.5, 7, 1)
    assert settings.retry_budget() == 9.5
    config = settings.s3_client().meta.config
    assert (config.connect_timeout, config.read_timeout) == (2.5, 7)
    assert config.retries["total_max_attempts"] == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VERSIONED_CONNECT_TIMEOUT", "0"),
        ("VERSIONED_CONNECT_TIMEOUT", "five"),
        ("VERSIONED_READ_TIMEOUT", "-1"),
        ("VERSIONED_READ_TIMEOUT", "nan"),
        ("VERSIONED_READ_TIMEOUT", "inf"),
        ("VERSIONED_MAX_ATTEMPTS", "0"),
        ("VERSIONED_MAX_ATTEMPTS", "2.5"),
        ("VERSIONED_MAX_ATTEMPTS", "100"),
    ],
)
def test_bad_timeouts_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidEnvironment, match=variable) as caught:
        AwsSettings.resolve("us-east-1", "http://127.0.0.1:9")
    assert caught.value.field == variable


@pytest.mark.parametrize("backend", ["s3", "s3-dynamodb"])
def test_a_dead_endpoint_fails_the_step_naming_it(tmp_path, silent, backend):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runner = Runner(
        workspace,
        VERSIONED_CONNECT_TIMEOUT="1",
        VERSIONED_READ_TIMEOUT="1",
        VERSIONED_MAX_ATTEMPTS="2",
    )
    step = runner.step(
        operation="get", name="app", bucket="dead-end", backend=backend, endpoint_url=silent.url
    )
    assert step.returncode == 1 and step.outputs == {}
    assert len(step.errors) == 1, step.stdout
    assert silent.url in step.errors[0] and "endpoint-url" in step.errors[0]
    assert "read timeout" in step.errors[0]
    assert "Traceback" not in step.stderr
    assert silent.accepted == 2  # VERSIONED_MAX_ATTEMPTS attempts, each on a new connection


# ----- 5. access denied names the IAM action and the resource ---------------------------------


def _denied_client(url: str):
    return AwsSettings.resolve("us-east-1", url).s3_client()


@pytest.mark.parametrize(
    ("call", "wanted"),
    [
        (
            lambda s3: s3.put_object(Bucket="bkt", Key="pre/app/LATEST.zip", Body=b"x"),
            "s3:PutObject on arn:aws:s3:::bkt/pre/app/LATEST.zip",
        ),
        (
            lambda s3: s3.head_object(Bucket="bkt", Key="pre/app/000001.zip"),
            "s3:GetObject on arn:aws:s3:::bkt/pre/app/000001.zip",
        ),
        (
            lambda s3: s3.get_object(Bucket="bkt", Key="pre/app/000001.zip"),
            "s3:GetObject on arn:aws:s3:::bkt/pre/app/000001.zip",
        ),
        (
            lambda s3: s3.list_objects_v2(Bucket="bkt", Prefix="pre/app/"),
            "s3:ListBucket on arn:aws:s3:::bkt",
        ),
        (lambda s3: s3.head_bucket(Bucket="bkt"), "s3:ListBucket on arn:aws:s3:::bkt"),
        (
            lambda s3: s3.copy_object(
                Bucket="bkt", Key="pre/app/2.zip", CopySource={"Bucket": "bkt", "Key": "pre/L"}
            ),
            "s3:PutObject on arn:aws:s3:::bkt/pre/app/2.zip and "
            "s3:GetObject on arn:aws:s3:::bkt/pre/L",
        ),
        (
            lambda s3: s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "pre/a"}]}),
            "s3:DeleteObject on arn:aws:s3:::bkt/pre/a",
        ),
        (
            lambda s3: s3.get_object_tagging(Bucket="bkt", Key="pre/a"),
            "s3:GetObjectTagging on arn:aws:s3:::bkt/pre/a",
        ),
    ],
)
def test_a_refused_request_names_action_and_resource(denied, call, wanted):
    with pytest.raises(ClientError) as caught:
        call(_denied_client(denied.url))
    err = translate(caught.value, bucket="bkt", prefix="pre")
    assert isinstance(err, AccessDenied)
    assert str(err).startswith(f"access denied: {wanted}")
    statement = json.loads(str(err).split("e.g. add ", 1)[1].split("}", 1)[0] + "}")
    assert statement["Effect"] == "Allow" and statement["Action"] == [wanted.split()[0]]


def test_the_hint_grants_the_prefix_and_explains_a_missing_key(denied):
    with pytest.raises(ClientError) as caught:
        _denied_client(denied.url).head_object(Bucket="bkt", Key="pre/app/000001.zip")
    err = translate(caught.value, bucket="bkt", prefix="pre")
    assert '"Resource": "arn:aws:s3:::bkt/pre/*"' in err.hint
    assert "s3:ListBucket on arn:aws:s3:::bkt" in err.hint
    assert err.needs == ((("s3:GetObject",), "arn:aws:s3:::bkt/pre/app/000001.zip"),)


def test_params_are_kept_per_call_across_threads(denied):
    s3 = _denied_client(denied.url)

    def refused(key: str) -> str:
        try:
            s3.put_object(Bucket="bkt", Key=key, Body=b"x")
        except ClientError as err:
            return str(translate(err, bucket="bkt"))
        raise AssertionError("the server refuses everything")

    keys = [f"pre/app/{n:06d}.zip" for n in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        messages = list(pool.map(refused, keys))
    for key, message in zip(keys, messages, strict=True):
        assert message.startswith(f"access denied: s3:PutObject on arn:aws:s3:::bkt/{key} ")


def test_the_repository_and_the_action_report_the_refusal(denied, tmp_path):
    repo = open_repository("s3", bucket="bkt-denied", endpoint_url=denied.url, region="us-east-1")
    with pytest.raises(AccessDenied, match=r"access denied: s3:\w+ on arn:aws:s3:::bkt-denied"):
        repo.put_artifact("app", b"x")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "a.bin").write_bytes(b"a")
    step = Runner(workspace).step(
        operation="put", bucket="bkt-denied", name="app", path="a.bin", endpoint_url=denied.url
    )
    assert step.returncode == 1 and len(step.errors) == 1, step.stdout
    assert "access denied: s3:" in step.errors[0] and "arn:aws:s3:::bkt-denied" in step.errors[0]


def test_no_credentials_points_at_configure_aws_credentials(denied, monkeypatch, tmp_path):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookup
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    repo = open_repository("s3", bucket="bkt-nocreds", endpoint_url=denied.url, region="us-east-1")
    with pytest.raises(AccessDenied, match="no AWS credentials") as caught:
        repo.put_artifact("app", b"x")
    assert "aws-actions/configure-aws-credentials" in str(caught.value)
    assert "IAM" not in caught.value.hint
    assert denied.requests == []  # refused before anything was sent


# ----- 7. downloads: file mode, resume, verification ------------------------------------------


@pytest.fixture
def stored(moto_endpoint, unique):
    """An object in moto (written directly, not through a proxy) and its sha256."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    bucket, key = f"dl-{unique}", "pre/app/000001.bin"
    s3.create_bucket(Bucket=bucket)
    content = os.urandom(3 * 1024 * 1024 + 17)
    sha256 = hashlib.sha256(content).hexdigest()

    def put(data: bytes = content, recorded: str = sha256):
        s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={META_SHA256: recorded})

    put()
    return bucket, key, content, sha256, put


def _client(url: str):
    return AwsSettings.resolve("us-east-1", url).s3_client()


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_downloaded_file_has_the_mode_open_gives(moto_endpoint, stored, tmp_path, umask, mode):
    bucket, key, content, _, _ = stored
    old = os.umask(umask)
    try:
        downloads.download(_client(moto_endpoint), bucket, key, tmp_path / "app.bin")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "app.bin").stat().st_mode) == mode
    assert (tmp_path / "app.bin").read_bytes() == content


def test_a_cut_download_resumes_from_where_it_stopped(moto_endpoint, stored, tmp_path):
    bucket, key, content, sha256, _ = stored
    proxy = CuttingProxy(moto_endpoint, cuts=2)
    try:
        info, got = downloads.download(_client(proxy.url), bucket, key, tmp_path / "app.bin")
    finally:
        proxy.close()
    assert (tmp_path / "app.bin").read_bytes() == content
    assert got == sha256 == info.sha256 and info.size == len(content)
    assert len(proxy.gets) == 3
    first, *resumes = proxy.gets
    assert first == (None, None)
    offsets = [int(rng.removeprefix("bytes=").rstrip("-")) for rng, _ in resumes]
    assert 0 < offsets[0] < offsets[1] < len(content)
    assert all(etag == info.etag for _, etag in resumes)
    assert _leftovers(tmp_path) == ["app.bin"]


def test_resumes_are_bounded_and_leave_nothing(moto_endpoint, stored, tmp_path):
    bucket, key, *_ = stored
    proxy = CuttingProxy(moto_endpoint, cuts=1000)
    try:
        with pytest.raises((ResponseStreamingError, IncompleteReadError)) as caught:
            downloads.download(_client(proxy.url), bucket, key, tmp_path / "app.bin")
    finally:
        proxy.close()
    assert isinstance(translate(caught.value, bucket=bucket), EndpointUnreachable)
    assert len(proxy.gets) == 1 + downloads.MAX_RESUMES
    assert _leftovers(tmp_path) == []


def test_an_object_replaced_midway_is_not_stitched(moto_endpoint, stored, tmp_path):
    bucket, key, _, _, put = stored
    other = b"another build" * 1000
    proxy = CuttingProxy(
        moto_endpoint, on_cut=lambda: put(other, hashlib.sha256(other).hexdigest())
    )
    try:
        with pytest.raises(Conflict, match="replaced or deleted during the download"):
            downloads.download(_client(proxy.url), bucket, key, tmp_path / "app.bin")
    finally:
        proxy.close()
    assert _leftovers(tmp_path) == []


def test_the_whole_sha256_is_verified(moto_endpoint, stored, tmp_path):
    bucket, key, content, _, put = stored
    put(content, "0" * 64)
    proxy = CuttingProxy(moto_endpoint)
    try:
        with pytest.raises(IntegrityError, match="0000000000"):
            downloads.download(_client(proxy.url), bucket, key, tmp_path / "app.bin")
    finally:
        proxy.close()
    assert len(proxy.gets) == 2  # it was resumed, then refused as a whole
    assert _leftovers(tmp_path) == []


def test_an_etag_that_no_longer_matches_is_refused(moto_endpoint, stored, tmp_path):
    bucket, key, *_ = stored
    with pytest.raises(ClientError) as caught:
        downloads.download(_client(moto_endpoint), bucket, key, tmp_path / "app.bin", etag='"0123"')
    assert caught.value.response["Error"]["Code"] in ("PreconditionFailed", "412")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("path", ["../escape.bin", "/tmp/outside.bin", "nodir/../../x.bin"])
def test_get_refuses_a_path_outside_the_workspace_before_any_request(tmp_path, silent, path):
    """In the container only the workspace is the job's: a file written elsewhere is lost."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    step = Runner(workspace).step(
        operation="get", bucket="bucket-x", name="app", path=path, endpoint_url=silent.url
    )
    assert step.returncode == 1 and "input path:" in step.errors[0]
    assert "outside the workspace" in step.errors[0]
    assert silent.accepted == 0


def test_get_writes_anywhere_under_the_workspace(tmp_path, moto_endpoint, unique):
    workspace = tmp_path / "workspace"
    (workspace / "deep").mkdir(parents=True)
    (workspace / "a.bin").write_bytes(b"a")
    runner = Runner(workspace)
    common = {"bucket": f"ws-{unique}", "name": "app", "endpoint_url": moto_endpoint}
    assert (
        runner.step(operation="put", path="a.bin", create_resources="true", **common).returncode
        == 0
    )
    got = runner.step(operation="get", path=str(workspace / "deep" / "../b.bin"), **common)
    assert got.returncode == 0, got.stdout
    assert (workspace / "b.bin").read_bytes() == b"a"
