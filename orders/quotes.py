"""The delivery promise: can this store deliver these items to this address today, for how
much, and by when. Used by the storefront, the API, checkout and the simulator.

The promised time adds up, from now:
  max(store ready  = queue of unready orders at the store + prep time,
      driver ready = time until a driver is free at the mall)
  + travel from the mall (travel provider) + hand-over buffer, rounded up to 5 minutes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, prefetch_related_objects

from orders.models import Order, Quote
from retailers import clock
from retailers.geo import haversine_km, travel
from retailers.models import Stock, Store

QUOTE_LIFETIME = dt.timedelta(minutes=15)


class Reason:
    OUTSIDE_RADIUS = "outside_radius"
    STORE_PAUSED = "store_paused"
    STORE_CLOSED = "store_closed"
    PAST_CUTOFF = "past_cutoff"
    OUT_OF_STOCK = "out_of_stock"
    NO_DRIVERS = "no_driver_capacity"


@dataclass
class Promise:
    """A computed quote, before it is saved."""

    store: Store
    latitude: float
    longitude: float
    items: list[list[int]]
    distance_km: float
    fee_cents: int
    reasons: list[dict] = field(default_factory=list)
    ready_by: dt.datetime | None = None
    promised_by: dt.datetime | None = None
    minutes: dict[str, int] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _fmt(moment: dt.datetime | dt.time) -> str:
    return moment.strftime("%-I:%M %p").lower()


def promise_text(store: Store, promised_by: dt.datetime | None) -> str:
    """'arrives today by 7:40 pm' in the mall's own time."""
    if promised_by is None:
        return ""
    return f"arrives today by {_fmt(store.mall.local(promised_by))}"


def fee_for(store: Store, distance_km: float) -> int:
    mall = store.mall
    extra = 0
    for tier in mall.fee_tiers.all():  # ordered by distance
        if Decimal(f"{distance_km:.2f}") <= tier.up_to_km:
            extra = tier.extra_cents
            break
    else:
        tiers = list(mall.fee_tiers.all())
        extra = tiers[-1].extra_cents if tiers else 0
    return mall.delivery_fee_cents + extra


def _round_up(moment: dt.datetime, minutes: int = 5) -> dt.datetime:
    whole = moment.replace(second=0, microsecond=0)
    if whole != moment:
        whole += dt.timedelta(minutes=1)
    return whole + dt.timedelta(minutes=(-whole.minute) % minutes)


_UNSET = object()


def _driver_wait_minutes(mall, at: dt.datetime) -> int | None:
    """Minutes until a driver can be expected at the mall; None when nobody is delivering."""
    from drivers.models import BlockBooking, Driver, Route

    if mall.is_sandbox:  # the sandbox's own driver is always free (orders.api.sandbox)
        return settings.MALLRUN_DRIVER_TO_COUNTER_MINUTES
    on_block = BlockBooking.objects.filter(
        status=BlockBooking.Status.BOOKED,
        block__mall=mall,
        block__starts_at__lte=at + dt.timedelta(minutes=30),
        block__ends_at__gt=at,
    ).values("driver_id")
    holding = Route.objects.filter(driver=OuterRef("pk"), status__in=Route.HELD_STATUSES)
    counts = Driver.objects.filter(
        Q(is_online=True, online_mall=mall) | Q(pk__in=on_block), status=Driver.Status.APPROVED
    ).aggregate(total=Count("pk"), busy=Count("pk", filter=Exists(holding)))
    total, busy = counts["total"], counts["busy"]
    if total == 0:
        return None
    waiting = Route.objects.filter(
        mall=mall, status__in=[Route.Status.PLANNED, Route.Status.OFFERED]
    ).count()
    free = total - busy
    if free > waiting:
        return settings.MALLRUN_DRIVER_TO_COUNTER_MINUTES
    backlog = waiting - free + 1
    return settings.MALLRUN_DRIVER_TO_COUNTER_MINUTES + math.ceil(
        backlog * settings.MALLRUN_AVERAGE_ROUTE_MINUTES / total
    )


