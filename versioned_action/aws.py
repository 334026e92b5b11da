"""Build botocore clients for any S3-compatible endpoint; one place for region, endpoint and
timeout rules.

Region rule: with no S3 endpoint configured the region must look like an AWS region
(``us-east-1``, ``eu-central-1``, ``us-gov-west-1``); with one, any short name an S3 clone
uses for signing is accepted (``auto``, ``garage``, ``nyc3``, ``fr-par``). Endpoints must be
``http(s)://host[:port][/path]`` with no spaces, credentials, query or fragment.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import ipaddress
import os
import re
import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .aws_failures import REQUEST_PARAMS
from .errors import InvalidEnvironment, InvalidInput

if TYPE_CHECKING:
    from botocore.awsrequest import AWSResponse
    from botocore.client import BaseClient
    from botocore.session import Session

    class S3Client(BaseClient):
        """An S3 client as botocore builds it: BaseClient plus the operations we call, each
        taking keyword arguments only and answering a parsed response."""

        def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...
        def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...
        def copy_object(self, **kwargs: Any) -> dict[str, Any]: ...
        def create_bucket(self, **kwargs: Any) -> dict[str, Any]: ...
        def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...
        def delete_object(self, **kwargs: Any) -> dict[str, Any]: ...
        def delete_objects(self, **kwargs: Any) -> dict[str, Any]: ...
        def get_object(self, **kwargs: Any) -> dict[str, Any]: ...
        def get_object_tagging(self, **kwargs: Any) -> dict[str, Any]: ...
        def head_bucket(self, **kwargs: Any) -> dict[str, Any]: ...
        def head_object(self, **kwargs: Any) -> dict[str, Any]: ...
        def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]: ...
        def put_object(self, **kwargs: Any) -> dict[str, Any]: ...
        def upload_part(self, **kwargs: Any) -> dict[str, Any]: ...
        def upload_part_copy(self, **kwargs: Any) -> dict[str, Any]: ...


DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
DEFAULT_MAX_ATTEMPTS = 3
MAX_BACKOFF = 20.0  # botocore's cap on one retry delay (standard mode)
_AWS_REGION = re.compile(r"[a-z]{2,}(-[a-z]+)+-\d{1,2}")
_OTHER_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_HOST_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_KEPT_PARAMS = ("Bucket", "Key", "CopySource", "Prefix")
S3_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
# The caller's botocore session that repositories built inside ``client_session`` take their
# credentials and default region from (None: botocore's default chain, as for the action).
_SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "versioned_session", default=None
)
_Number = TypeVar("_Number", int, float)


def botocore_session(session: object) -> Session:
    """The botocore session behind ``session``: a boto3 ``Session`` or a botocore one."""
    inner = getattr(session, "_session", None)  # where a boto3 Session keeps its botocore one
    # boto3 ships no types: what is not a boto3 Session is taken to be a botocore one
    return cast("Session", session if inner is None else inner)


@contextlib.contextmanager
def client_session(session: object) -> Iterator[None]:
    """Repositories built inside take their clients' credentials (and, when none is given,
    their region) from ``session``, a boto3 or botocore session; None changes nothing."""
    token = _SESSION.set(None if session is None else botocore_session(session))
    try:
        yield
    finally:
        _SESSION.reset(token)


def session_credentials(session: Session | None) -> dict[str, str | None]:
    """A botocore session's current credentials, as PynamoDB takes them ({} with none)."""
    found = None if session is None else session.get_credentials()
    if found is None:
        return {}
    frozen = found.get_frozen_credentials()
    keys = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key}
    return keys | ({"aws_session_token": frozen.token} if frozen.token else {})


def endpoint_problem(value: str) -> str | None:
    """Why ``value`` is not a usable ``http(s)://`` endpoint URL, or None when it is."""
    if not value.isascii() or any(ch.isspace() or not ch.isprintable() for ch in value):
        return f"{value!r} must be one URL without spaces, line breaks or non-ASCII characters"
    try:
        parts = urllib.parse.urlsplit(value)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a malformed [IPv6] host or a port that is no number 0..65535
        return f"{value!r} is not a URL with a valid host and port"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{value!r} must start with http:// or https://"
    if parts.username is not None or parts.password is not None:
        return f"{value!r} must not carry credentials (user:password@)"
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return f"{value!r} must not have a query or a fragment"
    if not host:
        return f"{value!r} has no host"
    if not _valid_host(host):
        return f"{value!r}: {host!r} is not a host name or IP address"
    if port == 0 or (port is None and ":" in parts.netloc.rpartition("]")[2]):
        return f"{value!r}: the port must be a number 1..65535"
    return None


def _valid_host(host: str) -> bool:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in host.split("."))


def region_problem(region: str, custom_endpoint: bool) -> str | None:
    """Why ``region`` is not a region name (AWS-shaped unless an endpoint is configured)."""
    if custom_endpoint:
        if _OTHER_REGION.fullmatch(region):
            return None
        return f"{region!r} is not a region name (letters, digits, '-', '_', '.'; at most 63)"
    if _AWS_REGION.fullmatch(region):
        return None
    return f"{region!r} is not an AWS region name like us-east-1 or eu-central-1"


def check_endpoint(value: str, field: str = "endpoint-url") -> str:
    """``value`` if it is a usable endpoint URL; else InvalidInput naming ``field``."""
    problem = endpoint_problem(value)
    if problem:
        raise InvalidInput(field, problem)
    return value


