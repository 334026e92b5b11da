"""A server that answers with missing or malformed fields: every operation still tells the truth.

The fault proxy (``tests/faultproxy.py``) rewrites moto's answers before the client reads them.
Four families of misbehaviour, each met by every operation on both backends:

- ``no-etag``: no ETag header, empty ``<ETag>`` elements (the endpoint probe included);
- ``no-metadata``: no ``x-amz-meta-*`` header on any answer;
- ``odd-status``: successes answered 202 / 206, or one kind of request of the operation
  answered 501 NotImplemented, 400 or 500 with an HTML page, 300, or an unknown error code;
- ``missing-or-damaged``: XML and JSON answers with an empty body, HEADs without
  Content-Length or Last-Modified, DynamoDB items without their attributes, alias and history
  documents that are not JSON.

Within a family the variants rotate over the operations and backends. Each operation runs as
a user runs it: the CLI as its own process (and for some, the action's entrypoint), on an
artifact prepared straight on moto, and ends in exactly one of two ways:

- it succeeds, and what it reports is what moto holds: the version, sha256 and size of the
  object at the reported URI, the alias it moved, the versions it listed or purged, the
  history it showed, the file it wrote;
- it fails with exit status 1 (the action: exit 1 and one ``::error`` line, no outputs) and
  one error line that names the bucket, table or endpoint at fault and says what to do;
  nothing on stdout claims what was not done.

Never a traceback, and either way the artifact keeps its storage invariants.
``MALFORMED_SURVEY=1`` (with ``pytest -s``) prints how every run ended.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from faultproxy import (
    Request,
    ResponseEditor,
    chain,
    drop_attributes,
    drop_etag,
    drop_headers,
    drop_metadata,
    empty_body,
    error_response,
    non_xml_error,
    not_implemented,
    restatus,
)
from storage_check import (
    NEW,
    OLD,
    State,
    Store,
    _history_problems,
    _keys,
    _query,
    _read_raw,
    _state,
    prepare,
    sha,
    snapshot,
)

from versioned_action import LATEST, AliasTarget

KNOBS = {
    "VERSIONED_READ_TIMEOUT": "5",
    "VERSIONED_CONNECT_TIMEOUT": "2",
    "VERSIONED_MAX_ATTEMPTS": "2",
    "VERSIONED_CLAIM_LEASE": "2",
}
WORKERS = 4  # processes at a time (their start-up, botocore's models, is most of their time)
BACKENDS = ("s3", "s3-dynamodb")
SIZES = {sha(OLD): len(OLD), sha(NEW): len(NEW), **{sha(f"db {i}".encode()): 4 for i in range(5)}}
# The hint of an error line: a sentence after its message that says what to do.
HINT = re.compile(r"\S\. [A-Z][a-z]+ ")


# ----- the operations -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Operation:
    """One command on an artifact prepared in ``state`` (``storage_check.prepare``)."""

    name: str
    state: str
    args: tuple[str, ...]  # the subcommand, then what follows the artifact's name
    check: Callable[[Run], list[str]]  # what is untrue in a successful run's result
    inputs: tuple[tuple[str, str], ...] = ()  # the action's, besides operation and the store's

    def command(self, artifact: str) -> list[str]:
        subcommand, *rest = self.args
        return [subcommand, artifact, *rest]


@dataclasses.dataclass
class Run:
    """One operation run through the proxy: what it printed, and what moto held around it."""

    operation: Operation
    store: Store
    variant: str
    before: State
    workdir: Path
    returncode: int = -1
    stdout: str = ""
    stderr: str = ""
    result: dict = dataclasses.field(default_factory=dict)
    after: State | None = None
    via: str = "cli"  # or "action": the entrypoint, as the runner starts it
    outputs: dict = dataclasses.field(default_factory=dict)  # the action's
    summary: str = ""  # the action's step summary

    def describe(self) -> str:
        return f"{self.store.backend} {self.operation.name} ({self.variant}, {self.via})"


def _object_problems(run: Run) -> list[str]:
    """The version, URI, sha256 and size reported are those of the object moto holds."""
    out, after = run.result, run.after
    assert after is not None
    version = out.get("version")
    if version not in after.versions:
        return [f"reports version {version}; moto holds {sorted(after.versions)}"]
    found = []
    if out.get("s3_uri") != run.store.direct.s3uri(run.store.name, version):
        found.append(f"reports s3_uri {out.get('s3_uri')} for version {version}")
    digest = after.versions[version]
    if out.get("sha256") not in (None, "", digest):  # none: unknown (metadata not given)
        found.append(f"reports sha256 {out.get('sha256')}; version {version} holds {digest}")
    if out.get("size") not in (None, SIZES[digest]):
        found.append(f"reports size {out.get('size')}; version {version} is {SIZES[digest]}")
    return found


def _check_put(run: Run) -> list[str]:
    out, after = run.result, run.after
    assert after is not None
    found = _object_problems(run)
    if (out.get("sha256"), out.get("size")) != (sha(NEW), len(NEW)):
        found.append(f"reports {out.get('sha256')} ({out.get('size')} bytes) for the file put")
    if after.versions.get(LATEST) != sha(NEW):
        found.append("LATEST does not hold the file put")
    if "--publish" not in run.operation.args:
        return found + ([] if out.get("version") == LATEST else ["put reports a version"])
    if out.get("version") in run.before.versions:
        found.append(f"reports version {out.get('version')} as new; it existed before")
    return found


def _check_publish(run: Run) -> list[str]:
    out, after = run.result, run.after
    assert after is not None
    found = _object_problems(run)
    if after.versions.get(out.get("version")) != after.versions.get(LATEST):
        found.append(f"version {out.get('version')} does not hold LATEST's bytes")
    if out.get("changed") == (out.get("version") in run.before.versions):
        found.append(f"reports version {out.get('version')} with changed={out.get('changed')}")
    return found


def _alias_problems(run: Run, wanted: str, previous: str) -> list[str]:
    out, after = run.result, run.after
    assert after is not None
    found = _object_problems(run)
    if (out.get("previous_version"), out.get("version")) != (previous, wanted):
        found.append(f"reports {out.get('previous_version')} -> {out.get('version')}")
    if after.aliases.get("prod") != AliasTarget(str(out.get("version"))):
        found.append(f"reports prod -> {out.get('version')}; moto has {after.aliases.get('prod')}")
    if out.get("changed") != (run.before.aliases.get("prod") != after.aliases.get("prod")):
        found.append(f"reports changed={out.get('changed')}")
    return found


def _check_get(run: Run) -> list[str]:
    out, after = run.result, run.after
    assert after is not None
    found = _object_problems(run)
    if after.aliases.get("prod") != AliasTarget(str(out.get("version"))):
        found.append(f"reports version {out.get('version')} for prod")
    written = run.workdir / "out" / "app.bin"
    if not written.is_file():
        return [*found, "wrote no file"]
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    if digest != out.get("sha256") or digest != after.versions.get(out.get("version")):
        found.append(f"wrote {digest}, reports {out.get('sha256')}")
    return found


def _check_list(run: Run) -> list[str]:
    details, after = run.result["details"], run.after
    assert after is not None
    found = []
    listed = {v["version"]: v for v in details["versions"]}
    if set(listed) != set(after.versions):
        found.append(f"lists versions {sorted(listed)}; moto holds {sorted(after.versions)}")
    for version, entry in listed.items():
        digest = after.versions.get(version)
        if entry["sha256"] not in ("", None, digest):
            found.append(f"lists version {version} with sha256 {entry['sha256']}, not {digest}")
        if digest and entry["size"] not in (None, SIZES[digest]):
            found.append(f"lists version {version} with size {entry['size']}")
    aliases = {a["alias"]: AliasTarget(a["version"]) for a in details["aliases"]}
    if aliases != after.aliases:
        found.append(f"lists aliases {aliases}; moto has {after.aliases}")
    return found


def _check_purge(run: Run) -> list[str]:
    after = run.after
    assert after is not None
    deleted = set(run.result.get("deleted_versions") or [])
    found = []
    if set(run.before.versions) - deleted != set(after.versions):
        found.append(f"reports {sorted(deleted)} deleted; moto holds {sorted(after.versions)}")
    if {"1", "4", LATEST} & deleted:
        found.append(f"purged {sorted(deleted)}: the newest, an aliased version or LATEST")
    return found


def _check_history(run: Run) -> list[str]:
    entries = run.result["details"]["entries"]
    shown = [
        (e["previous"] and e["previous"]["version"], e["new"] and e["new"]["version"])
        for e in entries
    ]
    found = []
    if shown != [("1", "2"), (None, "1")]:
        found.append(f"shows the changes {shown}; moto holds [1 -> 2, created at 1]")
    if run.result.get("version") != "2":
        found.append(f"reports version {run.result.get('version')}")
    return found


def _check_delete_alias(run: Run) -> list[str]:
    out, after = run.result, run.after
    assert after is not None
    found = []
    if not out.get("changed") or out.get("previous_version") != "1":
        found.append(f"reports changed={out.get('changed')}, was {out.get('previous_version')}")
    if "prod" in after.aliases:
        found.append(f"reports the alias deleted; moto has prod -> {after.aliases['prod']}")
    return found


OPERATIONS = [
    Operation("put", "published", ("put", "app.bin"), _check_put, (("path", "app.bin"),)),
    Operation(
        "put-publish",
        "published",
        ("put", "app.bin", "--publish"),
        _check_put,
        (("path", "app.bin"), ("publish", "true")),
    ),
    Operation("publish", "pending", ("publish",), _check_publish),
    Operation(
        "promote",
        "prod1",
        ("promote", "prod"),
        lambda r: _alias_problems(r, "2", "1"),
        (("alias", "prod"),),
    ),
    Operation(
        "rollback",
        "prod2",
        ("rollback", "prod"),
        lambda r: _alias_problems(r, "1", "2"),
        (("alias", "prod"),),
    ),
    Operation(
        "get",
        "prod1",
        ("get", "--alias", "prod", "--path", "out/app.bin"),
        _check_get,
        (("alias", "prod"), ("path", "out/app.bin")),
    ),
    Operation("list", "prod1", ("list",), _check_list),
    Operation(
        "purge",
        "four",
        ("purge", "--keep-last", "1", "--older-than", "0", "--yes"),
        _check_purge,
        (("keep_last", "1"), ("older_than", "0")),
    ),
    Operation("history", "prod2", ("history", "prod"), _check_history, (("alias", "prod"),)),
    Operation(
        "delete-alias",
        "prod1",
        ("delete-alias", "prod", "--yes"),
        _check_delete_alias,
        (("alias", "prod"),),
    ),
]
BY_NAME = {operation.name: operation for operation in OPERATIONS}


# ----- what the server does wrong -------------------------------------------------------------

Variant = tuple[str, Callable[[str], ResponseEditor]]  # label, editor for a (backend) request


def _s3(*ops: str) -> Callable[[Request], bool]:
    return lambda r: r.service == "s3" and r.op in ops


def _not_s3(*ops: str) -> Callable[[Request], bool]:
    return lambda r: not (r.service == "s3" and r.op in ops)


def damage_documents(request, code, headers, body):
    """Alias and history documents that are not JSON (s3); history entries and an alias's
    record of what it replaced that are not JSON (s3-dynamodb)."""
    if not 200 <= code < 300:
        return code, headers, body
    if request.op == "GetObject" and ("/aliases/" in request.key or "/history/" in request.key):
        return code, headers, b'{"version": "2", "alias": '
    if request.service == "dynamodb":
        text = re.sub(
            r'"(entry|previous)": \{"S": "(?:[^"\\]|\\.)*"\}',
            r'"\1": {"S": "{\\"broken"}',
            body.decode(),
        )
        kept = {k: v for k, v in headers.items() if k.lower() != "x-amz-crc32"}
        return code, kept, text.encode()
    return code, headers, body


def _answer(code: int, error: str) -> ResponseEditor:
    def edit(request, status, headers, body):
        return error_response(request, code, error)

    return edit


def _multiple_choices(request, status, headers, body):
    return 300, {"Content-Type": "text/plain"}, b"Multiple Choices\n"


# What one request of each operation meets in the error variants: (S3, DynamoDB) request.
TARGETS = {
    "put": ("PutObject", "PutItem"),
    "put-publish": ("ListObjectsV2", "Query"),
    "publish": ("CopyObject", "UpdateItem"),
    "promote": ("PutObject", "TransactWriteItems"),
    "rollback": ("ListObjectsV2", "Query"),
    "get": ("GetObject", "GetItem"),
    "list": ("HeadObject", "Query"),
    "purge": ("DeleteObjects", "UpdateItem"),
    "history": ("GetObject", "Query"),
    "delete-alias": ("DeleteObject", "TransactWriteItems"),
}


def _targeted(label: str, answer: ResponseEditor) -> Variant:
    """``answer`` given to the operation's target request (TARGETS) instead of moto's."""

    def make(target: str) -> ResponseEditor:
        def edit(request, code, headers, body):
            if request.op != target:
                return code, headers, body
            return answer(request, code, headers, body)

        return edit

    return f"{label} to {{target}}", make


def _everywhere(label: str, editor: ResponseEditor) -> Variant:
    return label, lambda target: editor


ODD_2XX = chain(restatus(206, _s3("GetObject")), restatus(202, _not_s3("GetObject")))
NO_LENGTH_OR_DATE = chain(
    drop_headers("content-length", when=_s3("HeadObject")), drop_headers("last-modified")
)
EMPTY_BODIES = empty_body(
    lambda r: (
        r.service == "dynamodb"
        or r.op in ("ListObjectsV2", "CopyObject", "CompleteMultipartUpload", "DeleteObjects")
    )
)
MISSING_ATTRIBUTES = drop_attributes("update_at", "sha256", "size", "version", "entry", "previous")
# family -> backend -> variants (a family of one variant meets every request, the probe of what
# the endpoint enforces included; the others meet the requests of their operation's artifact)
FAMILIES: dict[str, dict[str, list[Variant]]] = {
    "no-etag": {b: [_everywhere("no ETag", drop_etag())] for b in BACKENDS},
    "no-metadata": {b: [_everywhere("no metadata", drop_metadata())] for b in BACKENDS},
    "odd-status": {
        b: [
            _everywhere("200 answered as 202 and 206", ODD_2XX),
            _targeted("501 NotImplemented", not_implemented()),
            _targeted("400 with an HTML page", non_xml_error(400)),
            _targeted("500 with an HTML page", non_xml_error(500)),
            _targeted("300", _multiple_choices),
            _targeted("an unknown error code", _answer(400, "WeirdStoreError")),
        ]
        for b in BACKENDS
    },
    "missing-or-damaged": {
        "s3": [
            _everywhere("empty XML bodies", EMPTY_BODIES),
            _everywhere("damaged alias and history documents", damage_documents),
            _everywhere("HEAD without Content-Length, no Last-Modified", NO_LENGTH_OR_DATE),
        ],
        "s3-dynamodb": [
            _everywhere("empty XML and JSON bodies", EMPTY_BODIES),
            _everywhere("items without their attributes", MISSING_ATTRIBUTES),
            _everywhere("damaged history entries", damage_documents),
            _everywhere("HEAD without Content-Length, no Last-Modified", NO_LENGTH_OR_DATE),
        ],
    },
}
ARTIFACT = re.compile(r"(?<![A-Za-z0-9])(mal\d+)(?![0-9])")


def artifact_of(request: Request) -> str | None:
    """The artifact a request is about (in its key, its listing prefix or its DynamoDB body)."""
    text = urllib.parse.unquote(request.target) + " " + request.key
    text += " " + request.body[:4096].decode("utf-8", "replace")  # DeleteObjects' keys, say
    found = ARTIFACT.search(text)
    return found[1] if found else None


def by_artifact(editors: dict[str, ResponseEditor]) -> ResponseEditor:
    """Each artifact's requests meet its own editor; other requests pass unchanged."""

    def edit(request, code, headers, body):
        editor = editors.get(artifact_of(request) or "")
        return editor(request, code, headers, body) if editor else (code, headers, body)

    return edit