def _stock_reasons(
    store: Store, items: Sequence[Sequence[int]], rows: dict[int, Stock] | None = None
) -> list[dict]:
    """`rows` (the store's active stock by product id) when the caller read them already."""
    if not items:
        return []
    if rows is None:
        rows = {
            s.product_id: s
            for s in Stock.objects.filter(
                store=store, product_id__in=[p for p, _ in items], product__is_active=True
            ).select_related("product")
        }
    reasons = []
    for product_id, quantity in items:
        row = rows.get(product_id)
        if row is None or row.available <= 0:
            title = row.product.title if row else "An item"
            reasons.append(
                {
                    "code": Reason.OUT_OF_STOCK,
                    "message": f"{title} is sold out at {store.name}.",
                    "product_id": product_id,
                    "available": 0,
                }
            )
        elif row.available < quantity:
            reasons.append(
                {
                    "code": Reason.OUT_OF_STOCK,
                    "message": f"Only {row.available} of {row.product.title} left at {store.name}.",
                    "product_id": product_id,
                    "available": row.available,
                }
            )
    return reasons


def _next_opening(store: Store, local_now: dt.datetime) -> str:
    for days in range(0, 8):
        day = local_now + dt.timedelta(days=days)
        hours = store.hours_on(day.weekday())
        if hours is None or (days == 0 and hours.opens_at <= local_now.time()):
            continue
        when = "today" if days == 0 else ("tomorrow" if days == 1 else day.strftime("%A"))
        return f" It opens {when} at {_fmt(hours.opens_at)}."
    return ""


def quote_compute(
    *,
    store: Store,
    latitude: float,
    longitude: float,
    items: Sequence[Sequence[int]] = (),
    at: dt.datetime | None = None,
    queue: int | None = None,
    driver_wait=_UNSET,
    stock: dict[int, Stock] | None = None,
) -> Promise:
    """Answer eligibility (with every reason that applies), fee and promised time.

    `queue`, `driver_wait` and `stock` may be passed in by `promises_for_stores`, which
    computes them once for many stores.
    """
    at = at or clock.now()
    mall = store.mall
    local_now = mall.local(at)
    items = [[int(p), int(q)] for p, q in items]
    distance = haversine_km(mall.latitude, mall.longitude, latitude, longitude)
    promise = Promise(
        store=store,
        latitude=latitude,
        longitude=longitude,
        items=items,
        distance_km=round(distance, 2),
        fee_cents=fee_for(store, distance),
    )
    reasons = promise.reasons
    if distance > float(mall.service_radius_km):
        reasons.append(
            {
                "code": Reason.OUTSIDE_RADIUS,
                "message": f"This address is {distance:.1f} km from {mall.name}, outside its "
                f"{float(mall.service_radius_km):g} km delivery area.",
            }
        )
    if store.is_paused(at):
        back = store.mall.local(store.paused_until)
        reasons.append(
            {
                "code": Reason.STORE_PAUSED,
                "message": f"{store.name} isn't taking orders right now"
                + (f" (back at {_fmt(back)})." if back.date() == local_now.date() else "."),
            }
        )
    hours = store.hours_on(local_now.weekday())
    if not store.is_open_at(at):
        reasons.append(
            {
                "code": Reason.STORE_CLOSED,
                "message": f"{store.name} is closed now." + _next_opening(store, local_now),
            }
        )
    if local_now.time() >= mall.same_day_cutoff:
        reasons.append(
            {
                "code": Reason.PAST_CUTOFF,
                "message": f"Same-day orders at {mall.name} close at "
                f"{_fmt(mall.same_day_cutoff)}. Order tomorrow morning.",
            }
        )
    reasons.extend(_stock_reasons(store, items, stock))

    if driver_wait is _UNSET:
        driver_wait = _driver_wait_minutes(mall, at)
    if driver_wait is None:
        reasons.append(
            {
                "code": Reason.NO_DRIVERS,
                "message": f"No drivers are delivering from {mall.name} right now.",
            }
        )
        driver_wait = 0
    if mall.is_sandbox:
        # Every integrator shares the sandbox stores and may leave orders open: no queue.
        queue = 0
    elif queue is None:
        queue = _queues([store]).get(store.pk, 0)
    queue_minutes = queue * settings.MALLRUN_QUEUE_MINUTES_PER_ORDER
    ready_minutes = queue_minutes + store.prep_minutes
    leg = travel(mall.latitude, mall.longitude, latitude, longitude)
    total = max(ready_minutes, driver_wait) + leg.minutes + settings.MALLRUN_PROMISE_BUFFER_MINUTES
    promise.minutes = {
        "queue": queue_minutes,
        "prep": store.prep_minutes,
        "driver_wait": driver_wait,
        "travel": math.ceil(leg.minutes),
        "buffer": settings.MALLRUN_PROMISE_BUFFER_MINUTES,
    }
    ready_by = at + dt.timedelta(minutes=ready_minutes)
    promised_by = _round_up(at + dt.timedelta(minutes=total))
    local_ready = mall.local(ready_by)
    closed_already = any(r["code"] == Reason.STORE_CLOSED for r in reasons)
    too_late = hours is not None and (
        local_ready.time() > hours.closes_at or local_ready.date() != local_now.date()
    )
    if too_late and not closed_already:
        reasons.append(
            {
                "code": Reason.STORE_CLOSED,
                "message": f"{store.name} closes at {_fmt(hours.closes_at)}, too soon to "
                "prepare your order today.",
            }
        )
    if mall.local(promised_by).date() != local_now.date() and not any(
        r["code"] in (Reason.PAST_CUTOFF, Reason.OUTSIDE_RADIUS) for r in reasons
    ):
        reasons.append(
            {
                "code": Reason.PAST_CUTOFF,
                "message": f"It's too late in the day for {mall.name} to deliver today.",
            }
        )
    if promise.eligible:
        promise.ready_by = ready_by
        promise.promised_by = promised_by
    return promise


