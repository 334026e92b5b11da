"""Count AWS API calls through botocore's ``before-call`` event, for every client created."""

from __future__ import annotations

import collections
import contextlib

import botocore.session


@contextlib.contextmanager
def counting_requests():
    """Yield a Counter of ``service.Operation`` for every call made by clients created inside."""
    counter: collections.Counter = collections.Counter()
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name

        def count(model, **_):
            counter[f"{service}.{model.name}"] += 1

        client.meta.events.register("before-call", count)
        return client

    botocore.session.Session.create_client = create_client
    try:
        yield counter
    finally:
        botocore.session.Session.create_client = original


def watch(repo) -> collections.Counter:
    """Count the calls of an existing repository's clients (S3, and DynamoDB if it has one)."""
    counter: collections.Counter = collections.Counter()
    clients = [repo.s3, repo._s3_once]
    if hasattr(repo, "_connection"):
        models = (repo._Item, repo._Artifact, repo._Alias, repo._History)
        clients += [m._get_connection().connection.client for m in models]
        clients.append(repo._connection.client)
    for client in {id(c): c for c in clients}.values():
        service = client.meta.service_model.service_name

        def count(model, _service=service, **_):
            counter[f"{_service}.{model.name}"] += 1

        client.meta.events.register("before-call", count)
    return counter