# ----- prepared artifacts: a template per state, cloned under a new name for each run ---------

_TEMPLATES: dict[tuple[str, str, str], tuple[Store, State]] = {}
_TEMPLATE_LOCK = threading.Lock()


def _template(endpoint: str, where: str, backend: str, state: str) -> tuple[Store, State]:
    key = (endpoint, backend, state)
    with _TEMPLATE_LOCK:
        if key not in _TEMPLATES:
            name = f"tpl{state}{'s' if backend == 's3' else 'd'}"
            store = Store(backend, endpoint, bucket=where, table=where, name=name)
            prepare(store, state)
            _TEMPLATES[key] = (store, snapshot(store))
        return _TEMPLATES[key]


def _renamed(value, old: str, new: str):
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return value


def clone(template: Store, name: str) -> Store:
    """The template's objects and items, written straight to moto under ``name``."""
    store = dataclasses.replace(template, name=name)
    s3 = template.client("s3")
    root = f"{template.prefix}/{template.name}/"
    for key in _keys(s3, template.bucket, root):
        got = s3.get_object(Bucket=template.bucket, Key=key)
        s3.put_object(
            Bucket=template.bucket,
            Key=f"{template.prefix}/{name}/{key[len(root) :]}",
            Body=got["Body"].read().replace(template.name.encode(), name.encode()),
            Metadata=_renamed(got.get("Metadata") or {}, template.name, name),
            ContentType=got.get("ContentType") or "binary/octet-stream",
        )
    if template.backend == "s3-dynamodb":
        table = template.client("dynamodb")
        partitions = (template.name, f"__{template.name}-alias", f"__{template.name}-alias-history")
        items = [
            _renamed(item, template.name, name)
            for pk in partitions
            for item in _query(table, template, pk)
        ]
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            table.batch_write_item(RequestItems={template.table: batch})
    return store


