"""Login throttling: too many failed sign-ins lock an account name (and an address) for a while.

Every way in goes through `authenticate()`: the login page, admin, and the API's driver
tokens. `ThrottledModelBackend` refuses while a lock is on (without looking at the password,
so guessing goes on failing) and counts each failure; the login forms check the lock first so
the person sees why. Counters live in the default cache, which production shares between
processes (database cache or Redis).

Two limits: per account name (`MALLRUN_LOGIN_FAILURES_PER_USER`, default 5) stops guessing one
account's password; per client address (`MALLRUN_LOGIN_FAILURES_PER_IP`, default 30) stops
trying one password on many accounts. A lock lasts `MALLRUN_LOGIN_LOCKOUT_MINUTES` (15) from
the failure that set it; a successful sign-in clears the account's counter.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import caches


def _cache():
    return caches["default"]


def _limits() -> dict[str, int]:
    return {
        "user": settings.MALLRUN_LOGIN_FAILURES_PER_USER,
        "ip": settings.MALLRUN_LOGIN_FAILURES_PER_IP,
    }


def _window() -> int:
    return settings.MALLRUN_LOGIN_LOCKOUT_MINUTES * 60


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


def _subjects(request, username: str | None) -> list[tuple[str, str]]:
    subjects = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        subjects.append(("user", digest))
    ip = client_ip(request)
    if ip:
        subjects.append(("ip", ip))
    return subjects


def _lock_key(kind: str, subject: str) -> str:
    return f"login-lock:{kind}:{subject}"


def _count_key(kind: str, subject: str) -> str:
    return f"login-fail:{kind}:{subject}"


def locked_for(request, username: str | None) -> int:
    """Seconds until this account name or address may try again (0: not locked)."""
    now = time.time()
    cache = _cache()
    remaining = 0.0
    for kind, subject in _subjects(request, username):
        until = cache.get(_lock_key(kind, subject))
        if until and until > now:
            remaining = max(remaining, until - now)
    return math.ceil(remaining)


def record_failure(request, username: str | None) -> None:
    cache = _cache()
    window = _window()
    limits = _limits()
    for kind, subject in _subjects(request, username):
        key = _count_key(kind, subject)
        cache.add(key, 0, window)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            failures = 1
        if failures == limits[kind]:
            cache.set(_lock_key(kind, subject), time.time() + window, window)


def record_success(request, username: str | None) -> None:
    for kind, subject in _subjects(request, username):
        if kind == "user":
            _cache().delete_many([_count_key(kind, subject), _lock_key(kind, subject)])


def lockout_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts. Try again in {minutes} {unit}, or reset your password."
    )


class ThrottledModelBackend(ModelBackend):
    """Django's model backend behind the lock: refuses while locked, counts failures."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if locked_for(request, username):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            if username is not None and password is not None:
                record_failure(request, username)
        else:
            record_success(request, username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
