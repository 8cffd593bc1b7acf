"""Login throttling: too many failed sign-ins lock an account name (and an address) for a while.

Every way in goes through `authenticate()`: the login page, admin, and the API's driver
tokens. `ThrottledModelBackend` takes a place in the count before it looks at the password
(under a row lock, so fifty parallel guesses don't all get tried), refuses while a lock is on
(the right password included), locks once the limit of failures is reached, and gives the
place back on success. The login forms check the lock first so the person sees why, and a
completed password reset lifts the account's lock.

Two limits: per account name (`MALLRUN_LOGIN_FAILURES_PER_USER`, default 5) stops guessing one
account's password; per client address (`MALLRUN_LOGIN_FAILURES_PER_IP`, default 30) stops
trying one password on many accounts. Counts run in windows of `MALLRUN_LOGIN_LOCKOUT_MINUTES`
(15) and a lock lasts as long. Rows live in `orders.SignInThrottle`; housekeeping deletes old
ones. A per-account lock can be set off by anyone who knows the account name: that is the
price of stopping guessing; ops can lift it in admin (Sign-in throttles).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.MALLRUN_LOGIN_LOCKOUT_MINUTES)


def client_ip(request) -> str:
    """The caller's address: REMOTE_ADDR, or behind our load balancer (DJANGO_BEHIND_PROXY)
    the last X-Forwarded-For entry, the one the balancer itself appended."""
    if request is None:
        return ""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _subjects(request, username: str | None) -> dict[str, int]:
    """The rows' keys for this attempt, each with its limit."""
    subjects = {}
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]
        subjects[f"user:{digest}"] = settings.MALLRUN_LOGIN_FAILURES_PER_USER
    ip = client_ip(request)
    if ip:
        subjects[f"ip:{ip[:100]}"] = settings.MALLRUN_LOGIN_FAILURES_PER_IP
    return subjects


def _seconds_left(until, now) -> int:
    return math.ceil((until - now).total_seconds()) if until and until > now else 0


def locked_for(request, username: str | None) -> int:
    """Seconds until this account name or address may try again (0: not locked)."""
    from orders.models import SignInThrottle

    now = timezone.now()
    untils = SignInThrottle.objects.filter(
        key__in=list(_subjects(request, username)), locked_until__gt=now
    ).values_list("locked_until", flat=True)
    return max((_seconds_left(u, now) for u in untils), default=0)


def reserve(request, username: str | None) -> int:
    """Take a place in the counts before the password is checked. Returns the seconds of a
    lock that refuses this attempt (0: go ahead)."""
    from orders.models import SignInThrottle

    now = timezone.now()
    refused = 0
    with transaction.atomic():
        for key, limit in sorted(_subjects(request, username).items()):
            row, _ = SignInThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"window_started_at": now}
            )
            if _seconds_left(row.locked_until, now):
                refused = max(refused, _seconds_left(row.locked_until, now))
                continue
            if row.window_started_at <= now - _window():
                row.attempts, row.window_started_at = 0, now
            if row.attempts >= limit:  # the limit's worth of attempts are under way
                row.locked_until = now + _window()
                refused = max(refused, _seconds_left(row.locked_until, now))
            else:
                row.attempts += 1
            row.save(update_fields=["attempts", "window_started_at", "locked_until"])
    return refused


def failed(request, username: str | None) -> None:
    """A failed attempt keeps its place; reaching the limit locks now, so the message says so."""
    from orders.models import SignInThrottle

    now = timezone.now()
    for key, limit in _subjects(request, username).items():
        SignInThrottle.objects.filter(key=key, attempts__gte=limit).filter(
            Q(locked_until=None) | Q(locked_until__lte=now)
        ).update(locked_until=now + _window())


def succeeded(request, username: str | None) -> None:
    """The account's count starts again; the address gives back the place it took."""
    from orders.models import SignInThrottle

    for key in _subjects(request, username):
        if key.startswith("user:"):
            SignInThrottle.objects.filter(key=key).delete()
        else:
            SignInThrottle.objects.filter(key=key).update(attempts=Greatest(F("attempts") - 1, 0))


def lift(username: str) -> None:
    """Clear an account name's count and lock (a completed password reset, ops)."""
    from orders.models import SignInThrottle

    SignInThrottle.objects.filter(key__in=list(_subjects(None, username))).delete()


def housekeeping() -> int:
    """Delete rows whose window and lock are both over."""
    from orders.models import SignInThrottle

    now = timezone.now()
    deleted, _ = (
        SignInThrottle.objects.filter(window_started_at__lte=now - _window())
        .exclude(locked_until__gt=now)
        .delete()
    )
    return deleted


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts. Try again in {minutes} {unit}, or reset your password."
    )


class ThrottledModelBackend(ModelBackend):
    """Django's model backend behind the count: refuses while locked, counts every try."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        if reserve(request, username):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            failed(request, username)
        else:
            succeeded(request, username)
        return user

    def get_user(self, user_id):
        """The signed-in person of a request: the one read with the session (config.sessions),
        else by one hand-written SELECT (the ORM's `get` cost twice as long). Same answer as
        Django's backend: None for an unknown or inactive user."""
        from django.core.exceptions import ValidationError

        from config.hot_reads import user_by_id
        from config.sessions import NOT_LOADED, prefetched_user

        user = prefetched_user(user_id)
        if user is NOT_LOADED:
            try:
                user = user_by_id(user_id)
            except (ValidationError, ValueError, TypeError):
                return None
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
