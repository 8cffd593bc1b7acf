"""Reads for the ops board: a fixed number of queries whatever the number of orders."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Count, Prefetch, Q

from drivers.dispatch.cycle import eligible_drivers
from drivers.models import Block, DispatchDecision, Driver, Route, RouteEvent, RouteStop
from orders.models import Order, OrderEvent
from retailers import clock
from retailers.models import AuditEntry, Mall, StockAdjustment, Store

S = Order.Status
AT_RISK_MINUTES = 15
DEMAND_HOURS = 3


@dataclass
class BoardOrder:
    order: Order
    age_minutes: int
    minutes_left: int  # negative: late by that many minutes
    late: bool
    at_risk: bool

    @property
    def late_minutes(self) -> int:
        return -self.minutes_left


@dataclass
class DemandHour:
    starts_at: dt.datetime
    orders_due: int
    drivers_booked: int

    @property
    def short(self) -> bool:
        # A route carries a few orders; fewer drivers than a third of the orders is short.
        return self.orders_due > 0 and self.drivers_booked * 3 < self.orders_due


@dataclass
class Board:
    mall: Mall
    now: dt.datetime
    orders: list[BoardOrder]
    routes: list[Route]
    online_drivers: list[Driver]
    demand: list[DemandHour]
    stores: list[dict]
    counts: dict = field(default_factory=dict)

    @property
    def flagged(self) -> list[BoardOrder]:
        return [o for o in self.orders if o.late or o.at_risk]


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def malls_for_board(slug: str) -> list[Mall]:
    """The real malls for the board's switcher (active ones, by name) and the one asked for
    even when inactive. One hand-written SELECT: every ops screen polls this page (see
    config/hot_reads.py)."""
    return [mall for (mall,) in _malls_read().rows([False, True, slug])]


@cache
def _malls_read():
    from config.hot_reads import Columns, HotRead, table

    def build(connection, qn, cols):
        m = qn("m")
        return (
            f"SELECT {cols} FROM {table(Mall, connection)} {m} "
            f"WHERE {m}.{qn('is_sandbox')} = %s "
            f"AND ({m}.{qn('is_active')} = %s OR {m}.{qn('slug')} = %s) "
            f"ORDER BY {m}.{qn('name')}, {m}.{qn('id')}"
        )

    return HotRead(build, Columns(Mall, "m"))


def board_for_mall(mall: Mall) -> Board:
    now = clock.now()
    rows = list(
        Order.objects.filter(store__mall=mall, status__in=[*Order.OPEN_STATUSES, S.DELIVERY_FAILED])
        .select_related("store")
        .order_by("promised_by", "pk")
    )
    orders = []
    for o in rows:
        left = _minutes(o.promised_by - now)
        late = o.promised_by < now and o.status != S.DELIVERY_FAILED
        orders.append(
            BoardOrder(
                order=o,
                age_minutes=max(0, _minutes(now - o.placed_at)),
                minutes_left=left,
                late=late,
                at_risk=bool(o.attention) or (not late and left <= AT_RISK_MINUTES),
            )
        )
    # Late first, then flagged or close to the promise, then by promise.
    orders.sort(key=lambda b: (not b.late, not b.at_risk, b.order.promised_by, b.order.pk))

    stops = RouteStop.objects.select_related("order", "store").order_by("sequence")
    routes = list(
        Route.objects.filter(mall=mall, status__in=Route.ACTIVE_STATUSES)
        .select_related("driver__user")
        .prefetch_related(Prefetch("stops", queryset=stops), "pay_lines")
        .order_by("created_at", "pk")
    )
    for route in routes:
        live = [s for s in route.stops.all() if s.status != RouteStop.Status.CANCELLED]
        route.live_stops = live
        route.done_count = sum(
            s.status in (RouteStop.Status.DONE, RouteStop.Status.FAILED) for s in live
        )
        route.progress_pct = round(100 * route.done_count / len(live)) if live else 0

    online = list(Driver.objects.filter(is_online=True, online_mall=mall).select_related("user"))
    hour0 = now.replace(minute=0, second=0, microsecond=0)
    horizon = hour0 + dt.timedelta(hours=DEMAND_HOURS)
    blocks = list(
        Block.objects.filter(mall=mall, starts_at__lt=horizon, ends_at__gt=hour0).annotate(
            booked=Count("bookings", filter=Q(bookings__status="booked"))
        )
    )
    demand = []
    for i in range(DEMAND_HOURS):
        start = hour0 + dt.timedelta(hours=i)
        end = start + dt.timedelta(hours=1)
        due = sum(
            1
            for b in orders
            if b.order.status != S.DELIVERY_FAILED
            and start <= b.order.promised_by < end
            or (i == 0 and b.order.promised_by < start and b.order.status != S.DELIVERY_FAILED)
        )
        booked = sum(b.booked for b in blocks if b.starts_at < end and b.ends_at > start)
        demand.append(DemandHour(starts_at=start, orders_due=due, drivers_booked=booked))

    store_rows = list(Store.objects.filter(mall=mall).select_related("retailer"))
    waiting: dict[int, list[int]] = {}
    for b in orders:
        if b.order.status == S.PLACED:
            waiting.setdefault(b.order.store_id, []).append(b.age_minutes)
    stores = []
    for store in store_rows:
        ages = waiting.get(store.pk, [])
        slow = [a for a in ages if a >= store.acceptance_minutes]
        paused = store.is_paused(now)
        if paused or slow:
            stores.append(
                {"store": store, "paused": paused, "slow": len(slow), "oldest": max(ages or [0])}
            )
    counts = {
        "open": sum(b.order.status in Order.OPEN_STATUSES for b in orders),
        "late": sum(b.late for b in orders),
        "at_risk": sum(b.at_risk and not b.late for b in orders),
        "routes": len(routes),
        "online": len(online),
    }
    return Board(
        mall=mall,
        now=now,
        orders=orders,
        routes=routes,
        online_drivers=online,
        demand=demand,
        stores=stores,
        counts=counts,
    )


def reassign_candidates(route: Route) -> list[Driver]:
    """Drivers who could take the route now (dispatch's own list), minus its current driver."""
    return [d for d in eligible_drivers(route.mall) if d.pk != route.driver_id]


# --- Audit trail: one list over every history table ---------------------------------------


@dataclass
class AuditRow:
    at: dt.datetime
    source: str  # audit, order, route, stock, dispatch
    actor_kind: str
    actor: str
    action: str
    object: str
    detail: str
    before: dict | str = ""
    after: dict | str = ""
    mall_id: int | None = None


AUDIT_SOURCES = {
    "audit": "Settings, reviews and interventions",
    "order": "Order events",
    "route": "Route events",
    "stock": "Stock adjustments",
    "dispatch": "Dispatch decisions",
}


def audit_trail(
    *,
    q: str = "",
    source: str = "",
    actor_kind: str = "",
    mall: Mall | None = None,
    day: dt.date | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """The newest `limit` changes across AuditEntry, OrderEvent, RouteEvent, StockAdjustment
    and DispatchDecision, filtered the same way in each table, merged by time."""
    rows: list[AuditRow] = []
    day_q = {}
    if day is not None:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=mall.tz if mall else dt.UTC)
        day_q = {"created_at__gte": start, "created_at__lt": start + dt.timedelta(days=1)}

    def want(name):
        return not source or source == name

    if want("audit"):
        qs = AuditEntry.objects.filter(**day_q)
        if mall:
            qs = qs.filter(mall=mall)
        if actor_kind:
            qs = qs.filter(actor_kind=actor_kind)
        if q:
            qs = qs.filter(
                Q(action__icontains=q)
                | Q(object_repr__icontains=q)
                | Q(actor_label__icontains=q)
                | Q(reason__icontains=q)
            )
        for e in qs[:limit]:
            rows.append(
                AuditRow(
                    at=e.created_at,
                    source="audit",
                    actor_kind=e.actor_kind,
                    actor=e.actor_label or e.actor_kind,
                    action=e.action,
                    object=e.object_repr or f"{e.object_type} {e.object_id}",
                    detail=e.reason,
                    before=e.before,
                    after=e.after,
                    mall_id=e.mall_id,
                )
            )
    if want("order"):
        qs = OrderEvent.objects.filter(**day_q).select_related("order__store")
        if mall:
            qs = qs.filter(order__store__mall=mall)
        if actor_kind:
            qs = qs.filter(actor_kind=actor_kind)
        if q:
            qs = qs.filter(
                Q(order__number__icontains=q)
                | Q(note__icontains=q)
                | Q(actor_label__icontains=q)
                | Q(to_status__icontains=q)
            )
        for e in qs.order_by("-created_at", "-id")[:limit]:
            rows.append(
                AuditRow(
                    at=e.created_at,
                    source="order",
                    actor_kind=e.actor_kind,
                    actor=e.actor_display,
                    action=f"order.{e.to_status}",
                    object=e.order.number,
                    detail=e.note,
                    before=e.from_status,
                    after=e.to_status,
                    mall_id=e.order.store.mall_id,
                )
            )
    if want("route"):
        qs = RouteEvent.objects.filter(**day_q).select_related("route")
        if mall:
            qs = qs.filter(route__mall=mall)
        if actor_kind:
            qs = qs.filter(actor_kind=actor_kind)
        if q:
            qs = qs.filter(
                Q(note__icontains=q) | Q(actor_label__icontains=q) | Q(to_status__icontains=q)
            )
        for e in qs.order_by("-created_at", "-id")[:limit]:
            rows.append(
                AuditRow(
                    at=e.created_at,
                    source="route",
                    actor_kind=e.actor_kind,
                    actor=e.actor_display,
                    action=f"route.{e.to_status}",
                    object=f"Route {e.route_id}",
                    detail=e.note,
                    before=e.from_status,
                    after=e.to_status,
                    mall_id=e.route.mall_id,
                )
            )
    if want("stock") and actor_kind in ("", "store", "ops", "api"):
        qs = StockAdjustment.objects.filter(**day_q).select_related(
            "stock__product", "stock__store"
        )
        if mall:
            qs = qs.filter(stock__store__mall=mall)
        if q:
            qs = qs.filter(
                Q(stock__product__sku__icontains=q)
                | Q(stock__product__title__icontains=q)
                | Q(note__icontains=q)
                | Q(actor_label__icontains=q)
            )
        for e in qs.order_by("-created_at", "-id")[:limit]:
            rows.append(
                AuditRow(
                    at=e.created_at,
                    source="stock",
                    actor_kind="",
                    actor=e.actor_label,
                    action=f"stock.{e.reason}",
                    object=f"{e.stock.product.sku} @ {e.stock.store.name}",
                    detail=e.note,
                    before=str(e.on_hand_after - e.delta),
                    after=str(e.on_hand_after),
                    mall_id=e.stock.store.mall_id,
                )
            )
    if want("dispatch") and actor_kind in ("", "system"):
        qs = DispatchDecision.objects.filter(**day_q).select_related("run")
        if mall:
            qs = qs.filter(run__mall=mall)
        if q:
            qs = qs.filter(Q(detail__icontains=q) | Q(kind__icontains=q))
        for e in qs.order_by("-created_at", "-id")[:limit]:
            rows.append(
                AuditRow(
                    at=e.created_at,
                    source="dispatch",
                    actor_kind="system",
                    actor="dispatch",
                    action=f"dispatch.{e.kind}",
                    object=f"Route {e.route_id}" if e.route_id else "",
                    detail=e.detail,
                    mall_id=e.run.mall_id,
                )
            )
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows[:limit]


# --- Metrics ------------------------------------------------------------------------------


@dataclass
class DayMetrics:
    day: dt.date
    orders: int = 0
    delivered: int = 0
    on_time: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None
    routes: int = 0
    active_drivers: int = 0
    cancelled: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)

    @property
    def on_time_pct(self) -> int | None:
        return round(100 * self.on_time / self.delivered) if self.delivered else None

    @property
    def orders_per_route(self) -> float | None:
        return round(self.delivered / self.routes, 1) if self.routes else None

    @property
    def cancelled_total(self) -> int:
        return sum(self.cancelled.values())

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 1)


