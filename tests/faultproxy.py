"""A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1, in front of the moto server.

Point a client's ``endpoint_url`` at :attr:`FaultProxy.url`. Every request is parsed into a
:class:`Request` (service, S3 or DynamoDB operation, key, whether it writes), logged, and
checked against the rules a test added; the first rule whose predicate matches decides what
happens to it::

    proxy.add_rule(nth_write(2), DROP_RESPONSE)        # moto applies it, the client never hears
    proxy.add_rule(op("PutObject", key_contains="/aliases/"), hang(), times=2)
    rule = proxy.add_rule(nth_write(3), BLOCK_AFTER_FORWARD)
    rule.event.wait(30)                                # ...then SIGKILL the client

A response moto gives can also be rewritten before the client reads it, to model a server
that answers with missing or malformed fields (see the editors under "response editors")::

    proxy.edit_response = drop_etag(op("PutObject"))   # moto stores it; the answer has no ETag
    proxy.edit_response = chain(drop_metadata(), restatus(206, op("GetObject")))

Every loop and wait is bounded, and :meth:`FaultProxy.stop` releases everything held.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import select
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}
DYNAMODB_WRITES = {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
}
# The headers that make an S3 write conditional: a proxy that drops them models a store that
# enforces no conditional write at all.
CONDITIONAL_HEADERS = frozenset(
    {"if-match", "if-none-match", "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match"}
)
MAX_HEADER_BYTES = 64 * 1024
IDLE_TIMEOUT = 30.0  # seconds a client connection may sit idle between requests
UPSTREAM_TIMEOUT = 60.0
HOLDING = "holding"  # outcome of a hung request until the client (or the limit) ends it


# ----- requests -------------------------------------------------------------------------------


@dataclasses.dataclass
class Request:
    """One client request as the proxy understood it."""

    method: str
    target: str  # path and query as sent
    headers: dict[str, str]  # lower-cased names
    body: bytes
    service: str = ""  # "s3" or "dynamodb"
    op: str = ""  # e.g. "PutObject", "CompleteMultipartUpload", "TransactWriteItems"
    is_write: bool = False
    bucket: str = ""  # S3 bucket, or the DynamoDB table
    key: str = ""  # S3 key, or "pk/sk" of the DynamoDB item(s), joined by ","
    number: int = 0  # 1-based position among all requests since the log was cleared
    write_number: int = 0  # 1-based position among writes (0 for a read)
    read_number: int = 0

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        query = urllib.parse.urlsplit(self.target).query
        return urllib.parse.parse_qs(query, keep_blank_values=True)

    def describe(self) -> str:
        return f"{self.op} {self.key or self.bucket}".strip()


def classify(request: Request) -> None:
    """Fill in service, op, is_write, bucket and key."""
    target = request.headers.get("x-amz-target", "")
    if target.startswith("DynamoDB_"):
        _classify_dynamodb(request, target.partition(".")[2])
    else:
        _classify_s3(request)


def _attr(value: object) -> str:
    if isinstance(value, dict) and value:
        return str(next(iter(value.values())))
    return ""


def _item_key(item: object) -> str:
    if not isinstance(item, dict):
        return ""
    return f"{_attr(item.get('pk'))}/{_attr(item.get('sk'))}"


def _classify_dynamodb(request: Request, op: str) -> None:
    request.service, request.op = "dynamodb", op
    request.is_write = op in DYNAMODB_WRITES
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return
    request.bucket = body.get("TableName", "")
    keys = []
    if "Item" in body or "Key" in body:
        keys.append(_item_key(body.get("Item") or body.get("Key")))
    for entry in body.get("TransactItems", []):
        for kind, spec in entry.items():
            request.bucket = request.bucket or spec.get("TableName", "")
            keys.append(f"{kind}:{_item_key(spec.get('Item') or spec.get('Key'))}")
    for table, writes in body.get("RequestItems", {}).items():
        request.bucket = request.bucket or table
        for write in writes if isinstance(writes, list) else []:
            for kind, spec in write.items():
                keys.append(f"{kind}:{_item_key(spec.get('Item') or spec.get('Key'))}")
    request.key = ",".join(keys)


def _classify_s3(request: Request) -> None:
    request.service = "s3"
    parts = urllib.parse.unquote(request.path).lstrip("/").split("/", 1)
    request.bucket = parts[0]
    request.key = parts[1] if len(parts) > 1 else ""
    query, headers, method = request.query, request.headers, request.method
    has_key = bool(request.key)
    request.is_write = method in ("PUT", "POST", "DELETE")
    if method == "GET":
        if not has_key:
            request.op = "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
            for sub in ("location", "versioning", "tagging", "uploads"):
                if sub in query:
                    request.op = f"GetBucket{sub.title()}"
        elif "tagging" in query:
            request.op = "GetObjectTagging"
        elif "uploadId" in query:
            request.op = "ListParts"
        else:
            request.op = "GetObject"
    elif method == "HEAD":
        request.op = "HeadObject" if has_key else "HeadBucket"
    elif method == "PUT":
        if not has_key:
            request.op = "PutBucketTagging" if "tagging" in query else "CreateBucket"
        elif "tagging" in query:
            request.op = "PutObjectTagging"
        elif "partNumber" in query and "uploadId" in query:
            copy = "x-amz-copy-source" in headers
            request.op = "UploadPartCopy" if copy else "UploadPart"
        elif "x-amz-copy-source" in headers:
            request.op = "CopyObject"
        else:
            request.op = "PutObject"
    elif method == "POST":
        if "uploads" in query:
            request.op = "CreateMultipartUpload"
        elif "uploadId" in query:
            request.op = "CompleteMultipartUpload"
        elif "delete" in query:
            request.op = "DeleteObjects"
        else:
            request.op = "PostObject"
    elif method == "DELETE":
        if "uploadId" in query:
            request.op = "AbortMultipartUpload"
        elif "tagging" in query:
            request.op = "DeleteObjectTagging"
        else:
            request.op = "DeleteObject" if has_key else "DeleteBucket"
    else:
        request.op = method


# ----- predicates -----------------------------------------------------------------------------

Predicate = Callable[[Request], bool]


def nth_write(n: int) -> Predicate:
    """The n-th write request (1-based) since the log was last cleared."""
    return lambda r: r.write_number == n


def nth_read(n: int) -> Predicate:
    return lambda r: r.read_number == n


def nth(predicate: Predicate, n: int) -> Predicate:
    """The n-th request (1-based) that matches ``predicate``."""
    seen = [0]

    def match(r: Request) -> bool:
        if not predicate(r):
            return False
        seen[0] += 1
        return seen[0] == n

    return match


def once_per_key(predicate: Predicate) -> Predicate:
    """``predicate``, but never again for an operation on a key it matched before: a client's
    retries of one request get through (a fault on every attempt exhausts any retry budget)."""
    seen: set[tuple[str, str]] = set()

    def match(r: Request) -> bool:
        if (r.op, r.key) in seen or not predicate(r):
            return False
        seen.add((r.op, r.key))
        return True

    return match


def any_write(r: Request) -> bool:
    return r.is_write


def op(name: str, *, key_contains: str | None = None, service: str | None = None) -> Predicate:
    """Requests of one operation, optionally only those whose key contains a string."""

    def match(r: Request) -> bool:
        return (
            r.op == name
            and (key_contains is None or key_contains in r.key)
            and (service is None or r.service == service)
        )

    return match


# ----- actions --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Action:
    """What to do with a matched request.

    kind: ``drop_response``, ``reset``, ``answer`` (``status``/``error`` without forwarding),
    ``overload`` (S3 SlowDown or DynamoDB throttling, by the request's service), ``hang``,
    ``block_after_forward``.
    """

    kind: str
    forward: bool = False
    status: int = 0
    error: str = ""

    def __str__(self) -> str:
        if self.kind == "answer":
            return f"status({self.status})"
        if self.kind == "hang":
            return f"hang(forward={self.forward})"
        return self.kind


DROP_RESPONSE = Action("drop_response", forward=True)
RESET = Action("reset")
SLOW_DOWN = Action("answer", status=503, error="SlowDown")
THROTTLE = Action("answer", status=400, error="ThrottlingException")
OVERLOAD = Action("overload")  # SLOW_DOWN for S3, THROTTLE for DynamoDB
BLOCK_AFTER_FORWARD = Action("block_after_forward", forward=True)


def status(code: int) -> Action:
    return Action("answer", status=code)


def hang(forward: bool = True) -> Action:
    return Action("hang", forward=forward)


def error_response(request: Request, code: int, error: str = "") -> tuple[int, dict, bytes]:
    """A response in the format each service's botocore parser expects."""
    if request.service == "dynamodb":
        error = error or ("InternalServerError" if code >= 500 else "ValidationException")
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{error}", "message": "injected fault"}
        ).encode()
        return code, {"Content-Type": "application/x-amz-json-1.0"}, body
    error = error or ("InternalError" if code >= 500 else "InvalidRequest")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{error}</Code><Message>injected fault</Message>"
        f"<RequestId>fault{int(time.time() * 1000)}</RequestId></Error>"
    ).encode()
    return code, {"Content-Type": "application/xml"}, body


