"""Build boto3 clients for any S3-compatible endpoint; one place for region and endpoint rules."""

from __future__ import annotations

import dataclasses
import os

import boto3
from botocore.config import Config

from .errors import InvalidInput


def resolve_endpoint(service: str, explicit: str | None) -> str | None:
    """Explicit URL, else ``AWS_ENDPOINT_URL_<SERVICE>``, else ``AWS_ENDPOINT_URL``, else AWS."""
    for value in (
        explicit,
        os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}"),
        os.environ.get("AWS_ENDPOINT_URL"),
    ):
        if value:
            if not value.startswith(("http://", "https://")):
                raise InvalidInput("endpoint-url", f"{value!r} must start with http:// or https://")
            return value
    return None


def resolve_region(explicit: str | None) -> str:
    region = explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise InvalidInput(
            "aws-region", "no region given; set aws-region, AWS_REGION or AWS_DEFAULT_REGION"
        )
    return region


@dataclasses.dataclass(frozen=True)
class AwsSettings:
    """Region and endpoints, resolved once; clients are built from these."""

    region: str
    s3_endpoint: str | None
    dynamodb_endpoint: str | None

    @classmethod
    def resolve(cls, region: str | None = None, endpoint_url: str | None = None) -> AwsSettings:
        return cls(
            region=resolve_region(region),
            s3_endpoint=resolve_endpoint("s3", endpoint_url),
            dynamodb_endpoint=resolve_endpoint("dynamodb", endpoint_url),
        )

    def s3_client(self, max_pool: int = 16):
        """An S3 client; off AWS, checksums only where required so any S3 clone accepts uploads."""
        options: dict = {
            "retries": {"mode": "standard", "max_attempts": 5},
            "max_pool_connections": max_pool,
        }
        if self.s3_endpoint:
            options.update(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
            )
        return boto3.session.Session().client(
            "s3",
            region_name=self.region,
            endpoint_url=self.s3_endpoint,
            config=Config(**options),
        )