def _queues(stores: Sequence[Store]) -> dict[int, int]:
    """Orders each store still has to prepare (placed or accepted)."""
    return dict(
        Order.objects.filter(
            store__in=stores, status__in=[Order.Status.PLACED, Order.Status.ACCEPTED]
        )
        .values("store")
        .annotate(n=Count("id"))
        .values_list("store", "n")
    )


def promises_for_stores(
    stores: Sequence[Store],
    *,
    latitude: float,
    longitude: float,
    at: dt.datetime | None = None,
    items: dict[int, Sequence[Sequence[int]]] | None = None,
) -> dict[int, Promise]:
    """Promises for a page of stores in a fixed number of queries (stores should come with
    `hours` and `mall__fee_tiers` prefetched). `items`, by store id, are checked against
    stock as `quote_compute` does (a cart's lines)."""
    at = at or clock.now()
    stores = list(stores)
    items = items or {}
    # Opening hours, closures and fee tiers are read per store: fetched once for the page.
    prefetch_related_objects(stores, "hours", "closures", "mall__fee_tiers")
    queues = _queues(stores)
    waits = {}
    for store in stores:
        if store.mall_id not in waits:
            waits[store.mall_id] = _driver_wait_minutes(store.mall, at)
    stock: dict[int, dict[int, Stock]] = {store.pk: {} for store in stores}
    wanted = {int(p) for store_items in items.values() for p, _ in store_items}
    if wanted:
        for row in Stock.objects.filter(
            store__in=stores, product_id__in=wanted, product__is_active=True
        ).select_related("product"):
            stock[row.store_id][row.product_id] = row
    return {
        store.pk: quote_compute(
            store=store,
            latitude=latitude,
            longitude=longitude,
            items=items.get(store.pk, ()),
            at=at,
            queue=queues.get(store.pk, 0),
            driver_wait=waits[store.mall_id],
            stock=stock[store.pk],
        )
        for store in stores
    }


def quote_create(
    *,
    store: Store,
    latitude: float,
    longitude: float,
    items: Sequence[Sequence[int]] = (),
    at: dt.datetime | None = None,
) -> Quote:
    """Compute and keep a quote, valid for 15 minutes."""
    at = at or clock.now()
    promise = quote_compute(store=store, latitude=latitude, longitude=longitude, items=items, at=at)
    return Quote.objects.create(
        store=store,
        latitude=latitude,
        longitude=longitude,
        items=promise.items,
        eligible=promise.eligible,
        reasons=promise.reasons,
        fee_cents=promise.fee_cents,
        distance_km=Decimal(f"{promise.distance_km:.2f}"),
        ready_by=promise.ready_by,
        promised_by=promise.promised_by,
        created_at=at,
        expires_at=at + QUOTE_LIFETIME,
    )


def quote_is_live(quote: Quote, at: dt.datetime | None = None) -> bool:
    return (at or clock.now()) < quote.expires_at