@pytest.fixture
def artifacts(moto_process_endpoint, store_names):
    """``make(backend, operation)``: a fresh artifact (``mal<n>``) in the operation's state, in
    the session's fault-test bucket and table, and the state it holds."""
    session, counter = store_names

    def make(backend: str, operation: Operation) -> tuple[Store, State]:
        where = f"flt-{session}-{'s3' if backend == 's3' else 'ddb'}"
        template, state = _template(moto_process_endpoint, where, backend, operation.state)
        return clone(template, f"mal{next(counter)}"), state

    return make


# ----- running and judging --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def knobs(monkeypatch):
    for key, value in KNOBS.items():
        monkeypatch.setenv(key, value)


def run_cli(run: Run, endpoint: str) -> None:
    """The operation as the CLI's own process, through ``endpoint``."""
    store = run.store
    run.workdir.mkdir(parents=True)
    (run.workdir / "app.bin").write_bytes(NEW)
    command = [
        sys.executable,
        "-m",
        "versioned_action.cli",
        *("--backend", store.backend, "--bucket", store.bucket, "--table", store.table),
        *("--prefix", store.prefix, "--endpoint-url", endpoint, "--json"),
        *run.operation.command(store.name),
    ]
    done = subprocess.run(
        command,
        cwd=run.workdir,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )
    run.returncode, run.stdout, run.stderr = done.returncode, done.stdout, done.stderr
    if done.returncode == 0:
        try:
            run.result = json.loads(done.stdout)
        except ValueError:
            run.result = {}