# ----- response editors -----------------------------------------------------------------------
#
# ``FaultProxy.edit_response`` rewrites each response moto gave before the client reads it:
# ``editor(request, status, headers, body) -> (status, headers, body)``. The editors below
# change only the responses of the requests their predicate (``when``) matches, and only
# successful (2xx) ones unless they say otherwise.

Response = tuple[int, dict[str, str], bytes]
ResponseEditor = Callable[[Request, int, dict[str, str], bytes], Response]


def everything(request: Request) -> bool:
    return True


def _edits_ok(when: Predicate) -> Callable[[Request, int], bool]:
    return lambda request, code: 200 <= code < 300 and when(request)


def drop_headers(*names: str, when: Predicate = everything) -> ResponseEditor:
    """Answer without these headers (names case-insensitive; a name ending in ``*`` is a
    prefix: ``x-amz-meta-*``)."""
    exact = {n.lower() for n in names if not n.endswith("*")}
    prefixes = tuple(n.lower()[:-1] for n in names if n.endswith("*"))
    applies = _edits_ok(when)

    def edit(request: Request, code: int, headers: dict[str, str], body: bytes) -> Response:
        if not applies(request, code):
            return code, headers, body
        kept = {
            name: value
            for name, value in headers.items()
            if name.lower() not in exact and not name.lower().startswith(prefixes)
        }
        return code, kept, body

    return edit


