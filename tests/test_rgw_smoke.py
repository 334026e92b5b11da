"""The Ceph RADOS Gateway of scripts/rgw answers S3 as botocore speaks it.

Part of the RGW tier (``--rgw``); VERSIONED_RGW_ENDPOINT (and its keys) names a running one.
"""

from __future__ import annotations

import uuid

import pytest
from rgw_server import s3_client

pytestmark = pytest.mark.rgw


@pytest.fixture
def s3(rgw):
    return s3_client(rgw)


@pytest.fixture
def bucket(s3):
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_create_bucket(s3):
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_put_get_round_trip(s3, bucket):
    body = bytes(range(256)) * 1000 + b"\r\n\0 end"
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/app.bin",
        Body=body,
        ContentType="application/octet-stream",
        Metadata={"origin": "smoke"},
    )
    got = s3.get_object(Bucket=bucket, Key="dir/app.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentLength"] == len(body)
    assert got["ContentType"] == "application/octet-stream"
    assert got["Metadata"] == {"origin": "smoke"}
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("dir/app.bin", len(body))]


def test_missing_key_is_404(s3, bucket):
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="absent")