def run_action(run: Run, endpoint: str, runner) -> None:
    """The operation as the action's entrypoint, started as the runner starts it."""
    store = run.store
    step = runner.step(
        operation=run.operation.args[0],
        name=store.name,
        backend=store.backend,
        bucket=store.bucket,
        table=store.table,
        prefix=store.prefix,
        endpoint_url=endpoint,
        **dict(run.operation.inputs),
    )
    run.returncode, run.stdout, run.stderr = step.returncode, step.stdout, step.stderr
    run.outputs, run.summary = step.outputs, step.summary
    if step.returncode == 0:
        try:
            run.result = json.loads(step.outputs.get("result") or "")
        except ValueError:
            run.result = {}


def storage_problems(run: Run) -> list[str]:
    """What the run left broken in moto: a version object whose metadata names other bytes, a
    visible record without its object or naming other bytes, an alias on a missing version, an
    alias moved without the history that undoes it."""
    store = run.store
    raw = _read_raw(store)
    run.after = _state(raw)
    found = [
        f"version {v}: its metadata records sha256 {recorded}, its bytes are {digest}"
        for v, (digest, recorded) in sorted(raw.objects.items())
        if recorded != digest
    ]
    found += [f"version {v}: a visible record without its object" for v in raw.orphans]
    if store.backend == "s3-dynamodb":
        for item in _query(store.client("dynamodb"), store, store.name):
            version = item["sk"]["S"]
            version = version if version == LATEST else str(int(version))
            recorded = item.get("sha256", {}).get("S")
            if item.get("is_deleted", {}).get("BOOL") or version not in raw.objects:
                continue
            if version == LATEST and recorded not in SIZES:  # a stale LATEST is repaired on read
                found.append(f"the LATEST record names sha256 {recorded!r}")
            elif version != LATEST and recorded != raw.objects[version][0]:
                found.append(f"version {version}: its record names sha256 {recorded!r}")
    for alias, target in sorted(raw.aliases.items()):
        missing = [v for v in target.versions if v not in raw.visible]
        if missing:
            found.append(f"alias {alias} -> {target.describe()}: versions {missing} missing")
    if raw.aliases == run.before.aliases:
        return found
    kept = {a: t for a, t in run.before.aliases.items() if a in raw.aliases}
    found += _history_problems(store.direct, store.name, raw.aliases, kept)
    for alias in sorted(set(run.before.aliases) - set(raw.aliases)):  # deleted: recorded?
        newest = store.direct.get_alias_history(store.name, alias, 1)
        if not newest or newest[0].new is not None:
            found.append(f"alias {alias} was deleted, and its history does not record it")
    return found


