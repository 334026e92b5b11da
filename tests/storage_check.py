"""Storage invariants, read straight from moto (plain boto3) and through the library's API.

A :class:`Store` is one artifact in a bucket (and table) on the moto server. ``snapshot``
takes what a user sees of it (every readable version's bytes, every alias's target);
``problems(store, before=...)`` lists every broken invariant:

- every version object's ``artifact_sha256`` metadata is the sha256 of its bytes;
- the library reports, for LATEST and every visible version, the sha256 of the object's bytes
  (``s3-dynamodb`` may repair a stale record as it reads: that is allowed), and every visible
  version record has its object;
- the visible version numbers are 1..N without a gap (unless told otherwise);
- every alias points at visible versions;
- an alias that differs from ``before`` has history: ``rollback(dry_run=True)`` names its
  configuration in ``before`` (or, for an alias ``before`` lacked, its newest history entry
  set it from nothing).

Below them: the prepared states and the steps the fault and crash tests run on them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re

import boto3
from botocore.config import Config

from versioned_action import LATEST, AliasTarget, VersionedError, open_repository

META_SHA256 = "artifact_sha256"
_S3_VERSION = re.compile(r"(\d{6})_(LATEST|\d{6})")
_DYNAMODB_VERSION = re.compile(r"LATEST|\d{6}")


@dataclasses.dataclass(frozen=True)
class Store:
    """One artifact's storage: a bucket (and table) on the moto server, and its name."""

    backend: str
    endpoint: str  # moto itself, never the fault proxy
    bucket: str
    table: str
    name: str = "app"
    prefix: str = "artifacts"

    def repo(self, endpoint: str | None = None):
        """A new repository of the library, over moto (or ``endpoint``, e.g. the proxy)."""
        return open_repository(
            self.backend,
            bucket=self.bucket,
            table=self.table,
            prefix=self.prefix,
            endpoint_url=endpoint or self.endpoint,
            region="us-east-1",
        )

    @property
    def direct(self):
        """A repository over moto, shared by the stores of one bucket (building one is slow)."""
        return self.shared(self.endpoint)

    def shared(self, endpoint: str):
        """A repository over ``endpoint``, shared by the stores of one bucket and table."""
        return _shared_repo(self.backend, endpoint, self.bucket, self.table, self.prefix)

    def client(self, service: str):
        return _client(service, self.endpoint)


@functools.lru_cache(maxsize=8)
def _shared_repo(backend: str, endpoint: str, bucket: str, table: str, prefix: str):
    return Store(backend, endpoint, bucket, table, prefix=prefix).repo()


@functools.lru_cache(maxsize=4)
def _client(service: str, endpoint: str):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )


@dataclasses.dataclass
class State:
    """What a user sees of an artifact: sha256 of each readable version, alias targets."""

    versions: dict[str, str]
    aliases: dict[str, AliasTarget]

    def numbered(self) -> list[int]:
        return sorted(int(v) for v in self.versions if v != LATEST)


@dataclasses.dataclass
class _Raw:
    objects: dict[str, tuple[str, str | None]]  # version -> (sha256 of bytes, metadata sha256)
    visible: set[str]  # versions a record makes visible
    aliases: dict[str, AliasTarget]
    orphans: list[str]  # visible versions without an object

    @property
    def readable(self) -> set[str]:
        """What a reader may ask for: visible versions, and LATEST wherever its object is."""
        return self.visible | ({LATEST} & set(self.objects))


def _read_object(s3, bucket: str, key: str) -> tuple[str, str | None]:
    response = s3.get_object(Bucket=bucket, Key=key)
    body = response["Body"].read()
    return hashlib.sha256(body).hexdigest(), (response.get("Metadata") or {}).get(META_SHA256)


def _keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [obj["Key"] for obj in page.get("Contents", [])]
    return keys


def _plain(value) -> str | None:
    return None if value is None else (LATEST if value == LATEST else str(int(value)))


def _target(version, secondary, weight) -> AliasTarget:
    return AliasTarget(_plain(version), _plain(secondary), None if weight is None else int(weight))


def _query(table, store: Store, pk: str) -> list[dict]:
    items = []
    for page in table.get_paginator("query").paginate(
        TableName=store.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    ):
        items += page["Items"]
    return items


