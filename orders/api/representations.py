"""The API's order list, without writing the same orders out again on every request.

Integrations poll `GET /api/v1/orders/` for changes, and most of a page is orders that haven't
changed since the last poll. Each order's JSON is kept in this process's memory under a stamp
of what it shows: `updated_at` (set by every status move and line change) and its newest event
(a delivery's proof comes with one). A page reads its orders' ids and stamps in one query,
reuses what it has, and loads and writes out only the orders that changed. What the stamp
doesn't cover (a store renamed) shows within KEEP_SECONDS.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.db.models import OuterRef, QuerySet, Subquery

KEEP_SECONDS = 600
KEEP_MAX = 5_000  # orders per process (a few KB each)

# order pk -> (stamp, representation, written_at)
_kept: OrderedDict[int, tuple[tuple, dict, float]] = OrderedDict()


def with_stamps(queryset: QuerySet) -> QuerySet:
    """The page's orders with only what the stamp needs (ids for the cursor). The newest
    event is a subquery per row, so the database works it out for the page's rows only (a
    MAX over a join would aggregate every order of the key before the LIMIT)."""
    from orders.models import OrderEvent

    newest_event = OrderEvent.objects.filter(order=OuterRef("pk")).order_by("-id").values("id")
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .only("id", "updated_at")
        .annotate(last_event_id=Subquery(newest_event[:1]))
    )


def represent(
    orders: Iterable, *, load: Callable[[list[int]], Iterable], write: Callable[[list], list]
) -> list[dict]:
    """The representation of each stamped order, in order: kept ones reused, the others
    loaded by `load(pks)` and written out by `write(orders)`."""
    now = time.time()
    orders = list(orders)
    out: dict[int, dict] = {}
    missing = []
    for order in orders:
        stamp = (order.updated_at, order.last_event_id)
        kept = _kept.get(order.pk)
        if kept is not None and kept[0] == stamp and now - kept[2] < KEEP_SECONDS:
            out[order.pk] = kept[1]
        else:
            missing.append(order)
    if missing:
        stamps = {o.pk: (o.updated_at, o.last_event_id) for o in missing}
        loaded = list(load(list(stamps)))
        for order, data in zip(loaded, write(loaded), strict=True):
            out[order.pk] = data
            _kept[order.pk] = (stamps[order.pk], data, now)
            _kept.move_to_end(order.pk)
        while len(_kept) > KEEP_MAX:
            _kept.popitem(last=False)
    return [out[o.pk] for o in orders if o.pk in out]


def forget_all() -> None:
    _kept.clear()