def error_line_problems(line: str, store: Store, endpoint: str) -> list[str]:
    """An error line names the resource at fault and says what to do."""
    found = []
    names = (store.bucket, store.table, urllib.parse.urlsplit(endpoint).netloc)
    if not any(name in line for name in names):
        found.append("names neither the bucket, the table nor the endpoint")
    if not HINT.search(line):
        found.append("does not say what to do")
    if "unexpected" in line.lower():
        found.append("reports an unexpected exception, not what the server did")
    return found


def judge(run: Run, endpoint: str) -> list[str]:
    """Everything untrue or unclear about one run (empty: it told the truth, or failed
    cleanly)."""
    found = [f"storage: {problem}" for problem in storage_problems(run)]
    if "Traceback" in run.stdout + run.stderr:
        found.append("printed a traceback")
    if run.returncode == 0:
        if not run.result:
            return [*found, f"succeeded without a result: {run.stdout[-300:]!r}"]
        return found + run.operation.check(run)
    if run.returncode != 1:
        found.append(f"exit status {run.returncode}, not 1")
    if run.via == "action":
        return found + _action_failure_problems(run, endpoint)
    lines = run.stderr.strip().splitlines()
    if run.stdout.strip():
        found.append(f"failed, yet printed a result: {run.stdout.strip()[:200]!r}")
    if len(lines) != 1 or not lines[0].startswith("error: "):
        found.append(f"{len(lines)} lines on stderr, not one error line")
    else:
        found += [f"its error line {p}" for p in error_line_problems(lines[0], run.store, endpoint)]
    return found


