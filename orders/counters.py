"""Named numbers bumped by one statement: the API throttle's windows and the boards'
versions. `SharedCounter` rows, shared by every process through the database."""

from __future__ import annotations

import datetime as dt

from django.db import connection


def bump_counters(bumps: dict[str, int], *, expires_at: dt.datetime) -> dict[str, int]:
    """Add to each named counter (made at that number if new) and return their new values:
    one statement, atomic on PostgreSQL and SQLite alike (INSERT … ON CONFLICT …
    RETURNING). Keys go in sorted order, so two statements bumping overlapping counters
    lock them in the same order."""
    from orders.models import SharedCounter

    keys = sorted(bumps)
    qn = connection.ops.quote_name
    table = qn(SharedCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({qn('key')}, {qn('count')}, {qn('expires_at')}) "
        f"VALUES {', '.join(['(%s, %s, %s)'] * len(keys))} ON CONFLICT ({qn('key')}) "
        f"DO UPDATE SET {qn('count')} = {table}.{qn('count')} + EXCLUDED.{qn('count')} "
        f"RETURNING {qn('key')}, {qn('count')}"
    )
    expires = connection.ops.adapt_datetimefield_value(expires_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for key in keys for value in (key, bumps[key], expires)])
        return dict(cursor.fetchall())


def bump_counter(key: str, *, expires_at: dt.datetime, by: int = 1) -> int:
    """Add `by` to the counter `key` and return its new value (see `bump_counters`)."""
    return bump_counters({key: by}, expires_at=expires_at)[key]


def counters_purge() -> int:
    """Housekeeping: forget the windows that are over."""
    from django.utils import timezone

    from orders.models import SharedCounter

    deleted, _ = SharedCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


_READ_SQL: dict[tuple[str, int], str] = {}


def read_counters(keys: list[str]) -> dict[str, int]:
    """The counters' current values (absent keys are absent). A hand-written SELECT: every
    poll of a board reads two of these (see `config.hot_reads` for why not the ORM)."""
    from django.db import connections, router

    from orders.models import SharedCounter

    # The primary: a version bumped a moment ago by this person's own change must be seen.
    db = connections[router.db_for_write(SharedCounter)]
    sql = _READ_SQL.get((db.alias, len(keys)))
    if sql is None:
        qn = db.ops.quote_name
        sql = _READ_SQL[(db.alias, len(keys))] = (
            f"SELECT {qn('key')}, {qn('count')} FROM {qn(SharedCounter._meta.db_table)} "
            f"WHERE {qn('key')} IN ({', '.join(['%s'] * len(keys))})"
        )
    with db.cursor() as cursor:
        cursor.execute(sql, list(keys))
        return dict(cursor.fetchall())
