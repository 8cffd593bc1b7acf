"""Sessions: Django's database sessions with the signed-in person's id beside them, so that one
SELECT reads a request's session and its user together.

Every signed-in request needs both. Through the ORM they were two queries and 0.85 ms of
Python; read by one hand-written SELECT with a join (see `config.hot_reads`) they are one
round trip. `orders.WebSession` is Django's session table plus `user` (kept by `save`, from
the session's own auth key); `AuthenticationMiddleware` hands the user read with the session
to the auth backend, which checks it exactly as Django does (active, session hash), and reads
the user itself when the session didn't bring it. Writing, expiry and `clearsessions` are
Django's own. The column also lets ops sign a person out everywhere (admin, Sessions).

`DJANGO_SESSION_ENGINE` can still name any other engine (Redis through `cached_db`); the
middleware then simply finds nothing prefetched.
"""

from __future__ import annotations

import contextvars
from functools import cache, partial

from django.contrib import auth
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthMiddleware
from django.contrib.auth.middleware import auser
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

NOT_LOADED = object()

# The session being authenticated, only while `auth.get_user` runs for its request.
_authenticating: contextvars.ContextVar = contextvars.ContextVar("authenticating", default=None)


def _user_pk(value):
    from django.contrib.auth import get_user_model

    if value is None:
        return None
    try:
        return get_user_model()._meta.pk.to_python(value)
    except (ValidationError, ValueError, TypeError):
        return None


class SessionStore(db.SessionStore):
    # (user id, user or None) as read with the session; NOT_LOADED when not read that way.
    prefetched = NOT_LOADED

    @classmethod
    def get_model_class(cls):
        from orders.models import WebSession

        return WebSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = _user_pk(data.get(SESSION_KEY))
        return instance

    async def acreate_model_instance(self, data):
        instance = await super().acreate_model_instance(data)
        instance.user_id = _user_pk(data.get(SESSION_KEY))
        return instance

    def load(self):
        if self.session_key is None:
            return {}
        read = _session_read()
        model = self.model
        # The primary, never a replica: a session written a moment ago must be found.
        using = router.db_for_write(model)
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = read.rows([self.session_key, now], using=using)
        if not rows:
            # As Django's store: an unknown or expired key is forgotten, a new one made on save.
            self._session_key = None
            return {}
        session, user = rows[0]
        self.prefetched = (session.user_id, user)
        return self.decode(session.session_data)


@cache
def _session_read():
    from django.contrib.auth import get_user_model

    from config.hot_reads import Columns, HotRead, table
    from orders.models import WebSession

    user_model = get_user_model()
    session_columns = Columns(WebSession, "s")

    def build(connection, qn, s_cols, u_cols):
        s, u = qn("s"), qn("u")
        return (
            f"SELECT {s_cols}, {u_cols} FROM {table(WebSession, connection)} {s} "
            f"LEFT JOIN {table(user_model, connection)} {u} "
            f"ON {u}.{qn(user_model._meta.pk.column)} = {s}.{qn('user_id')} "
            f"WHERE {s}.{qn('session_key')} = %s AND {s}.{qn('expire_date')} > %s"
        )

    return HotRead(build, session_columns, Columns(user_model, "u"))


def prefetched_user(user_id):
    """The user read together with the session now being authenticated, if it is this one;
    NOT_LOADED when there is none (another engine, or the ids differ)."""
    session = _authenticating.get()
    found = getattr(session, "prefetched", NOT_LOADED)
    if found is NOT_LOADED:
        return NOT_LOADED
    pk, user = found
    if pk is None or pk != _user_pk(user_id):
        return NOT_LOADED
    return user


def _get_user(request):
    if not hasattr(request, "_cached_user"):
        token = _authenticating.set(request.session)
        try:
            request._cached_user = auth.get_user(request)
        finally:
            _authenticating.reset(token)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthMiddleware):
    """Django's, except that the user read with the session is used (see the module doc)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _get_user(request))
        request.auser = partial(auser, request)