def drop_etag(when: Predicate = everything) -> ResponseEditor:
    """No ETag header, and every ``<ETag>`` element of an XML body emptied (CopyObjectResult,
    CopyPartResult, CompleteMultipartUploadResult, a listing's objects)."""
    headers_edit = drop_headers("etag", when=when)
    applies = _edits_ok(when)

    def edit(request: Request, code: int, headers: dict[str, str], body: bytes) -> Response:
        code, headers, body = headers_edit(request, code, headers, body)
        xml = request.service == "s3" and request.op != "GetObject"  # not an object's bytes
        if applies(request, code) and xml and b"<ETag>" in body:
            body = re.sub(rb"<ETag>[^<]*</ETag>", b"<ETag></ETag>", body)
        return code, headers, body

    return edit


def drop_metadata(when: Predicate = everything) -> ResponseEditor:
    """No ``x-amz-meta-*`` header: an object read without its user metadata."""
    return drop_headers("x-amz-meta-*", when=when)


def restatus(code: int, when: Predicate = everything) -> ResponseEditor:
    """A successful answer given with another status (``202``, ``206``, ...), all else kept."""
    applies = _edits_ok(when)

    def edit(request: Request, status: int, headers: dict[str, str], body: bytes) -> Response:
        return (code if applies(request, status) else status), headers, body

    return edit


