"""AWS failures become typed errors by their code, each naming the resource at fault."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from pynamodb.exceptions import GetError, PutError, QueryError, TableError, TransactWriteError

from versioned_action import aws_failures, errors


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
    translated = aws_failures.translate(err, bucket="bkt", table="tbl")
    assert type(translated) is kind
    assert named in str(translated)
    assert isinstance(translated, errors.VersionedError)


def test_messages_are_never_parsed():
    """The same code with any message text maps the same way."""
    err = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "Not Found"}}, "GetObject")
    other = ClientError({"Error": {"Code": "NoSuchKey", "Message": "NoSuchBucket"}}, "GetObject")
    assert isinstance(aws_failures.translate(err, bucket="b"), errors.BucketNotFound)
    assert not isinstance(aws_failures.translate(other, bucket="b"), errors.BucketNotFound)


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


# ----- unreachable endpoints, IAM actions and credentials -----------------------------------

ENDPOINT = "http://127.0.0.1:9/bkt/pre/app?x-id=GetObject"


@pytest.mark.parametrize(
    "err",
    [
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        GetError("failed", cause=ReadTimeoutError(endpoint_url=ENDPOINT)),
        PutError("failed", cause=ConnectTimeoutError(endpoint_url=ENDPOINT)),
    ],
)
def test_an_unreachable_endpoint_is_named(err):
    translated = aws_failures.translate(err, bucket="bkt", table="tbl")
    assert type(translated) is errors.EndpointUnreachable
    assert str(translated).startswith("http://127.0.0.1:9 ")
    assert "endpoint_url" in str(translated) and "VERSIONED_READ_TIMEOUT" in str(translated)


def s3_denied(operation: str, **params) -> ClientError:
    response = {"Error": {"Code": "AccessDenied"}, aws_failures.REQUEST_PARAMS: params}
    return ClientError(response, operation)


@pytest.mark.parametrize(
    ("operation", "params", "wanted"),
    [
        ("HeadObject", {"Key": "p/k"}, "s3:GetObject on arn:aws:s3:::bkt/p/k"),
        ("GetObject", {"Key": "p/k"}, "s3:GetObject on arn:aws:s3:::bkt/p/k"),
        ("ListObjectsV2", {"Prefix": "p/"}, "s3:ListBucket on arn:aws:s3:::bkt"),
        ("HeadBucket", {}, "s3:ListBucket on arn:aws:s3:::bkt"),
        ("PutObject", {"Key": "p/k"}, "s3:PutObject on arn:aws:s3:::bkt/p/k"),
        ("CreateMultipartUpload", {"Key": "p/k"}, "s3:PutObject on arn:aws:s3:::bkt/p/k"),
        ("UploadPart", {"Key": "p/k"}, "s3:PutObject on arn:aws:s3:::bkt/p/k"),
        ("CompleteMultipartUpload", {"Key": "p/k"}, "s3:PutObject on arn:aws:s3:::bkt/p/k"),
        (
            "UploadPartCopy",
            {"Key": "p/2", "CopySource": {"Bucket": "bkt", "Key": "p/L"}},
            "s3:PutObject on arn:aws:s3:::bkt/p/2 and s3:GetObject on arn:aws:s3:::bkt/p/L",
        ),
        (
            "CopyObject",
            {"Key": "p/2", "CopySource": "bkt/p/L%20x?versionId=1"},
            "s3:PutObject on arn:aws:s3:::bkt/p/2 and s3:GetObject on arn:aws:s3:::bkt/p/L x",
        ),
        ("DeleteObject", {"Key": "p/k"}, "s3:DeleteObject on arn:aws:s3:::bkt/p/k"),
        ("DeleteObjects", {"Key": "p/k"}, "s3:DeleteObject on arn:aws:s3:::bkt/p/k"),
        ("GetObjectTagging", {"Key": "p/k"}, "s3:GetObjectTagging on arn:aws:s3:::bkt/p/k"),
        ("PutObjectTagging", {"Key": "p/k"}, "s3:PutObjectTagging on arn:aws:s3:::bkt/p/k"),
        ("AbortMultipartUpload", {"Key": "p/k"}, "s3:AbortMultipartUpload on arn:aws:s3:::bkt/p/k"),
        ("PutObject", {"Key": "p/k", "Region": "cn-north-1"}, "on arn:aws-cn:s3:::bkt/p/k"),
    ],
)
def test_s3_access_denied_names_the_iam_action(operation, params, wanted):
    translated = aws_failures.translate(s3_denied(operation, Bucket="bkt", **params), bucket="bkt")
    assert type(translated) is errors.AccessDenied
    assert wanted in str(translated) and str(translated).startswith("access denied: ")
    assert '{"Effect": "Allow", "Action": ["s3:' in translated.hint


@pytest.mark.parametrize(
    ("err", "region", "wanted"),
    [
        (pynamodb_error("AccessDeniedException"), "eu-west-1", "dynamodb:GetItem on "),
        (
            PutError("x", cause=client_error("AccessDeniedException", "PutItem")),
            None,
            "dynamodb:PutItem on arn:aws:dynamodb:*:*:table/tbl",
        ),
        (
            TransactWriteError(
                "x", cause=client_error("AccessDeniedException", "TransactWriteItems")
            ),
            "us-east-1",
            "dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, "
            "dynamodb:ConditionCheckItem on arn:aws:dynamodb:us-east-1:*:table/tbl",
        ),
        (
            QueryError("x", cause=client_error("AccessDeniedException", "Query")),
            "us-gov-west-1",
            "dynamodb:Query on arn:aws-us-gov:dynamodb:us-gov-west-1:*:table/tbl",
        ),
        (
            TableError("x", cause=client_error("AccessDeniedException", "DescribeTable")),
            "us-east-1",
            "dynamodb:DescribeTable on arn:aws:dynamodb:us-east-1:*:table/tbl",
        ),
    ],
)
def test_dynamodb_access_denied_names_the_iam_action(err, region, wanted):
    translated = aws_failures.translate(err, bucket="bkt", table="tbl", region=region)
    assert type(translated) is errors.AccessDenied
    assert wanted in str(translated)
    assert "dynamodb:TransactWriteItems" not in str(translated)
    if region == "eu-west-1":
        assert "arn:aws:dynamodb:eu-west-1:*:table/tbl" in str(translated)


@pytest.mark.parametrize(
    "err",
    [
        NoCredentialsError(),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        GetError("failed", cause=NoCredentialsError()),
        client_error("ExpiredToken"),
        client_error("InvalidAccessKeyId"),
        pynamodb_error("UnrecognizedClientException"),
    ],
)
def test_credential_problems_point_at_configure_aws_credentials(err):
    translated = aws_failures.translate(err, bucket="bkt", table="tbl")
    assert type(translated) is errors.AccessDenied
    assert "aws-actions/configure-aws-credentials" in str(translated)
    assert "IAM" not in translated.hint and not translated.needs


def test_access_denied_without_a_known_operation_keeps_the_old_form():
    translated = aws_failures.translate(client_error("AccessDenied", "SomethingNew"), bucket="bkt")
    assert str(translated).startswith("access denied to S3 bucket 'bkt' (AccessDenied)")


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        (
            {"INPUT_LIMIT": "0", "INPUT_OPERATION": "history", "INPUT_ALIAS": "p"},
            "input limit: '0'",
        ),
        (
            {"INPUT_DRY-RUN": "yes", "INPUT_OPERATION": "promote", "INPUT_ALIAS": "p"},
            "input dry-run: 'yes'",
        ),
    ],
)
def test_an_input_error_names_the_input_once(inputs, said, capsys):
    from versioned_action.github import action

    environ = {"INPUT_BUCKET": "bucket-x", "INPUT_NAME": "app", **inputs}
    assert action.main(environ) == 1
    error = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")
    )
    assert said in error and "invalid" not in error
