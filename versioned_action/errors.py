"""One exception tree for every failure the library reports.

Every error is a :class:`VersionedError`; catch a branch to handle a kind of failure::

    VersionedError
    ├── InvalidInput (also ValueError)
    │   └── InvalidEnvironment
    ├── ResourceMissing
    │   └── BucketNotFound, TableNotFound
    ├── NotFound (also LookupError)
    │   └── ArtifactNotFound, VersionNotFound, AliasNotFound, HistoryNotFound
    ├── AccessDenied
    ├── EndpointUnreachable
    ├── Conflict
    ├── UnsupportedServer
    ├── MalformedResponse
    └── IntegrityError

:mod:`versioned_action.aws_failures` turns botocore and PynamoDB failures into these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .syntax import PYTHON, Syntax, input_hint, run_hint


class VersionedError(Exception):
    """Base of every error this project raises; ``hint`` tells the reader what to do.

    ``str(err)`` is the message and the hint, naming parameters and calls as Python code does
    (``version=3``, ``repo.put_alias("app", "prod")``); the action says them as a workflow
    step sets its inputs (``version: 3``), the CLI as its options (``--version 3``).

    >>> try:
    ...     repo.get_alias("app", "staging")
    ... except VersionedError as err:  # any failure of this library
    ...     print(type(err).__name__)
    AliasNotFound
    """

    # The hint, where inputs are placeholders (input_hint, run_hint) that render() says in a
    # front end's Syntax; str() in the library's.
    template = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.__dict__.get("hint"), str):  # ``hint = "..."`` in a class body
            cls.template = cls.__dict__["hint"]
            del cls.hint

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.template = hint

    @property
    def hint(self) -> str:
        """What to do about the error, with parameters and calls as Python code says them.

        >>> VersionNotFound("app", "9").hint
        "List the versions to see which exist (repo.list_artifact_versions('app'))"
        """
        return PYTHON.render(self.template)

    def render(self, syntax: Syntax = PYTHON) -> str:
        """The message and its hint, with inputs named in ``syntax`` (``str()``: Python's).

        >>> print(ArtifactNotFound("web", "s3://my-bucket").render())
        artifact 'web' not found in s3://my-bucket. Put it first (repo.put_artifact('web', content))
        """
        message = syntax.render(self._message(syntax))
        return f"{message}. {syntax.render(self.template)}" if self.template else message

    def _message(self, syntax: Syntax) -> str:
        return super().__str__()

    def __str__(self) -> str:
        return self.render()


class InvalidInput(VersionedError, ValueError):
    """A caller-supplied value is malformed; ``field`` names it, ``detail`` says what is wrong.

    Raised before anything is sent; it is also a :class:`ValueError`.

    >>> try:
    ...     repo.put_alias("app", "bad alias", version=1)
    ... except InvalidInput as err:
    ...     print(err.field, isinstance(err, ValueError))
    alias True
    """

    label = "invalid {field}: "
    names_input = True  # a front end names ``field`` as its input (InvalidEnvironment: no)

    def __init__(self, field: str, message: str, *, hint: str | None = None):
        super().__init__(self.label.format(field=field) + message, hint=hint)
        self.field = field
        self.detail = message

    def _message(self, syntax: Syntax) -> str:
        name = syntax.field(self.field) if self.names_input else None
        return f"{name}: {self.detail}" if name else super()._message(syntax)


class InvalidEnvironment(InvalidInput):
    """An environment variable this tool reads is malformed; ``field`` names the variable.

    An :class:`InvalidInput` whose message names the variable, not an input.

    >>> err = InvalidEnvironment("VERSIONED_READ_TIMEOUT", "'soon' is not a number of seconds")
    >>> print(err)
    invalid environment variable VERSIONED_READ_TIMEOUT: 'soon' is not a number of seconds
    """

    label = "invalid environment variable {field}: "
    names_input = False


class ResourceMissing(VersionedError):
    """The bucket or the table does not exist: :class:`BucketNotFound`, :class:`TableNotFound`.

    >>> issubclass(BucketNotFound, ResourceMissing), issubclass(TableNotFound, ResourceMissing)
    (True, True)
    """


class BucketNotFound(ResourceMissing):
    """The S3 bucket does not exist; ``bucket`` names it.

    >>> try:
    ...     open_repository("s3", bucket="no-such-bucket", region="us-east-1").list_artifact_names()
    ... except BucketNotFound as err:
    ...     print(err.bucket)
    no-such-bucket
    """

    template = f"Create it, or let this tool create it ({input_hint('create-resources', 'true')})"

    def __init__(self, bucket: str):
        super().__init__(f"S3 bucket {bucket!r} does not exist")
        self.bucket = bucket


class TableNotFound(ResourceMissing):
    """The DynamoDB table of the ``s3-dynamodb`` backend does not exist; ``table`` names it.

    >>> err = TableNotFound("versioned-artifacts")
    >>> print(err)
    DynamoDB table 'versioned-artifacts' does not exist. Create it, or let this tool create it
    (repo.bootstrap())
    """

    template = BucketNotFound.template

    def __init__(self, table: str):
        super().__init__(f"DynamoDB table {table!r} does not exist")
        self.table = table


class AccessDenied(VersionedError):
    """AWS refused a request; ``needs`` lists the (IAM actions, resource ARN) it requires.

    Also raised for missing, invalid or expired credentials; ``resource`` names what was refused.

    >>> needs = [(["s3:PutObject"], "arn:aws:s3:::my-bucket/app/LATEST")]
    >>> print(AccessDenied("S3 bucket 'my-bucket'", "AccessDenied", needs=needs))
    access denied: s3:PutObject on arn:aws:s3:::my-bucket/app/LATEST (AccessDenied). Check ...
    """

    template = (
        "Check the credentials in use and that their IAM policy allows this action on the "
        "resource (see the README's minimal IAM policy)"
    )

    def __init__(
        self,
        resource: str,
        detail: str = "",
        *,
        needs: Sequence[tuple[Sequence[str], str]] = (),
        hint: str | None = None,
    ):
        if needs:
            wanted = " and ".join(f"{', '.join(actions)} on {arn}" for actions, arn in needs)
            message = f"access denied: {wanted}"
        else:
            message = f"access denied to {resource}"
        super().__init__(message + (f" ({detail})" if detail else ""), hint=hint)
        self.resource = resource
        self.needs = tuple((tuple(actions), arn) for actions, arn in needs)


class EndpointUnreachable(VersionedError):
    """The S3 or DynamoDB endpoint did not connect or answer in time, or broke off a response.

    >>> err = EndpointUnreachable("http://127.0.0.1:9 could not be reached")
    >>> err.hint.startswith("Check endpoint_url")
    True
    """

    template = (
        f"Check {input_hint('endpoint-url')} (or AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, "
        "AWS_ENDPOINT_URL_DYNAMODB) and the network; VERSIONED_CONNECT_TIMEOUT, "
        "VERSIONED_READ_TIMEOUT (seconds) and VERSIONED_MAX_ATTEMPTS set how long each "
        "request waits"
    )


class NotFound(VersionedError, LookupError):
    """Base of the lookups that found nothing; it is also a :class:`LookupError`.

    >>> try:
    ...     repo.get_artifact_version("web")
    ... except NotFound as err:
    ...     print(type(err).__name__, isinstance(err, LookupError))
    ArtifactNotFound True
    """


class ArtifactNotFound(NotFound):
    """No artifact of that name was ever put; ``name`` names it.

    >>> try:
    ...     repo.get_artifact_version("web")
    ... except ArtifactNotFound as err:
    ...     print(err.name)
    web
    """

    def __init__(self, name: str, where: str):
        hint = f"Put it first ({run_hint('put', name=name)})"
        super().__init__(f"artifact {name!r} not found in {where}", hint=hint)
        self.name = name


class VersionNotFound(NotFound):
    """The artifact exists, but not that version; ``name`` and ``version`` name it.

    >>> try:
    ...     repo.get_artifact_version("app", 9)
    ... except VersionNotFound as err:
    ...     print(err.version)
    9
    """

    def __init__(self, name: str, version: str):
        hint = f"List the versions to see which exist ({run_hint('list', name=name)})"
        super().__init__(f"version {version} of artifact {name!r} not found", hint=hint)
        self.name = name
        self.version = version


class AliasNotFound(NotFound):
    """The artifact has no alias of that name; ``name`` and ``alias`` name it.

    >>> try:
    ...     repo.get_alias("app", "staging")
    ... except AliasNotFound as err:
    ...     print(err.alias)
    staging
    """

    def __init__(self, name: str, alias: str, why: str = "", *, hint: str | None = None):
        if hint is None:
            hint = f"Create it first ({run_hint('promote', name=name, alias=alias)})"
        super().__init__(f"alias {alias!r} of artifact {name!r} not found{why}", hint=hint)
        self.name = name
        self.alias = alias


class HistoryNotFound(NotFound):
    """A rollback found no earlier configuration of the alias to restore.

    >>> try:
    ...     repo.rollback("app", "prod")  # prod was created by its only recorded change
    ... except HistoryNotFound as err:
    ...     print(err.hint)
    Roll back to an explicit version instead (version=N)
    """

    template = f"Roll back to an explicit version instead ({input_hint('version', 'N')})"

    def __init__(self, name: str, alias: str, why: str = "has no recorded previous configuration"):
        super().__init__(f"alias {alias!r} of artifact {name!r} {why}")
        self.name = name
        self.alias = alias


class Conflict(VersionedError):
    """Someone else changed the resource between our read and our write.

    >>> try:
    ...     repo.put_alias("app", "prod", version=2, expected_version=2)
    ... except Conflict as err:
    ...     print(err)
    alias 'prod' of 'app' points at 1, not 2. Someone moved it meanwhile; check its state and retry
    """

    template = "Re-read the current state and retry"


class UnsupportedServer(VersionedError):
    """The S3 endpoint does not enforce what an operation needs to be safe on this backend.

    >>> err = UnsupportedServer("the S3 endpoint http://127.0.0.1:9000 does not enforce "
    ...                         "conditional writes")
    >>> err.hint
    "Use backend 's3-dynamodb': its records are conditional DynamoDB writes"
    """

    template = "Use backend 's3-dynamodb': its records are conditional DynamoDB writes"


class MalformedResponse(VersionedError):
    """The S3 or DynamoDB endpoint answered what neither API gives: a field this tool needs
    missing (an ETag, a listing's contents, an item's attributes), a record it cannot read (a
    document that is not JSON), a status or a body the API does not define.

    >>> err = MalformedResponse("the S3 endpoint http://127.0.0.1:9000 answered PutObject for "
    ...                         "s3://my-bucket/app/LATEST without an ETag")
    >>> err.hint.startswith("Check that the endpoint")
    True
    """

    template = (
        "Check that the endpoint implements the S3 (and DynamoDB) API as AWS does, and that "
        "nothing between this tool and it (a proxy, a gateway) changes its answers"
    )


class IntegrityError(VersionedError):
    """Downloaded bytes do not match the recorded sha256 or size.

    >>> err = IntegrityError("s3://my-bucket/versioned-artifacts/app/1 gave 1 bytes, not 2")
    >>> err.hint
    'The stored object was altered outside this tool; re-publish it'
    """

    template = "The stored object was altered outside this tool; re-publish it"