def empty_body(when: Predicate = everything) -> ResponseEditor:
    """A successful answer with no body at all (where the client expects XML or JSON)."""
    applies = _edits_ok(when)

    def edit(request: Request, code: int, headers: dict[str, str], body: bytes) -> Response:
        if not applies(request, code):
            return code, headers, body
        dropped = ("content-type", "x-amz-crc32")  # DynamoDB's checksum of the body it had
        kept = {k: v for k, v in headers.items() if k.lower() not in dropped}
        return code, kept, b""

    return edit


def answer_instead(
    code: int, body: bytes, content_type: str, when: Predicate = everything
) -> ResponseEditor:
    """Replace the answer (applied by moto all the same) with ``code`` and ``body``."""

    def edit(request: Request, status: int, headers: dict[str, str], old: bytes) -> Response:
        if not when(request):
            return status, headers, old
        return code, {"Content-Type": content_type}, body

    return edit


def not_implemented(when: Predicate = everything) -> ResponseEditor:
    """A 501 NotImplemented in the service's own error format."""

    def edit(request: Request, status: int, headers: dict[str, str], body: bytes) -> Response:
        if not when(request):
            return status, headers, body
        return error_response(request, 501, "NotImplemented")

    return edit


def non_xml_error(code: int = 400, when: Predicate = everything) -> ResponseEditor:
    """An error whose body is no XML or JSON at all (an HTML page of a proxy, say)."""
    page = b"<html><body><h1>Bad Request</h1>the gateway refused this</body></html>\n"
    return answer_instead(code, page, "text/html", when)


def drop_attributes(*names: str, when: Predicate = everything) -> ResponseEditor:
    """DynamoDB items (``Item``, ``Items``, ``Attributes``) answered without these attributes."""
    applies = _edits_ok(when)

    def strip(item: object) -> object:
        if isinstance(item, dict):
            return {k: v for k, v in item.items() if k not in names}
        return item

    def edit(request: Request, code: int, headers: dict[str, str], body: bytes) -> Response:
        if not applies(request, code) or request.service != "dynamodb":
            return code, headers, body
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return code, headers, body
        if not isinstance(data, dict):
            return code, headers, body
        if "Item" in data:
            data["Item"] = strip(data["Item"])
        if isinstance(data.get("Items"), list):
            data["Items"] = [strip(item) for item in data["Items"]]
        if "Attributes" in data:
            data["Attributes"] = strip(data["Attributes"])
        # the body changed, so its CRC32 header would no longer match (botocore checks it)
        kept = {k: v for k, v in headers.items() if k.lower() != "x-amz-crc32"}
        return code, kept, json.dumps(data).encode()

    return edit


def chain(*editors: ResponseEditor) -> ResponseEditor:
    """Each editor in turn."""

    def edit(request: Request, code: int, headers: dict[str, str], body: bytes) -> Response:
        for editor in editors:
            code, headers, body = editor(request, code, headers, body)
        return code, headers, body

    return edit


# ----- rules and the log ----------------------------------------------------------------------