def check_region(value: str, custom_endpoint: bool, field: str = "aws-region") -> str:
    """``value`` if it is a region name (see :func:`region_problem`); else InvalidInput."""
    problem = region_problem(value, custom_endpoint)
    if problem:
        raise InvalidInput(field, problem)
    return value


def resolve_endpoint(service: str, explicit: str | None) -> str | None:
    """Explicit URL, else ``AWS_ENDPOINT_URL_<SERVICE>``, else ``AWS_ENDPOINT_URL``, else AWS."""
    if explicit:
        return check_endpoint(explicit)
    for variable in (f"AWS_ENDPOINT_URL_{service.upper()}", "AWS_ENDPOINT_URL"):
        value = os.environ.get(variable)
        if value:
            problem = endpoint_problem(value)
            if problem:
                raise InvalidEnvironment(variable, problem)
            return value
    return None


def resolve_region(explicit: str | None, custom_endpoint: bool = False) -> str:
    """Explicit region, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``; one is required."""
    if explicit:
        return check_region(explicit, custom_endpoint)
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = os.environ.get(variable)
        if value:
            problem = region_problem(value, custom_endpoint)
            if problem:
                raise InvalidEnvironment(variable, problem)
            return value
    raise InvalidInput(
        "aws-region", "no region given; set aws-region, AWS_REGION or AWS_DEFAULT_REGION"
    )


def env_number(
    variable: str, default: _Number, kind: type[_Number], low: _Number, high: _Number
) -> _Number:
    """A number from the environment within [low, high]; the default when unset or blank."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    value: _Number | None
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # also refuses nan
        unit = "a whole number" if kind is int else "a number of seconds"
        raise InvalidEnvironment(variable, f"{raw!r} is not {unit} in {low}..{high}")
    return value


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """botocore ``provide-client-params``: keep what names the resource, for AccessDenied."""
    kept = {k: params[k] for k in _KEPT_PARAMS if k in params}
    objects = (params.get("Delete") or {}).get("Objects") or []
    if objects and "Key" in objects[0]:
        kept["Key"] = objects[0]["Key"]
    kept["Region"] = context.get("client_region")
    context[REQUEST_PARAMS] = kept


def _attach_params(
    http_response: AWSResponse, parsed: object, context: dict[str, Any], **_: Any
) -> None:
    """botocore ``after-call``: put the kept params into an error response (-> ClientError)."""
    if http_response.status_code >= 300 and isinstance(parsed, dict):
        parsed[REQUEST_PARAMS] = context.get(REQUEST_PARAMS, {})


@dataclasses.dataclass(frozen=True)
class AwsSettings:
    """Region, endpoints, timeouts and the retry budget, resolved once; clients use these."""

    region: str
    s3_endpoint: str | None
    dynamodb_endpoint: str | None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT  # seconds to open a connection
    read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds to wait for the next bytes
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # per request, the first one included
    # the botocore session clients are built from (``client_session``); None: a new one each
    session: Session | None = dataclasses.field(default=None, compare=False, repr=False)

    @classmethod
    def resolve(cls, region: str | None = None, endpoint_url: str | None = None) -> AwsSettings:
        """From the arguments and the environment (``AWS_REGION``, ``AWS_ENDPOINT_URL*``,
        ``VERSIONED_CONNECT_TIMEOUT``, ``VERSIONED_READ_TIMEOUT``, ``VERSIONED_MAX_ATTEMPTS``)
        and the session of an enclosing ``client_session``."""
        session = _SESSION.get()
        if session is not None and not region:
            region = session.get_config_variable("region")
        s3_endpoint = resolve_endpoint("s3", endpoint_url)
        return cls(
            session=session,
            region=resolve_region(region, custom_endpoint=s3_endpoint is not None),
            s3_endpoint=s3_endpoint,
            dynamodb_endpoint=resolve_endpoint("dynamodb", endpoint_url),
            connect_timeout=env_number(
                "VERSIONED_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, float, 0.1, 300
            ),
            read_timeout=env_number(
                "VERSIONED_READ_TIMEOUT", DEFAULT_READ_TIMEOUT, float, 0.1, 900
            ),
            max_attempts=env_number("VERSIONED_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, int, 1, 10),
        )

    def retry_budget(self) -> float:
        """Longest a request to an endpoint that accepts connections but never answers takes
        to fail: every attempt waits out both timeouts, plus the longest retry delays."""
        waits = self.max_attempts * (self.connect_timeout + self.read_timeout)
        return waits + sum(min(2.0**i, MAX_BACKOFF) for i in range(self.max_attempts - 1))

    def s3_client(self, max_pool: int = 16, max_attempts: int | None = None) -> S3Client:
        """An S3 client; off AWS, checksums only where required so any S3 clone accepts uploads.
        ``max_attempts`` overrides the retry budget (1: each request is sent once)."""
        # botocore itself: boto3's session would also import s3transfer, which we never use
        import botocore.session
        from botocore.config import Config

        options: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retries": {
                "mode": "standard",
                "total_max_attempts": max_attempts or self.max_attempts,
            },
            "max_pool_connections": max_pool,
        }
        if self.s3_endpoint:
            options.update(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
            )
        session = self.session or botocore.session.Session()
        client = session.create_client(
            "s3",
            region_name=self.region,
            endpoint_url=self.s3_endpoint,
            config=Config(**options),
        )
        client.meta.events.register("provide-client-params.s3", _remember_params)
        client.meta.events.register("after-call.s3", _attach_params)
        # botocore adds the operations at run time, from the service model
        return cast("S3Client", client)