def _read_raw(store: Store, *, contents: bool = True) -> _Raw:
    """What is stored, read from moto; without ``contents`` no object is read (nor hashed)."""
    s3 = store.client("s3")

    def read(key: str) -> tuple[str, str | None]:
        return _read_object(s3, store.bucket, key) if contents else ("", None)

    root = "/".join(p for p in (store.prefix, store.name) if p) + "/"
    raw = _Raw({}, set(), {}, [])
    for key in _keys(s3, store.bucket, root):
        tail = key[len(root) :]
        if store.backend == "s3":
            folder, _, filename = tail.partition("/")
            match = _S3_VERSION.fullmatch(filename)
            if folder == "versions" and match:
                version = _plain(match[2])
                raw.objects[version] = read(key)
                raw.visible.add(version)
            elif folder == "aliases" and filename.endswith(".json") and "/" not in filename:
                document = json.loads(s3.get_object(Bucket=store.bucket, Key=key)["Body"].read())
                raw.aliases[filename[: -len(".json")]] = _target(
                    document["version"],
                    document.get("secondary_version"),
                    document.get("secondary_version_weight"),
                )
        elif _DYNAMODB_VERSION.fullmatch(tail):
            raw.objects[_plain(tail)] = read(key)
    if store.backend == "s3-dynamodb":
        table = store.client("dynamodb")
        for item in _query(table, store, store.name):
            if _DYNAMODB_VERSION.fullmatch(item["sk"]["S"]) and not item.get("is_deleted", {}).get(
                "BOOL", False
            ):
                raw.visible.add(_plain(item["sk"]["S"]))
        for item in _query(table, store, f"__{store.name}-alias"):
            raw.aliases[item["sk"]["S"]] = _target(
                item["version"]["S"],
                item.get("secondary_version", {}).get("S"),
                item.get("secondary_version_weight", {}).get("N"),
            )
        raw.orphans = sorted(raw.visible - set(raw.objects), key=str)
    return raw


def _state(raw: _Raw) -> State:
    versions = {v: raw.objects[v][0] for v in raw.readable if v in raw.objects}
    return State(versions, dict(raw.aliases))


def snapshot(store: Store) -> State:
    """Every readable version (sha256 of its bytes) and every alias target, read from moto."""
    return _state(_read_raw(store))


def problems(store: Store, *, before: State | None = None, dense: bool = True) -> list[str]:
    """Every broken invariant of the stored artifact (empty when all hold)."""
    return examine(store, before=before, dense=dense)[0]


def examine(
    store: Store, *, before: State | None = None, dense: bool = True
) -> tuple[list[str], State]:
    """Every broken invariant, and the state they were checked on."""
    repo, name = store.direct, store.name
    found: list[str] = []
    reported: dict[str, str] = {}
    listed = _read_raw(store, contents=False)
    for version in sorted(listed.readable):  # through the library first: it may repair
        try:
            reported[version] = repo.get_artifact_version(name, version).sha256
        except VersionedError as err:
            found.append(f"version {version}: the library cannot read it: {err}")
    raw = _read_raw(store)
    for version, (digest, recorded) in sorted(raw.objects.items()):
        if recorded != digest:
            found.append(
                f"version {version}: object metadata {META_SHA256}={_label(recorded)}, "
                f"its bytes are {_label(digest)}"
            )
    found += [f"version {v}: a visible record without its S3 object" for v in raw.orphans]
    for version, digest in sorted(reported.items()):
        actual = raw.objects.get(version, (None,))[0]
        if actual is not None and digest != actual:
            found.append(
                f"version {version}: the library reports sha256 {_label(digest)}, "
                f"its bytes are {_label(actual)}"
            )
    numbers = sorted(int(v) for v in raw.visible if v != LATEST)
    if dense and numbers != list(range(1, len(numbers) + 1)):
        found.append(f"visible versions {numbers} are not 1..{len(numbers)}")
    for alias, target in sorted(raw.aliases.items()):
        missing = [v for v in target.versions if v not in raw.visible]
        if missing:
            found.append(f"alias {alias} -> {target.describe()}: versions {missing} missing")
    if before is not None:
        found += _history_problems(repo, name, raw.aliases, before.aliases)
    return found, _state(raw)


def _history_problems(repo, name: str, now: dict, before: dict) -> list[str]:
    found = []
    for alias, target in sorted(before.items()):
        if alias not in now:
            found.append(f"alias {alias} (was {target.describe()}) disappeared")
    for alias, target in sorted(now.items()):
        old = before.get(alias)
        if old == target:
            continue
        where = f"alias {alias} moved {old.describe() if old else 'from nowhere'} -> "
        where += target.describe()
        try:
            if old is None:
                entries = repo.get_alias_history(name, alias, 1)
                if not entries or entries[0].new != target or entries[0].previous is not None:
                    found.append(f"{where}, but its history does not record that: {entries}")
                continue
            planned = repo.rollback(name, alias, dry_run=True).target
        except VersionedError as err:
            found.append(f"{where}, but rollback(dry_run=True) fails: {err}")
            continue
        if planned != old:
            found.append(f"{where}, but rollback(dry_run=True) would set {planned.describe()}")
    return found


