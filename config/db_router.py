"""Read replicas for read-heavy pages.

`DATABASE_REPLICA_URLS` (comma-separated) adds the aliases `replica1`, `replica2`, … beside
`default`. Nothing reads a replica unless its view asks: views decorated with
`@reads_from_replica` (store reports, ops metrics, the audit trail) send their reads to one
replica picked per request. Everything else, and anything inside a transaction, reads the
primary, so a person always sees what they just wrote (replicas lag by a little). Writes and
migrations only ever go to the primary.
"""

from __future__ import annotations

import contextvars
import functools
import random

import dj_database_url
from django.conf import settings
from django.db import connections

_replica: contextvars.ContextVar[str | None] = contextvars.ContextVar("replica", default=None)


def replica_databases(urls: list[str], *, conn_max_age: int) -> dict[str, dict]:
    """DATABASES entries for the replica URLs; tests mirror them onto the primary."""
    replicas = {}
    for number, url in enumerate(urls, start=1):
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
        config["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{number}"] = config
    return replicas


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def reads_from_replica(view):
    """Let this view's reads go to a replica (when there is one)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        aliases = replica_aliases()
        if not aliases:
            return view(request, *args, **kwargs)
        token = _replica.set(random.choice(aliases))
        try:
            return view(request, *args, **kwargs)
        finally:
            _replica.reset(token)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = _replica.get()
        if alias and not connections["default"].in_atomic_block:
            return alias
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
