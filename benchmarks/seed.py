"""Write an artifact with N versions straight into storage, in the layout both libraries read.

Publishing 10,000 versions one at a time would take hours against moto; direct writes take
a minute. ``s3``: an object per version at ``{prefix}/{name}/versions/{1000000-n}_{n}``
(six digits each) with the metadata ``artifact_name`` and ``artifact_sha256`` of its bytes,
and LATEST at ``000000_LATEST``. ``s3-dynamodb``: an item per version (``pk=name``,
``sk=000001``, ``update_at``, ``is_deleted``, ``sha256``, ``size``) and LATEST; objects
(``{prefix}/{name}/000001``) for LATEST and the newest versions only: listing, purging and
promoting read the items, and no older object.

Seeding runs outside every measurement; the measured list then checks the library reads
back exactly N versions.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

PREFIX = "versioned-artifacts"
NEWEST_OBJECTS = 10  # s3-dynamodb: versions that get an object besides their item
WORKERS = 16
BATCH = 25  # DynamoDB BatchWriteItem's limit
BATCH_ATTEMPTS = 10


class SeedError(RuntimeError):
    """Storage did not take a seeded write."""


def s3_key(backend: str, name: str, version: int | None) -> str:
    """Object key of a version (None: LATEST) in a backend's layout."""
    if backend == "s3":
        filename = (
            "000000_LATEST" if version is None else f"{1_000_000 - version:06d}_{version:06d}"
        )
        return f"{PREFIX}/{name}/versions/{filename}"
    return f"{PREFIX}/{name}/" + ("LATEST" if version is None else f"{version:06d}")


def body(name: str, version: int) -> bytes:
    return f"{name} version {version}\n".encode()


class Seeder:
    """Writes seeds with its own clients (created before any meter is installed)."""

    def __init__(self, endpoint: str, region: str = "us-east-1"):
        import boto3
        from botocore.config import Config

        config = Config(max_pool_connections=WORKERS * 2, retries={"mode": "standard"})
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)

    def bucket(self, bucket: str) -> None:
        self.s3.create_bucket(Bucket=bucket)

    def artifact(self, backend: str, bucket: str, table: str, name: str, versions: int) -> None:
        """``name`` with LATEST and versions 1..N (LATEST holds the bytes of N)."""
        if backend == "s3":
            numbers = range(1, versions + 1)
        else:
            numbers = range(max(1, versions - NEWEST_OBJECTS + 1), versions + 1)
        objects = [(s3_key(backend, name, n), body(name, n)) for n in numbers]
        objects.append((s3_key(backend, name, None), body(name, versions)))
        self._put_objects(bucket, name, objects)
        if backend == "s3-dynamodb":
            self._put_items(table, name, versions)

    def names(self, bucket: str, count: int) -> None:
        """``count`` artifacts named ``app-00000``.., each with a LATEST (``s3`` layout)."""
        objects = [
            (s3_key("s3", f"app-{i:05d}", None), body(f"app-{i:05d}", 1)) for i in range(count)
        ]
        self._put_objects(bucket, None, objects)

    def empty(self, bucket: str) -> None:
        """Delete every object of ``bucket`` (moto keeps them in memory and on disk)."""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})

    def _put_objects(self, bucket: str, name: str | None, objects: list[tuple[str, bytes]]):
        def put(item: tuple[str, bytes]) -> None:
            key, data = item
            artifact = name or key.split("/")[1]
            self.s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                Metadata={
                    "artifact_name": artifact,
                    "artifact_sha256": hashlib.sha256(data).hexdigest(),
                },
            )

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            list(pool.map(put, objects))

    def _put_items(self, table: str, name: str, versions: int) -> None:
        start = datetime.now(UTC) - timedelta(days=1)

        def item(sk: str, number: int) -> dict:
            data = body(name, number)
            when = start + timedelta(seconds=number)
            return {
                "pk": {"S": name},
                "sk": {"S": sk},
                "update_at": {"S": when.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
                "is_deleted": {"BOOL": False},
                "sha256": {"S": hashlib.sha256(data).hexdigest()},
                "size": {"N": str(len(data))},
            }

        items = [item(f"{n:06d}", n) for n in range(1, versions + 1)]
        items.append(item("LATEST", versions))
        batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda batch: self._write_batch(table, batch), batches))

    def _write_batch(self, table: str, batch: list[dict]) -> None:
        requests = [{"PutRequest": {"Item": item}} for item in batch]
        for _ in range(BATCH_ATTEMPTS):
            response = self.dynamodb.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                return
        raise SeedError(f"table {table}: {len(requests)} items unwritten after retries")