def assert_consistent(store: Store, *, before: State | None = None, dense: bool = True) -> State:
    """Fail with every broken invariant; return the state when all hold."""
    found, state = examine(store, before=before, dense=dense)
    assert not found, "storage invariants broken:\n  " + "\n  ".join(found)
    return state


# ----- prepared repositories and the steps the fault tests run on them ------------------------

OLD = b"old build\n" * 300
NEW = b"new build\n" * 300


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(store: Store, state: str) -> None:
    """Bring a fresh artifact into a named state, fault-free (talking to moto directly)."""
    repo, name = store.direct, store.name
    repo.bootstrap()
    if state == "four":  # versions 1..4, prod -> 1
        for i in range(1, 5):
            repo.put_and_publish(name, f"db {i}".encode())
        repo.put_alias(name, "prod", 1)
        return
    repo.put_and_publish(name, OLD)  # "published": LATEST and 1 hold OLD
    if state == "published":
        return
    repo.put_artifact(name, NEW)  # "pending": LATEST holds NEW, not yet published
    if state == "pending":
        return
    repo.publish_artifact_version(name)  # "two": 1 holds OLD, 2 and LATEST hold NEW
    if state == "two":
        return
    repo.put_alias(name, "prod", 1)  # "prod1"
    if state == "prod1":
        return
    repo.put_alias(name, "prod", 2)  # "prod2": prod -> 2, its history says it was 1
    assert state == "prod2", state


@dataclasses.dataclass(frozen=True)
class StepCase:
    """One operation on a prepared repository and the outputs a fault-free run gives."""

    name: str
    state: str
    inputs: dict[str, str]  # action inputs besides the repository's
    outputs: dict[str, str]  # expected outputs (a subset of action.yml's)
    moves_alias: bool = False  # afterwards a rollback must restore the alias from before
    dense: bool = True

    def __str__(self) -> str:
        return self.name

    def action_inputs(self, store: Store, endpoint: str) -> dict[str, str]:
        """The step's inputs for the entrypoint, against ``store`` through ``endpoint``."""
        return {
            **self.inputs,
            "backend": store.backend,
            "bucket": store.bucket,
            "table": store.table,
            "prefix": store.prefix,
            "endpoint_url": endpoint,
            "name": store.name,
        }


STEP_CASES = {
    case.name: case
    for case in [
        StepCase(
            "put",
            "published",
            {"operation": "put", "path": "app.bin"},
            {"version": LATEST, "changed": "true", "sha256": sha(NEW), "size": str(len(NEW))},
        ),
        StepCase(
            "put-publish",
            "published",
            {"operation": "put", "path": "app.bin", "publish": "true"},
            {"version": "2", "changed": "true", "sha256": sha(NEW), "size": str(len(NEW))},
        ),
        StepCase(
            "publish",
            "pending",
            {"operation": "publish"},
            {"version": "2", "changed": "true", "sha256": sha(NEW)},
        ),
        StepCase(
            "promote",
            "prod1",
            {"operation": "promote", "alias": "prod", "version": "2"},
            {"version": "2", "changed": "true", "previous-version": "1", "secondary-version": ""},
            moves_alias=True,
        ),
        StepCase(
            "canary",
            "prod1",
            {
                "operation": "promote",
                "alias": "prod",
                "version": "1",
                "secondary_version": "2",
                "secondary_weight": "10",
            },
            {
                "version": "1",
                "changed": "true",
                "previous-version": "1",
                "secondary-version": "2",
                "secondary-weight": "10",
            },
            moves_alias=True,
        ),
        StepCase(
            "rollback",
            "prod2",
            {"operation": "rollback", "alias": "prod"},
            {"version": "1", "changed": "true", "previous-version": "2", "secondary-version": ""},
            moves_alias=True,
        ),
        StepCase(
            "get",
            "two",
            {"operation": "get", "version": "2", "path": "out/app.bin"},
            {"version": "2", "sha256": sha(NEW), "size": str(len(NEW))},
        ),
        StepCase(
            "purge",
            "four",
            {"operation": "purge", "keep_last": "1", "older_than": "0"},
            {"deleted-versions": '["3", "2"]', "changed": "true"},
            dense=False,
        ),
    ]
}


def _text(value) -> str:
    return "" if value is None else str(value)


