"""The publish protocol: snapshot LATEST (or a step's own bytes) as the next dense number.

Every prefix of a publish's writes leaves a valid state, and a retry after a lost answer or a
re-run after a crash finishes the job:

1. Claim the number (``s3-dynamodb`` only): a conditional create of a hidden item naming
   its owner (a random token per publish) and the time of the claim. A number is claimed
   only while every lower one is visible, so a claim never sits below a visible version:
   numbers stay dense. A claim whose owner died is taken over once its lease is over.
2. Create the version's object with ``If-None-Match``, its metadata carrying the same token.
   The key can be created once; whoever created it decides what the version holds.
3. Reveal the item with the sha256 and size of the object now at the key (``s3-dynamodb``).

A conditional write that fails tells us nothing by itself: the failure may answer a retry of
our own applied write. So each failure is followed by a read that asks "is it mine?": a
claim item naming our token is ours; an object carrying our token is our version. An object
someone else left under a number is revealed as it is (rolled forward) before we move on.

Where the endpoint does not enforce CopyObject's conditions (moto, Ceph RGW: see
:mod:`.server`), the copy can neither take a number nor prove what it copied. There the ``s3``
backend claims the number too (a conditional PutObject of a claim object, which those
endpoints enforce), so only the claim's holder writes the version's key; a step that put its
own bytes uploads them again as the version, and a publish of LATEST copies it with its
metadata and learns which bytes the copy took (:func:`copying.copy_snapshot`).
"""

from __future__ import annotations

import dataclasses
import os
import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from . import copying, layout
from .errors import ArtifactNotFound, Conflict, InvalidInput
from .models import Artifact, utc_now
from .transfer import KeyExists, ObjectInfo, SourceChanged

if TYPE_CHECKING:
    from .storage import Storage

PUBLISH_ATTEMPTS = 30  # conflicts with other publishers before giving up
WAIT_LIMIT = 600.0  # seconds a publish may spend waiting on other runs' claims in all
POLL = 0.25
DEFAULT_LEASE = 60.0
LEASE_VARIABLE = "VERSIONED_CLAIM_LEASE"


def claim_lease() -> float:
    """Seconds after which a claim of a publisher that died may be taken over."""
    raw = os.environ.get(LEASE_VARIABLE, "")
    if not raw:
        return DEFAULT_LEASE
    try:
        lease = float(raw)
    except ValueError:
        lease = -1.0
    if not 0 < lease <= 3600:
        raise InvalidInput(LEASE_VARIABLE, f"{raw!r} is not a number of seconds 0..3600")
    return lease


@dataclasses.dataclass(frozen=True)
class Claim:
    """A number a publisher has claimed and not yet revealed."""

    number: int
    owner: str | None  # None: a claim written before claims named their owner
    sha256: str
    claimed_at: datetime
    tag: str | None = None  # the stored claim's ETag, where a takeover is conditional on it


@dataclasses.dataclass(frozen=True)
class Tip:
    """The top of an artifact's version numbering, as publishing needs it."""

    newest: Artifact | None  # newest live published version
    highest: int  # highest number ever taken (live, deleted or claimed)
    claim: Claim | None = None  # the claim on ``highest``, when it is one