def _action_failure_problems(run: Run, endpoint: str) -> list[str]:
    """A failed step: one ``::error`` line (and no warning), no output, a summary that says
    it failed, nothing on stderr."""
    found = []
    commands = [line for line in run.stdout.splitlines() if line.startswith(("::error", "::warn"))]
    if len(commands) != 1 or not commands[0].startswith("::error"):
        found.append(f"{len(commands)} error or warning commands, not one ::error: {commands}")
    else:
        message = urllib.parse.unquote(commands[0].split("::", 2)[2])  # the runner's unescape
        found += [f"its ::error {p}" for p in error_line_problems(message, run.store, endpoint)]
    if run.outputs:
        found.append(f"failed, yet set outputs {sorted(run.outputs)}")
    if run.stderr.strip():
        found.append(f"failed with more on stderr: {run.stderr.strip()[:200]!r}")
    if "failed" not in run.summary.split("\n", 1)[0]:
        found.append(f"its summary does not say it failed: {run.summary[:200]!r}")
    return found


def run_family(family: str, proxy, artifacts, tmp_path) -> list[str]:
    """Every operation on both backends under its variant of ``family``, a few at a time, each
    on its own artifact (cloned, run, judged in one worker); the report of what went wrong."""
    plans = []
    for shift, backend in enumerate(BACKENDS):
        variants = FAMILIES[family][backend]
        for i, operation in enumerate(OPERATIONS):
            label, make = variants[(i + shift) % len(variants)]
            target = TARGETS[operation.name][shift]
            plans.append((backend, operation, label.format(target=target), make(target)))
    editors: dict[str, ResponseEditor] = {}
    everywhere = {len(FAMILIES[family][b]) for b in BACKENDS} == {1}
    proxy.edit_response = plans[0][3] if everywhere else by_artifact(editors)

    def attempt(plan) -> tuple[Run, list[str]]:
        backend, operation, label, editor = plan
        store, state = artifacts(backend, operation)
        editors[store.name] = editor
        run = Run(operation, store, label, state, tmp_path / f"{store.name}-{operation.name}")
        run_cli(run, proxy.url)
        return run, judge(run, proxy.url)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        judged = list(pool.map(attempt, plans))
    proxy.edit_response = None
    return _report(judged)