def call_library(case: StepCase, store: Store, endpoint: str, workdir) -> dict[str, str]:
    """Run ``case`` through the library's API over ``endpoint``; return its result shaped
    like the action's outputs."""
    repo, name, inputs = store.shared(endpoint), store.name, case.inputs
    operation = inputs["operation"]
    if operation == "put":
        if inputs.get("publish") == "true":
            latest, result = repo.put_and_publish(name, NEW)
            changed = latest.changed or result.changed
        else:
            result = repo.put_artifact(name, NEW)
            changed = result.changed
        return _artifact_outputs(result, changed)
    if operation == "publish":
        result = repo.publish_artifact_version(name)
        return _artifact_outputs(result, result.changed)
    if operation in ("promote", "rollback"):
        if operation == "promote":
            secondary = inputs.get("secondary_version")
            weight = inputs.get("secondary_weight")
            alias = repo.put_alias(
                name,
                inputs["alias"],
                inputs["version"],
                secondary,
                None if weight is None else int(weight),
            )
        else:
            alias = repo.rollback(name, inputs["alias"])
        return {
            "version": alias.version,
            "changed": "true" if alias.changed else "false",
            "previous-version": _text(alias.previous.version if alias.previous else None),
            "secondary-version": _text(alias.secondary_version),
            "secondary-weight": _text(alias.secondary_version_weight),
        }
    if operation == "get":
        path = workdir / inputs["path"]
        result = repo.download_artifact(name, path, version=inputs["version"])
        outputs = _artifact_outputs(result, False)
        outputs["file-sha256"] = sha(path.read_bytes())
        return outputs
    if operation == "purge":
        purged = repo.purge_artifact_versions(
            name, keep_last_n=int(inputs["keep_last"]), purge_older_than_secs=0
        )
        deleted = [a.version for a in purged.deleted]
        return {"deleted-versions": json.dumps(deleted), "changed": _bool(bool(deleted))}
    raise ValueError(operation)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _artifact_outputs(artifact, changed: bool) -> dict[str, str]:
    return {
        "version": artifact.version,
        "changed": _bool(changed),
        "sha256": artifact.sha256,
        "size": _text(artifact.size),
    }


def output_mismatches(case: StepCase, outputs: dict[str, str]) -> list[str]:
    expected = dict(case.outputs)
    if case.inputs["operation"] == "get" and "file-sha256" in outputs:
        expected["file-sha256"] = sha(NEW)
    return [
        f"output {key}={outputs.get(key)!r}, a fault-free run gives {value!r}"
        for key, value in expected.items()
        if outputs.get(key) != value
    ]


def after_problems(case: StepCase, store: Store, before: State) -> list[str]:
    """What must hold after the step beyond the invariants: one rollback undoes an alias move."""
    if not case.moves_alias:
        return []
    alias = case.inputs["alias"]
    wanted = before.aliases[alias]
    try:
        undone = store.direct.rollback(store.name, alias)
    except VersionedError as err:
        return [f"a rollback after the step fails: {err}"]
    if undone.target != wanted:
        return [
            f"a rollback after the step sets {undone.target.describe()}, "
            f"not {wanted.describe()} (the configuration before the step)"
        ]
    return []


def _label(digest: str | None) -> str:
    """OLD, NEW or the start of a sha256, for messages."""
    if digest is None:
        return "None"
    return {sha(OLD): "OLD", sha(NEW): "NEW"}.get(digest, digest[:8])


def state_differences(actual: State, expected: State) -> list[str]:
    """How ``actual`` differs from ``expected`` (what a fault-free run leaves), for people."""
    found = []
    have = {v: _label(d) for v, d in actual.versions.items()}
    want = {v: _label(d) for v, d in expected.versions.items()}
    if have != want:
        found.append(f"versions {_sorted(have)}, a fault-free run leaves {_sorted(want)}")
    for alias in sorted(set(actual.aliases) | set(expected.aliases)):
        now, then = actual.aliases.get(alias), expected.aliases.get(alias)
        if now != then:
            found.append(
                f"alias {alias} -> {now.describe() if now else None}, "
                f"a fault-free run leaves {then.describe() if then else None}"
            )
    return found


def _sorted(versions: dict[str, str]) -> str:
    order = sorted(versions, key=lambda v: -1 if v == LATEST else int(v))
    return "{" + ", ".join(f"{v}: {versions[v]}" for v in order) + "}"


def step_problems(
    case: StepCase, store: Store, before: State, outputs: dict, expected_end: State | None
) -> tuple[list[str], State]:
    """Everything wrong after one run of ``case`` (outputs, invariants, end state compared with
    ``expected_end``, the undo of an alias move), and the end state before that undo."""
    found, end = examine(store, before=before, dense=case.dense)
    found = output_mismatches(case, outputs) + found
    if expected_end is not None:
        found += state_differences(end, expected_end)
    return found + after_problems(case, store, before), end
