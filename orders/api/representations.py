"""The API's order list, without writing the same orders out again on every request.

Integrations poll `GET /api/v1/orders/` for changes, and most of a page is orders that haven't
changed since the last poll. Each order's JSON is kept in this process's memory under a stamp
of what it shows: `updated_at` (set by every status move and line change) and its newest event
(a delivery's proof comes with one). A page reads its orders' ids and stamps in one query,
reuses what it has, and loads and writes out only the orders that changed; a page whose
orders and stamps are all the same as last time is sent as it was rendered then. What the stamp
doesn't cover (a store renamed) shows within KEEP_SECONDS.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.http import HttpResponse

KEEP_SECONDS = 600
KEEP_MAX = 5_000  # orders per process (a few KB each)

# order pk -> (stamp, representation, written_at)
_kept: OrderedDict[int, tuple[tuple, dict, float]] = OrderedDict()


class StampedOrders:
    """What the cursor pagination asks of a queryset — `order_by("-id")`, `filter(id__lt=…)`
    and a slice — answered by one hand-written SELECT of the page's ids and stamps.

    The ORM took longer to build the page's query than PostgreSQL took to run it; the
    pagination (cursors, links) stays DRF's. `where` is SQL over `o` (the order), `s` (its
    store) and `m` (its mall) with its parameters, as `orders.api.auth.orders_sql` gives."""

    def __init__(self, where: str, params: list, *, descending=True, bound=None):
        self.where, self.params = where, params
        self.descending, self.bound = descending, bound

    def order_by(self, *fields):
        if fields not in (("id",), ("-id",)):
            raise ValueError(f"ordering {fields} is not supported")
        return StampedOrders(
            self.where, self.params, descending=fields[0] == "-id", bound=self.bound
        )

    def filter(self, **kwargs):
        ((lookup, value),) = kwargs.items()
        if lookup not in ("id__lt", "id__gt"):
            raise ValueError(f"filter {lookup} is not supported")
        return StampedOrders(
            self.where, self.params, descending=self.descending, bound=(lookup[4:], int(value))
        )

    def __getitem__(self, window: slice) -> list[dict]:
        from django.db import connections, router

        from orders.models import Order, OrderEvent
        from retailers.models import Mall, Store

        connection = connections[router.db_for_read(Order)]
        qn = connection.ops.quote_name
        where, params = [self.where], list(self.params)
        if self.bound is not None:
            where.append(f"o.{qn('id')} {'<' if self.bound[0] == 'lt' else '>'} %s")
            params.append(self.bound[1])
        offset = window.start or 0
        sql = (
            f"SELECT o.{qn('id')}, o.{qn('updated_at')}, "
            f"(SELECT MAX(e.{qn('id')}) FROM {qn(OrderEvent._meta.db_table)} e "
            f"WHERE e.{qn('order_id')} = o.{qn('id')}) "
            f"FROM {qn(Order._meta.db_table)} o "
            f"JOIN {qn(Store._meta.db_table)} s ON s.{qn('id')} = o.{qn('store_id')} "
            f"JOIN {qn(Mall._meta.db_table)} m ON m.{qn('id')} = s.{qn('mall_id')} "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY o.{qn('id')} {'DESC' if self.descending else 'ASC'} "
            f"LIMIT %s OFFSET %s"
        )
        params += [window.stop - offset, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [
                {"id": pk, "updated_at": updated_at, "last_event_id": event}
                for pk, updated_at, event in cursor.fetchall()
            ]


def represent(
    orders: Iterable, *, load: Callable[[list[int]], Iterable], write: Callable[[list], list]
) -> list[dict]:
    """The representation of each stamped order (rows of `StampedOrders`), in order: kept ones
    reused, the others
    loaded by `load(pks)` and written out by `write(orders)`."""
    now = time.time()
    orders = list(orders)
    out: dict[int, dict] = {}
    missing = []
    for order in orders:
        stamp = (order["updated_at"], order["last_event_id"])
        kept = _kept.get(order["id"])
        if kept is not None and kept[0] == stamp and now - kept[2] < KEEP_SECONDS:
            out[order["id"]] = kept[1]
        else:
            missing.append(order)
    if missing:
        stamps = {o["id"]: (o["updated_at"], o["last_event_id"]) for o in missing}
        loaded = list(load(list(stamps)))
        for order, data in zip(loaded, write(loaded), strict=True):
            out[order.pk] = data
            _kept[order.pk] = (stamps[order.pk], data, now)
            _kept.move_to_end(order.pk)
        while len(_kept) > KEEP_MAX:
            _kept.popitem(last=False)
    return [out[o["id"]] for o in orders if o["id"] in out]


def forget_all() -> None:
    global _pages_bytes
    _kept.clear()
    _pages.clear()
    _pages_bytes = 0


# key's pk, address, host -> (the page's stamps, rendered body, written_at)
_pages: OrderedDict[tuple, tuple[tuple, bytes, float]] = OrderedDict()
PAGES_MAX = 256
PAGES_MAX_BYTES = 16 * 1024 * 1024  # a page of 200 orders is a few hundred KB
_pages_bytes = 0


def _keep_page(where: tuple, entry: tuple[tuple, bytes, float]) -> None:
    """Keep a page body, the least recently used going first past PAGES_MAX pages or
    PAGES_MAX_BYTES in all (a client walking every page at 200 orders a page)."""
    global _pages_bytes
    old = _pages.pop(where, None)
    if old is not None:
        _pages_bytes -= len(old[1])
    _pages[where] = entry
    _pages_bytes += len(entry[1])
    while len(_pages) > PAGES_MAX or (_pages_bytes > PAGES_MAX_BYTES and len(_pages) > 1):
        _, dropped = _pages.popitem(last=False)
        _pages_bytes -= len(dropped[1])


def page_response(view, request, paginator, rows: list, *, load, write) -> HttpResponse:
    """The page's response. An integration polling for changes mostly gets the same page
    again: when this key asked for this address before and the page's rows (ids and stamps)
    are the same, the body rendered then is sent again; otherwise it is built (reusing the
    orders that didn't change) and kept."""
    now = time.time()
    # The page's rows and whether there is a page after and before it: an order joining the
    # list just past this page changes the links, not the rows.
    stamp = (
        tuple((row["id"], row["updated_at"], row["last_event_id"]) for row in rows),
        paginator.has_next,
        paginator.has_previous,
    )
    where = (request.auth.pk, request.get_full_path(), request.get_host(), request.is_secure())
    kept = _pages.get(where)
    if kept is not None and kept[0] == stamp and now - kept[2] < KEEP_SECONDS:
        body = kept[1]
    else:
        data = paginator.get_paginated_response(represent(rows, load=load, write=write)).data
        body = request.accepted_renderer.render(
            data, request.accepted_media_type, view.get_renderer_context()
        )
        _keep_page(where, (stamp, body, now))
    return HttpResponse(body, content_type=request.accepted_media_type)