class Publication:
    """One publish of ``name``: from LATEST, or from the step's own bytes (``fallback``)."""

    def __init__(
        self,
        repo: Storage,
        name: str,
        *,
        expected_sha256: str | None = None,
        source: ObjectInfo | None = None,
        fallback: Callable[[str, dict[str, str]], ObjectInfo] | None = None,
    ):
        self.repo = repo
        self.name = name
        self.expected_sha256 = expected_sha256
        self.source = source
        self.fallback = fallback
        self.use_fallback = False
        self.token = secrets.token_hex(8)
        self.number: int | None = None  # the number we hold
        self.took_over = False  # the number was a dead publisher's claim
        self.exact_copy = True  # the endpoint enforces CopyObject's conditions
        self.waited = 0.0

    def run(self) -> Artifact:
        repo, name = self.repo, self.name
        repo._check_publishable()
        self.exact_copy = repo.server.enforcement().copy_conditions
        if not self.exact_copy and self.fallback is not None:
            self.use_fallback = True  # our own bytes: a copy of LATEST could take another's
        conflicts = 0
        while conflicts < PUBLISH_ATTEMPTS:
            if conflicts:
                time.sleep(random.uniform(0.01, 0.05) * min(conflicts, 10))
            sha256 = self._sha256()
            if self.number is None:
                tip = repo._newest(name, like=self.source)
                if tip.newest is not None and tip.newest.sha256 == sha256:
                    return tip.newest
                claim = repo._pending_claim(name, tip.highest)
                if claim is not None:
                    tip = Tip(None, claim.number, claim)
                taken = self._take_number(tip, sha256)
                if taken is None:
                    self._wait()  # another run is publishing: its number comes first
                    continue
                if not taken:
                    conflicts += 1
                    continue
            number = self.number
            assert number is not None
            key = repo.object_key(name, str(number))
            try:
                info = self._write(key)
            except KeyExists as taken:
                existing = taken.existing or repo._head(
                    key, Conflict(f"s3 key {key!r} vanished while publishing")
                )
                if existing.sha256:
                    repo._commit(name, number, existing)  # a publish's object: roll forward
                else:
                    repo._abandon(name, number)  # not a version: the number stays unused
                if existing.metadata.get(layout.META_TOKEN) == self.token:
                    return repo._artifact(name, str(number), existing, changed=True)
                self.number = None  # another run's version: take the next number
                conflicts += 1
                continue
            except SourceChanged:
                # LATEST moved under the copy: keep the number, read LATEST again (or upload
                # our own bytes, if we have them) and fill the same number
                self.source = None
                self.use_fallback = self.fallback is not None
                conflicts += 1
                continue
            except BaseException:
                repo._release(name, number, self.token)
                raise
            repo._commit(name, number, info)
            return repo._artifact(name, str(number), info, changed=True)
        raise Conflict(
            f"could not publish {name!r} after {PUBLISH_ATTEMPTS} attempts: "
            "too many concurrent publishers"
        )

    def _sha256(self) -> str:
        """The sha256 this publish ships; reads LATEST when it has no source yet."""
        if not self.use_fallback:
            if self.source is None:
                self.source = self.repo._head(
                    self.repo.object_key(self.name, layout.LATEST),
                    ArtifactNotFound(self.name, self.repo._where()),
                )
            if self.expected_sha256 and self.source.sha256 != self.expected_sha256:
                if self.fallback is None:
                    raise Conflict(f"LATEST of {self.name!r} changed before it could be published")
                self.use_fallback = True
        return self.expected_sha256 or (self.source.sha256 if self.source else None) or ""

    def _take_number(self, tip: Tip, sha256: str) -> bool | None:
        """Claim the next number, or take over a dead publisher's claim.

        False: another run got it first; None: a live claim of another run sits on top.
        """
        repo, claim = self.repo, tip.claim
        self.took_over = False
        if claim is not None and claim.owner == self.token:
            self.number = claim.number  # our claim, whose answer was lost
            return True
        if claim is not None:
            if (utc_now() - claim.claimed_at).total_seconds() < repo.claim_lease:
                return None
            if not repo._take_over(self.name, claim, sha256, self.token):
                return False
            self.number = claim.number
            self.took_over = True
            return True
        number = tip.highest + 1
        if number > layout.MAX_VERSION:
            raise Conflict(f"artifact {self.name!r} has used all {layout.MAX_VERSION} versions")
        if not repo._reserve(self.name, number, sha256, self.token):
            return False
        self.number = number
        return True

    def _wait(self) -> None:
        if self.waited >= WAIT_LIMIT:
            raise Conflict(
                f"artifact {self.name!r}: other runs kept publishing for {WAIT_LIMIT:.0f} s"
            )
        time.sleep(POLL)
        self.waited += POLL

    def _write(self, key: str) -> ObjectInfo:
        token = {layout.META_TOKEN: self.token}
        if not self.exact_copy and (self.took_over or not self.repo.objects_are_records):
            # where a copy cannot be conditional, look before writing: a dead publisher (ours,
            # or a peer's whose record never came) may have left an object at the key
            existing = self.repo._head_or_none(key)
            if existing is not None:
                raise KeyExists(f"s3 key {key!r} already exists", existing)
        if self.use_fallback:
            assert self.fallback is not None
            return self.fallback(key, token)
        assert self.source is not None
        if not self.exact_copy:
            return copying.copy_snapshot(
                self.repo.s3,
                self.repo._s3_once,
                self.repo.s3_bucket,
                self.source,
                key,
                config=self.repo.transfer,
            )
        return copying.copy_exact(
            self.repo.s3,
            self.repo.s3_bucket,
            self.source,
            key,
            if_none_match=True,
            extra_metadata=token,
            config=self.repo.transfer,
        )