@dataclasses.dataclass
class Rule:
    predicate: Predicate
    action: Action
    times: int = 1
    fired: int = 0
    event: threading.Event = dataclasses.field(default_factory=threading.Event)
    requests: list[Request] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One logged request and what the proxy did with it."""

    number: int
    service: str
    op: str
    is_write: bool
    write_number: int
    key: str
    action: str  # "forward" or the action taken
    status: int | None  # status moto answered (or the proxy's own), None if none
    outcome: str  # "answered", "dropped", "reset", "blocked", "client closed", "hang limit"

    def describe(self) -> str:
        return f"{self.op} {self.key}".strip()


# ----- the proxy ------------------------------------------------------------------------------


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class FaultProxy:
    """A threaded reverse proxy to ``upstream`` (``http://host:port``) with fault rules."""

    def __init__(self, upstream: str, *, hang_limit: float = 8.0, block_limit: float = 60.0):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.hang_limit = hang_limit  # a hung request is given up after this many seconds
        self.block_limit = block_limit
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._rules: list[Rule] = []
        self.drop_headers: frozenset[str] = frozenset()  # request headers never forwarded
        # rewrites each forwarded response before the client reads it (response editors)
        self.edit_response: ResponseEditor | None = None
        self._log: list[Entry] = []
        self._counts = [0, 0, 0]  # requests, writes, reads
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                proxy._serve_connection(self.request)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)  # wakes a handler blocked on it
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- rules and log

    def add_rule(self, predicate: Predicate, action: Action, times: int = 1) -> Rule:
        """Apply ``action`` to the next ``times`` requests that match ``predicate``."""
        rule = Rule(predicate, action, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def clear_log(self) -> None:
        """Forget the log and restart request numbering (``nth_write`` counts from here)."""
        with self._lock:
            self._log.clear()
            self._counts = [0, 0, 0]

    def reset(self) -> None:
        self.clear_rules()
        self.clear_log()

    @property
    def log(self) -> list[Entry]:
        with self._lock:
            return list(self._log)

    def writes(self) -> list[Entry]:
        return [e for e in self.log if e.is_write]

    def faults(self) -> list[Entry]:
        """The requests a rule acted on."""
        return [e for e in self.log if e.action != "forward"]

    def first_fault(self, default: str = "") -> str:
        """What the first request a rule acted on was (``default`` if none)."""
        faults = self.faults()
        return faults[0].describe() if faults else default

    # -- serving

    def _serve_connection(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        sock.settimeout(IDLE_TIMEOUT)
        reader = sock.makefile("rb")
        try:
            while not self._stopping.is_set():
                request = self._read_request(sock, reader)
                if request is None:
                    return
                outcome = self._handle(sock, request)
                if outcome != "keep":
                    if outcome == "reset":
                        reader.close()  # the fd closes (with an RST) only once no file uses it
                        _close(sock, reset=True)
                    return
        except (OSError, ValueError, http.client.HTTPException):
            return
        finally:
            with self._lock:
                self._sockets.discard(sock)
            reader.close()
            _close(sock)

    def _read_request(self, sock: socket.socket, reader) -> Request | None:
        line = reader.readline(MAX_HEADER_BYTES)
        while line in (b"\r\n", b"\n"):
            line = reader.readline(MAX_HEADER_BYTES)
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        size = 0
        while True:
            raw = reader.readline(MAX_HEADER_BYTES)
            size += len(raw)
            if not raw or size > MAX_HEADER_BYTES:
                return None
            if raw in (b"\r\n", b"\n"):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = _read_chunked(reader)
        else:
            body = _read_exact(reader, int(headers.get("content-length", "0") or 0))
        return Request(method.upper(), target, headers, body)

    def _decide(self, request: Request) -> Rule | None:
        classify(request)
        with self._lock:
            self._counts[0] += 1
            request.number = self._counts[0]
            if request.is_write:
                self._counts[1] += 1
                request.write_number = self._counts[1]
            else:
                self._counts[2] += 1
                request.read_number = self._counts[2]
            for rule in self._rules:
                if rule.fired < rule.times and rule.predicate(request):
                    rule.fired += 1
                    rule.requests.append(request)
                    return rule
        return None

    def _record(self, request: Request, action: str, status: int | None, outcome: str) -> Entry:
        entry = Entry(
            request.number,
            request.service,
            request.op,
            request.is_write,
            request.write_number,
            request.key,
            action,
            status,
            outcome,
        )
        with self._lock:
            self._log.append(entry)
        return entry

    def _settle(self, entry: Entry, outcome: str) -> None:
        with self._lock:
            for i, logged in enumerate(self._log):
                if logged is entry:  # gone if the log was cleared meanwhile
                    self._log[i] = dataclasses.replace(entry, outcome=outcome)

    def wait_settled(self, timeout: float = 10.0) -> None:
        """Wait until no logged request is still being held (a hang that has not ended)."""
        deadline = time.monotonic() + timeout
        while any(e.outcome == HOLDING for e in self.log) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _handle(self, sock: socket.socket, request: Request) -> str:
        """Serve one request: "keep" the connection, "close" it or "reset" it."""
        rule = self._decide(request)
        action = rule.action if rule else None
        name = str(action) if action else "forward"
        if action is not None and action.kind == "reset":
            self._record(request, name, None, "reset")
            return "reset"
        if action is not None and action.kind in ("answer", "overload"):
            error = action.error
            code = action.status
            if action.kind == "overload":
                code, error = (503, "SlowDown") if request.service == "s3" else (400, "")
                error = error or "ThrottlingException"
            response = error_response(request, code, error)
            self._record(request, name, code, "answered")
            self._send(sock, request, *response)
            return "keep"
        if action is not None and action.kind == "hang" and not action.forward:
            entry = self._record(request, name, None, HOLDING)
            rule.event.set()
            self._settle(entry, self._hold(sock, self.hang_limit))
            return "close"
        response = self._forward(request)
        editor = self.edit_response
        if editor is not None:
            response = editor(request, *response)
        if action is None:
            self._record(request, name, response[0], "answered")
            self._send(sock, request, *response)
            return "keep"
        if action.kind == "drop_response":
            self._record(request, name, response[0], "dropped")
            return "close"
        if action.kind == "hang":
            entry = self._record(request, name, response[0], HOLDING)
            rule.event.set()
            self._settle(entry, self._hold(sock, self.hang_limit))
            return "close"
        if action.kind == "block_after_forward":
            self._record(request, name, response[0], "blocked")
            rule.event.set()
            self._hold(sock, self.block_limit)
            return "close"
        raise ValueError(f"unknown action {action}")

    def _hold(self, sock: socket.socket, limit: float) -> str:
        """Keep the connection open without answering until the client gives up (or a limit)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self._stopping.is_set():
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return "client closed"
                if not data:
                    return "client closed"
        return "stopped" if self._stopping.is_set() else "hang limit"

    def _forward(self, request: Request) -> tuple[int, dict, bytes]:
        """Send the request to moto on a fresh connection; return its whole response."""
        conn = http.client.HTTPConnection(*self.upstream, timeout=UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers.items():
                if name not in HOP_BY_HOP | self.drop_headers and name != "content-length":
                    conn.putheader(name, value)
            if request.body or request.method in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(request.body)))
            conn.putheader("Connection", "close")
            conn.endheaders(request.body or None)
            response = conn.getresponse()
            body = response.read()
            headers = {
                name: value
                for name, value in response.getheaders()
                if name.lower() not in HOP_BY_HOP
            }
            return response.status, headers, body
        finally:
            conn.close()

    def _send(self, sock, request: Request, code: int, headers: dict, body: bytes) -> None:
        reason = http.client.responses.get(code, "Unknown")
        lines = [f"HTTP/1.1 {code} {reason}"]
        no_body = request.method == "HEAD" or code in (204, 304) or 100 <= code < 200
        for name, value in headers.items():
            if name.lower() == "content-length" and not no_body:
                continue
            lines.append(f"{name}: {value}")
        if not no_body:
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sock.sendall(head + (b"" if no_body else body))


def _read_exact(reader, length: int) -> bytes:
    chunks, remaining = [], length
    while remaining > 0:
        chunk = reader.read(min(remaining, 1 << 20))
        if not chunk:
            raise ValueError("client closed mid-body")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_chunked(reader) -> bytes:
    """Undo HTTP chunking (aws-chunked framing inside it, if any, is passed on untouched)."""
    chunks = []
    while True:
        size_line = reader.readline(MAX_HEADER_BYTES)
        if not size_line:
            raise ValueError("client closed mid-body")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while reader.readline(MAX_HEADER_BYTES) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(_read_exact(reader, size))
        reader.readline(MAX_HEADER_BYTES)


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    with contextlib.suppress(OSError):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
