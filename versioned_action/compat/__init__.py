"""A drop-in for ``versioned.api`` (the ``versioned`` 1.x package) over this project.

``from versioned.api import s3_only_backend`` becomes
``from versioned_action.compat import s3_only_backend``; the repositories take the same
arguments, in the same order, and return results of the same shape, while every call runs
this project's repository (race-free publish, purge that spares aliased versions, alias
history). Clients are built from each call's ``bsm`` (a BotoSesManager, or anything with a
``boto_ses`` boto3 session and an ``aws_region``) and kept for the next call with it.

The examples in these docstrings run as written (the tests run them) with ``bsm`` a
``BotoSesManager(region_name="us-east-1")``, on a bucket ``my-bucket`` holding one artifact,
``app``, under the default prefix: versions 1 (``b"v1"``) and 2 (``b"v2"``), LATEST
(``b"v2"``), and the alias ``prod`` on version 1.
"""

from __future__ import annotations

from .. import DEFAULT_PREFIX, DEFAULT_TABLE, layout
from . import exc, s3_and_dynamodb_backend, s3_only_backend

DYNAMODB_TABLE_NAME = DEFAULT_TABLE
S3_PREFIX = DEFAULT_PREFIX
LATEST_VERSION = layout.LATEST
VERSION_ZFILL = layout.VERSION_WIDTH
METADATA_KEY_ARTIFACT_SHA256 = layout.META_SHA256

__all__ = [
    "DYNAMODB_TABLE_NAME",
    "LATEST_VERSION",
    "METADATA_KEY_ARTIFACT_SHA256",
    "S3_PREFIX",
    "VERSION_ZFILL",
    "exc",
    "s3_and_dynamodb_backend",
    "s3_only_backend",
]