def _report(judged: list[tuple[Run, list[str]]]) -> list[str]:
    report = []
    for run, found in judged:
        outcome = "ok" if run.returncode == 0 else f"exit {run.returncode}"
        if os.environ.get("MALFORMED_SURVEY"):
            print(f"{run.describe()}: {outcome}: {run.stderr.strip()[-300:]}{run.stdout[-300:]}")
        report += [f"{run.describe()}, {outcome}: {problem}" for problem in found]
        if found:
            report.append(f"    stderr: {run.stderr.strip()[-500:]!r}")
    return report


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_operation_against_a_malformed_server(family, proxy, artifacts, tmp_path):
    report = run_family(family, proxy, artifacts, tmp_path)
    assert not report, "\n".join(report)


def _at(target: str, answer: ResponseEditor) -> ResponseEditor:
    return _targeted("", answer)[1](target)


# The action's entrypoint, for a few of the above (backend, operation, variant, editor).
ACTION_CASES = [
    ("s3", "put-publish", "no ETag", drop_etag()),
    ("s3-dynamodb", "put-publish", "no metadata", drop_metadata()),
    ("s3", "publish", "no metadata", drop_metadata()),
    ("s3", "promote", "501 NotImplemented to PutObject", _at("PutObject", not_implemented())),
    ("s3-dynamodb", "rollback", "items without their attributes", MISSING_ATTRIBUTES),
    ("s3", "get", "200 answered as 202 and 206", ODD_2XX),
    ("s3-dynamodb", "delete-alias", "empty XML and JSON bodies", EMPTY_BODIES),
    ("s3", "history", "damaged alias and history documents", damage_documents),
]


def test_the_action_against_a_malformed_server(proxy, artifacts, make_runner):
    """The entrypoint as the runner starts it: a step that succeeds sets true outputs; one
    that fails ends in one ``::error`` line naming the resource, with no output and no
    traceback."""
    editors: dict[str, ResponseEditor] = {}
    proxy.edit_response = by_artifact(editors)

    def attempt(case) -> tuple[Run, list[str]]:
        backend, name, label, editor = case
        operation = BY_NAME[name]
        store, state = artifacts(backend, operation)
        editors[store.name] = editor
        runner = make_runner(**KNOBS)
        run = Run(operation, store, label, state, runner.workspace, via="action")
        run_action(run, proxy.url, runner)
        return run, judge(run, proxy.url)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        judged = list(pool.map(attempt, ACTION_CASES))
    proxy.edit_response = None
    report = _report(judged)
    assert not report, "\n".join(report)
