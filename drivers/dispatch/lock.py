"""The per-mall dispatch lock: a row per mall, claimed with a conditional UPDATE.

`UPDATE … WHERE mall = m AND (locked_until IS NULL OR locked_until <= now)` touches one row for
exactly one claimant: PostgreSQL re-checks the condition after the first claimant commits, and
SQLite runs one writer at a time. The lease runs out, so a crashed worker holds a mall at most
MALLRUN_DISPATCH_LOCK_SECONDS. A cycle that finds the mall busy sets `rerun`, and the holder
runs once more before letting go, so no trigger is lost.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from drivers.models import DispatchLock
from retailers import clock


def new_token() -> str:
    return uuid.uuid4().hex


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MALLRUN_DISPATCH_LOCK_SECONDS)


def lock_claim(*, mall_id: int, token: str) -> bool:
    """Take the mall's lock for `token`. True when this caller won it."""
    if not DispatchLock.objects.filter(mall_id=mall_id).exists():
        try:
            with transaction.atomic():
                DispatchLock.objects.create(mall_id=mall_id)
        except IntegrityError:
            pass  # another claimant created it first; the UPDATE below decides
    now = clock.now()
    won = (
        DispatchLock.objects.filter(mall_id=mall_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(holder=token, locked_until=now + _lease(), claimed_at=now, rerun=False)
    )
    if not won:
        DispatchLock.objects.filter(mall_id=mall_id).exclude(holder=token).update(rerun=True)
    return won == 1


def lock_release(*, mall_id: int, token: str) -> bool:
    """Let go of the lock. Returns True instead (still holding it, lease renewed) when another
    trigger arrived during the cycle: the caller runs the cycle once more."""
    released = DispatchLock.objects.filter(mall_id=mall_id, holder=token, rerun=False).update(
        holder="", locked_until=None
    )
    if released:
        return False
    renewed = DispatchLock.objects.filter(mall_id=mall_id, holder=token).update(
        rerun=False, locked_until=clock.now() + _lease()
    )
    return bool(renewed)


def lock_force_release(*, mall_id: int, token: str) -> None:
    DispatchLock.objects.filter(mall_id=mall_id, holder=token).update(
        holder="", locked_until=None, rerun=False
    )
