"""AWS failures become typed errors by their code, each naming the resource at fault."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from pynamodb.exceptions import GetError

from versioned_action import errors


def client_error(code: str, operation: str = "PutObject") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "ignored text"}}, operation)


def pynamodb_error(code: str) -> GetError:
    return GetError("failed", cause=client_error(code, "GetItem"))


@pytest.mark.parametrize(
    ("err", "kind", "named"),
    [
        (client_error("NoSuchBucket"), errors.BucketNotFound, "bkt"),
        (client_error("AccessDenied"), errors.AccessDenied, "bkt"),
        (client_error("InvalidAccessKeyId"), errors.AccessDenied, "bkt"),
        (client_error("ExpiredToken"), errors.AccessDenied, "bkt"),
        (client_error("PreconditionFailed"), errors.Conflict, "bkt"),
        (client_error("SlowDown"), errors.VersionedError, "bkt"),
        (pynamodb_error("ResourceNotFoundException"), errors.TableNotFound, "tbl"),
        (pynamodb_error("AccessDeniedException"), errors.AccessDenied, "tbl"),
        (pynamodb_error("ConditionalCheckFailedException"), errors.Conflict, "tbl"),
        (NoCredentialsError(), errors.AccessDenied, "credentials"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            errors.EndpointUnreachable,
            "127.0.0.1:1",
        ),
    ],
)
def test_translation_by_code(err, kind, named):
    translated = errors.translate(err, bucket="bkt", table="tbl")
    assert type(translated) is kind
    assert named in str(translated)
    assert isinstance(translated, errors.VersionedError)


def test_messages_are_never_parsed():
    """The same code with any message text maps the same way."""
    err = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "Not Found"}}, "GetObject")
    other = ClientError({"Error": {"Code": "NoSuchKey", "Message": "NoSuchBucket"}}, "GetObject")
    assert isinstance(errors.translate(err, bucket="b"), errors.BucketNotFound)
    assert not isinstance(errors.translate(other, bucket="b"), errors.BucketNotFound)


def test_every_error_tells_what_to_do():
    for error in (
        errors.BucketNotFound("b"),
        errors.TableNotFound("t"),
        errors.AccessDenied("bucket 'b'"),
        errors.AliasNotFound("a", "prod"),
        errors.HistoryNotFound("a", "prod"),
        errors.VersionNotFound("a", "3"),
    ):
        assert error.hint and error.hint in str(error)


def test_access_denied_from_a_real_server(moto_endpoint, monkeypatch):
    """moto's server checks credentials when asked to; a bad key becomes AccessDenied."""
    import requests  # moto[server] depends on it

    from versioned_action import AccessDenied, open_repository

    repo = open_repository(
        "s3", bucket="denied-bucket", endpoint_url=moto_endpoint, region="us-east-1"
    )
    repo.bootstrap()
    requests.post(f"{moto_endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        with pytest.raises(AccessDenied, match="denied-bucket"):
            repo.put_artifact("app", b"x")
    finally:
        requests.post(f"{moto_endpoint}/moto-api/reset-auth", data=b"10000000", timeout=10)
