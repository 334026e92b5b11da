"""One vocabulary of measured operations, done by this project's library and by the peer.

A step is ``{"op": ..., "args": {...}}``; both classes answer every op with the same short
outcome (``{"version": ...}`` or ``{"count": ...}``) so a benchmark can check that a call did
what it claims before it trusts the count. ``content`` is small text; ``path`` a local file.

The peer has no put-and-publish and no newest-version call: it does put then publish, and
reads the newest number (``s3``) or lists the versions (``s3-dynamodb``) before the alias.
"""

from __future__ import annotations

from pathlib import Path

OPERATIONS = (
    "put",
    "publish",
    "put_and_publish",
    "put_alias",
    "get_alias",
    "list_versions",
    "promote_newest",
    "get_version",
    "download",
    "purge",
    "list_names",
    "rollback",
    "history",
    "delete_alias",
)


def _content(args: dict) -> bytes | Path:
    return args["content"].encode() if "content" in args else Path(args["path"])


class _Operations:
    def run(self, op: str, args: dict) -> dict:
        if op not in OPERATIONS:
            raise ValueError(f"unknown operation {op!r}")
        return getattr(self, op)(**args)


class Ours(_Operations):
    """The operations through ``versioned_action``'s public repository API."""

    def __init__(self, repo):
        self.repo = repo

    def put(self, name, content=None, path=None):
        artifact = self.repo.put_artifact(name, _content({"content": content, "path": path}))
        return {"version": artifact.version, "changed": artifact.changed}

    def publish(self, name):
        return {"version": self.repo.publish_artifact_version(name).version}

    def put_and_publish(self, name, content=None, path=None):
        source = _content({"content": content, "path": path})
        _, version = self.repo.put_and_publish(name, source)
        return {"version": version.version}

    def put_alias(self, name, alias, version, secondary_version=None, weight=None):
        result = self.repo.put_alias(
            name,
            alias,
            version,
            secondary_version=secondary_version,
            secondary_version_weight=weight,
        )
        return {"version": result.version}

    def get_alias(self, name, alias):
        return {"version": self.repo.get_alias(name, alias).version}

    def list_versions(self, name):
        return {"count": len(self.repo.list_artifact_versions(name))}

    def promote_newest(self, name, alias):
        newest = self.repo.get_newest_version_number(name)
        return {"version": self.repo.put_alias(name, alias, newest).version}

    def get_version(self, name, version):
        return {"version": self.repo.get_artifact_version(name, version).version}

    def download(self, name, version, path):
        return {"version": self.repo.download_artifact(name, Path(path), version).version}

    def purge(self, name, keep, older_than):
        result = self.repo.purge_artifact_versions(
            name, keep_last_n=keep, purge_older_than_secs=older_than
        )
        return {"count": len(result.deleted)}

    def list_names(self):
        return {"count": len(self.repo.list_artifact_names())}

    def rollback(self, name, alias):
        """As the action's rollback runs it: the alias and the entry it restored."""
        result, _restored = self.repo.rollback_restoring(name, alias)
        return {"version": result.version}

    def history(self, name, alias, limit=20):
        return {"count": len(self.repo.get_alias_history(name, alias, limit))}

    def delete_alias(self, name, alias):
        return {"deleted": self.repo.delete_alias(name, alias).new is None}


class Peer(_Operations):
    """The same operations through ``versioned==1.0.1`` (``bsm`` by keyword: its two backends
    put it first and last)."""

    def __init__(self, repo, bsm, backend: str):
        self.repo = repo
        self.bsm = bsm
        self.backend = backend

    def put(self, name, content=None, path=None):
        data = content.encode() if content is not None else Path(path).read_bytes()
        artifact = self.repo.put_artifact(bsm=self.bsm, name=name, content=data)
        return {"version": artifact.version}

    def publish(self, name):
        return {"version": self.repo.publish_artifact_version(bsm=self.bsm, name=name).version}

    def put_and_publish(self, name, content=None, path=None):
        self.put(name, content, path)
        return self.publish(name)

    def put_alias(self, name, alias, version, secondary_version=None, weight=None):
        result = self.repo.put_alias(
            bsm=self.bsm,
            name=name,
            alias=alias,
            version=version,
            secondary_version=secondary_version,
            secondary_version_weight=weight,
        )
        return {"version": str(result.version)}

    def get_alias(self, name, alias):
        return {"version": str(self.repo.get_alias(bsm=self.bsm, name=name, alias=alias).version)}

    def list_versions(self, name):
        return {"count": len(self.repo.list_artifact_versions(bsm=self.bsm, name=name))}

    def promote_newest(self, name, alias):
        if self.backend == "s3":
            newest = self.repo.get_latest_published_artifact_version_number(bsm=self.bsm, name=name)
        else:
            versions = self.repo.list_artifact_versions(bsm=self.bsm, name=name)
            newest = next(a.version for a in versions if a.version != "LATEST")
        return self.put_alias(name, alias, str(newest))

    def get_version(self, name, version):
        artifact = self.repo.get_artifact_version(bsm=self.bsm, name=name, version=version)
        return {"version": str(artifact.version)}

    def download(self, name, version, path):
        artifact = self.repo.get_artifact_version(bsm=self.bsm, name=name, version=version)
        Path(path).write_bytes(artifact.get_content(bsm=self.bsm))
        return {"version": str(artifact.version)}

    def purge(self, name, keep, older_than):
        _, deleted = self.repo.purge_artifact_versions(
            bsm=self.bsm, name=name, keep_last_n=keep, purge_older_than_secs=older_than
        )
        return {"count": len(deleted)}

    def list_names(self):
        return {"count": len(self.repo.list_artifact_names(bsm=self.bsm))}

    def rollback(self, name, alias):
        raise NotImplementedError("versioned 1.x has no alias history, so no rollback")

    def history(self, name, alias, limit=20):
        raise NotImplementedError("versioned 1.x keeps no alias history")

    def delete_alias(self, name, alias):
        self.repo.delete_alias(bsm=self.bsm, name=name, alias=alias)
        return {"deleted": True}
