"""A caller's ``bsm`` as this project's repository: built from its session and region, cached
per session and settings; and :func:`translated`, which raises 1.x's exceptions."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar

from .. import DEFAULT_PREFIX, DEFAULT_TABLE, aws, open_repository
from ..errors import VersionedError
from ..repository import Repository
from . import exc

if TYPE_CHECKING:
    from botocore.session import Session

CACHE_SIZE = 16  # repositories kept, one per (session, settings)
_P = ParamSpec("_P")
_R = TypeVar("_R")


class SessionManager(Protocol):
    """A ``bsm``: a ``boto_session_manager.BotoSesManager``, or any object with these two
    attributes (boto_session_manager is no dependency of this project)."""

    @property
    def boto_ses(self) -> object: ...  # a boto3 Session (boto3 ships no types)

    @property
    def aws_region(self) -> str | None: ...


Bsm = SessionManager | None  # None: botocore's default credential chain and region


_cache: OrderedDict[tuple[object, ...], tuple[Session | None, Repository]] = OrderedDict()
_cache_lock = threading.Lock()


def session_of(bsm: Bsm) -> Session | None:
    """The botocore session of a BotoSesManager (its ``boto_ses``), of a boto3 or botocore
    session passed as ``bsm``, or None for ``bsm=None`` (the default credential chain)."""
    if bsm is None:
        return None
    return aws.botocore_session(getattr(bsm, "boto_ses", bsm))


def core_repository(
    backend: str,
    bsm: Bsm,
    *,
    bucket: str,
    prefix: str = DEFAULT_PREFIX,
    suffix: str = "",
    table: str = DEFAULT_TABLE,
    region: str | None = None,
) -> Repository:
    """This project's repository with these settings, its clients built from ``bsm``'s
    session and region; one per session and settings, so a loop of calls builds them once."""
    session = session_of(bsm)
    region = (
        getattr(bsm, "aws_region", None)
        or (session.get_config_variable("region") if session is not None else None)
        or region
    )
    settings = (bucket, prefix, suffix, table, region)
    # PynamoDB takes fixed keys: a session whose credentials were refreshed gets a new one
    keys = aws.session_credentials(session) if backend == "s3-dynamodb" else {}
    key = (backend, id(session), settings, tuple(sorted(keys.items())))
    with _cache_lock:
        held = _cache.get(key)
        if held is not None and held[0] is session:
            _cache.move_to_end(key)
            return held[1]
    with aws.client_session(session):
        repo = open_repository(
            backend, bucket=bucket, prefix=prefix, suffix=suffix, table=table, region=region
        )
    with _cache_lock:
        _cache[key] = (session, repo)  # holding the session keeps its id from being reused
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return repo


def translated(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Raise 1.x's exception classes (:mod:`.exc`) for this project's errors, chained."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except VersionedError as err:
            theirs = exc.translate(err)
            if theirs is err:
                raise
            raise theirs from err

    return wrapper