def mall_metrics(mall: Mall, *, days: int = 7) -> list[DayMetrics]:
    """One row per local day, today last: counted from orders placed that day."""
    today = mall.local_now().date()
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time(0), tzinfo=mall.tz)
    out = {
        first + dt.timedelta(days=i): DayMetrics(day=first + dt.timedelta(days=i))
        for i in range(days)
    }
    durations: dict[dt.date, list[float]] = {d: [] for d in out}
    orders = Order.objects.filter(store__mall=mall, placed_at__gte=start).only(
        "placed_at", "promised_by", "delivered_at", "status", "status_reason"
    )
    for o in orders:
        day = mall.local(o.placed_at).date()
        m = out.get(day)
        if m is None:
            continue
        m.orders += 1
        if o.status == S.DELIVERED and o.delivered_at:
            m.delivered += 1
            m.on_time += o.delivered_at <= o.promised_by
            durations[day].append((o.delivered_at - o.placed_at).total_seconds() / 60)
        elif o.status == S.CANCELLED:
            reason = (o.status_reason or "no reason")[:60]
            m.cancelled[reason] = m.cancelled.get(reason, 0) + 1
        if o.status in (S.DELIVERY_FAILED, S.RETURNED):
            reason = (o.status_reason or "no reason")[:60]
            m.failed[reason] = m.failed.get(reason, 0) + 1
    for day, values in durations.items():
        out[day].median_minutes = round(statistics.median(values), 1) if values else None
        out[day].p90_minutes = _percentile(values, 0.9)
    routes = Route.objects.filter(mall=mall, created_at__gte=start, status=Route.Status.COMPLETED)
    for created in routes.values_list("created_at", flat=True):
        m = out.get(mall.local(created).date())
        if m is not None:
            m.routes += 1
    active: dict[dt.date, set] = {d: set() for d in out}
    for created, driver_id in RouteEvent.objects.filter(
        route__mall=mall, created_at__gte=start, driver__isnull=False
    ).values_list("created_at", "driver_id"):
        day = mall.local(created).date()
        if day in active:
            active[day].add(driver_id)
    for day, ids in active.items():
        out[day].active_drivers = len(ids)
    return [out[d] for d in sorted(out)]
