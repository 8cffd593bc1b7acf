"""Hand-written SQL for the few reads that every signed-in or polled request makes.

The ORM spends about as long building a query as the database spends answering it: reading a
session row through `Session.objects.get` took 0.49 ms where the same SELECT through a cursor
took 0.14 ms, and a membership with its store, mall and retailer (`select_related`) 1.26 ms.
On a page polled by every open screen those fixed costs are most of the request. So these
reads keep their SQL as text, built once per process and database vendor from the models'
own field lists, and turn rows back into model instances with the same converters the ORM
applies (`Model.from_db`), so the objects are exactly what a queryset would have returned.

Anything else reads through the ORM; add a read here only when a benchmark says it matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from django.db import connections, router
from django.db.models import Model


def _converters(model: type[Model], vendor_connection) -> list[tuple[int, list[Callable], object]]:
    out = []
    for index, field in enumerate(model._meta.concrete_fields):
        col = field.get_col(model._meta.db_table)
        found = vendor_connection.ops.get_db_converters(col) + field.get_db_converters(
            vendor_connection
        )
        if found:
            out.append((index, found, col))
    return out


class Columns:
    """The concrete columns of one model under a table alias, in a SELECT and back."""

    def __init__(self, model: type[Model], alias: str):
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, connection) -> str:
        qn = connection.ops.quote_name
        return ", ".join(f"{qn(self.alias)}.{qn(f.column)}" for f in self.fields)

    def instance(self, values: Sequence, connection, using: str) -> Model | None:
        """The model instance for these values (None for the NULL side of an outer join)."""
        if values[0] is None:
            return None
        values = list(values)
        for index, converters, col in _converters_for(self.model, connection.alias):
            value = values[index]
            for converter in converters:
                value = converter(value, col, connection)
            values[index] = value
        return self.model.from_db(using, self.attnames, values)


@cache
def _converters_for(model: type[Model], alias: str):
    return _converters(model, connections[alias])


def table(model: type[Model], connection) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class HotRead:
    """One hand-written SELECT over some models' columns, its text built once per database.

    `build(connection, qn, *column_lists)` returns the SQL; rows come back as one tuple of
    instances per row, in the order of `columns`."""

    def __init__(self, build: Callable[..., str], *columns: Columns, for_model=None):
        self.build = build
        self.columns = columns
        self.for_model = for_model or columns[0].model
        self._sql: dict[str, str] = {}

    def _text(self, connection) -> str:
        text = self._sql.get(connection.alias)
        if text is None:
            text = self.build(
                connection, connection.ops.quote_name, *(c.sql(connection) for c in self.columns)
            )
            self._sql[connection.alias] = text
        return text

    def rows(self, params: Sequence, *, using: str | None = None) -> list[tuple]:
        using = using or router.db_for_read(self.for_model)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self._text(connection), params)
            raw_rows = cursor.fetchall()
        out = []
        for raw in raw_rows:
            start, instances = 0, []
            for columns in self.columns:
                part = raw[start : start + len(columns)]
                instances.append(columns.instance(part, connection, using))
                start += len(columns)
            out.append(tuple(instances))
        return out


@cache
def _user_read() -> HotRead:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    columns = Columns(user_model, "u")
    pk = user_model._meta.pk

    def build(connection, qn, cols):
        u = qn("u")
        where = f"{u}.{qn(pk.column)} = %s"
        return f"SELECT {cols} FROM {table(user_model, connection)} {u} WHERE {where}"

    return HotRead(build, columns)


def user_by_id(user_id):
    """The user with this primary key (as stored in a session: maybe a string), or None."""
    from django.contrib.auth import get_user_model

    read = _user_read()
    pk = get_user_model()._meta.pk.to_python(user_id)
    rows = read.rows([pk])
    return rows[0][0] if rows else None
