"""One dispatch cycle at one mall: sweep, re-plan, plan, offer — and log every decision.

`dispatch_cycle(mall=…)` is what the tasks call. It

1. claims the mall's lock (or records a skipped run and returns);
2. closes offers whose time is up (the scheduler can lag ~30 s, so expiry can't wait for it);
3. dissolves routes that must be re-planned: a planned or offered route that lost an order
   (cancelled), a planned route still waiting past a planned arrival (promise at risk), and
   planned routes that never reached a driver when new orders arrived, so they batch
   together again;
4. plans the pending orders (accepted and ready within the horizon, on no live route) with the
   policy by name, under the time limit, and creates the routes through `route_plan`;
5. offers each planned route to the best eligible driver, one driver at a time, boosting the
   pay after repeated misses; with nobody available the route waits and its orders are
   flagged at risk for ops.

Every state change goes through the route and order services, as Actor.system("dispatch").
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from drivers.dispatch.lock import lock_claim, lock_force_release, lock_release, new_token
from drivers.dispatch.policies import plan as make_plan
from drivers.dispatch.problem import Job, Problem, check_route
from drivers.dispatch.triggers import inside_cycle
from drivers.models import (
    BlockBooking,
    DispatchDecision,
    DispatchRun,
    Driver,
    Offer,
    PayLine,
    Route,
    RouteStop,
)
from drivers.services import (
    RouteError,
    offer_expire,
    route_bags,
    route_cancel,
    route_offer,
    route_orders,
    route_plan,
)
from orders.models import Order
from orders.permissions import Actor
from orders.services import NO_DRIVER, order_flag_attention
from retailers import clock
from retailers.geo import road_km
from retailers.models import Mall

log = logging.getLogger(__name__)

RS = Route.Status
OS = Order.Status
Kind = DispatchDecision.Kind
ACTOR = Actor.system("dispatch")
MAX_RERUNS = 3


@dataclass
class _Log:
    run: DispatchRun
    decisions: list[DispatchDecision] = field(default_factory=list)

    def add(self, kind: str, detail: str, *, route=None, driver=None, order=None) -> None:
        self.decisions.append(
            DispatchDecision(
                run=self.run,
                kind=kind,
                route=route,
                driver=driver,
                order=order,
                detail=detail[:300],
                created_at=clock.now(),
            )
        )

    def save(self) -> None:
        DispatchDecision.objects.bulk_create(self.decisions)
        self.decisions = []


def dispatch_cycle(
    *,
    mall: Mall,
    trigger: str = "",
    policy: str | None = None,
    time_limit: float | None = None,
) -> DispatchRun:
    """Run the mall's cycle unless another is running; returns the run record (the last one
    when triggers arrived meanwhile and it ran again)."""
    policy = policy or settings.MALLRUN_DISPATCH_POLICY
    if time_limit is None:
        time_limit = settings.MALLRUN_DISPATCH_TIME_LIMIT_MS / 1000
    token = new_token()
    if not lock_claim(mall_id=mall.pk, token=token):
        now = clock.now()
        return DispatchRun.objects.create(
            mall=mall,
            trigger=trigger,
            outcome=DispatchRun.Outcome.SKIPPED,
            policy=policy,
            note="Another cycle holds this mall; it will run again for this trigger.",
            started_at=now,
            finished_at=now,
        )
    run = None
    try:
        with inside_cycle():
            for attempt in range(MAX_RERUNS + 1):
                run = _run_once(
                    mall=mall,
                    trigger=trigger if attempt == 0 else f"{trigger} (re-run)",
                    policy=policy,
                    time_limit=time_limit,
                )
                if attempt == MAX_RERUNS or not lock_release(mall_id=mall.pk, token=token):
                    break
    finally:
        lock_force_release(mall_id=mall.pk, token=token)
    return run


def _run_once(*, mall: Mall, trigger: str, policy: str, time_limit: float) -> DispatchRun:
    started = time.perf_counter()
    run = DispatchRun.objects.create(
        mall=mall,
        trigger=trigger,
        policy=policy,
        time_limit_ms=round(time_limit * 1000),
        started_at=clock.now(),
    )
    entries = _Log(run)
    try:
        run.offers_expired = _sweep_expired_offers(mall, entries)
        _dissolve_for_replanning(mall, entries)
        _plan_pending(mall, entries, policy=policy, time_limit=time_limit)
        _offer_planned_routes(mall, entries)
    except Exception as exc:
        log.exception("dispatch cycle at %s failed", mall)
        run.outcome = DispatchRun.Outcome.FAILED
        run.note = f"{type(exc).__name__}: {exc}"[:1000]
    entries.save()
    run.cycle_ms = round((time.perf_counter() - started) * 1000)
    run.finished_at = clock.now()
    run.save()
    return run


# --- 1. Expired offers -----------------------------------------------------------------------


def _sweep_expired_offers(mall: Mall, entries: _Log) -> int:
    now = clock.now()
    expired = 0
    due = Offer.objects.filter(
        route__mall=mall, status=Offer.Status.PENDING, expires_at__lte=now
    ).select_related("driver__user")
    for offer in due:
        if offer_expire(offer=offer, actor=ACTOR):
            expired += 1
            entries.add(
                Kind.EXPIRED,
                f"{offer.driver} did not answer in time",
                route=offer.route,
                driver=offer.driver,
            )
    return expired


# --- 2. Re-planning ------------------------------------------------------------------------


def _live_dropoffs():
    return RouteStop.objects.filter(
        kind=RouteStop.Kind.DROPOFF, route__status__in=Route.ACTIVE_STATUSES
    ).exclude(status=RouteStop.Status.CANCELLED)


def _pending_orders(mall: Mall) -> list[Order]:
    now = clock.now()
    horizon = dt.timedelta(minutes=settings.MALLRUN_DISPATCH_READY_HORIZON_MINUTES)
    return list(
        Order.objects.filter(store__mall=mall)
        .filter(Q(status=OS.READY) | Q(status=OS.ACCEPTED, ready_by__lte=now + horizon))
        .exclude(pk__in=_live_dropoffs().values("order_id"))
        .select_related("address", "store")
        .order_by("promised_by", "pk")
    )


def _dissolve_for_replanning(mall: Mall, entries: _Log) -> None:
    """Cancel routes whose plan no longer holds, so their orders are planned afresh."""
    unheld = Route.objects.filter(mall=mall, status__in=[RS.PLANNED, RS.OFFERED])
    lost_an_order = unheld.filter(
        Exists(
            RouteStop.objects.filter(
                route=OuterRef("pk"),
                kind=RouteStop.Kind.DROPOFF,
                status=RouteStop.Status.CANCELLED,
            )
        )
    )
    lost = "an order left the route; re-planning the rest"
    reasons: dict[int, str] = dict.fromkeys(lost_an_order.values_list("pk", flat=True), lost)
    # Still waiting for a driver past a planned arrival: the timing no longer holds and
    # promises are at risk, so plan again from now (impossible promises get flagged there).
    stale = unheld.filter(status=RS.PLANNED).filter(
        Exists(
            RouteStop.objects.filter(
                route=OuterRef("pk"),
                kind=RouteStop.Kind.DROPOFF,
                status=RouteStop.Status.PENDING,
                planned_arrival__lt=clock.now(),
            )
        )
    )
    for pk in stale.values_list("pk", flat=True):
        reasons.setdefault(pk, "still waiting after its planned arrival; promise at risk")
    if _pending_orders(mall):
        never_offered = unheld.filter(status=RS.PLANNED).exclude(
            Exists(Offer.objects.filter(route=OuterRef("pk")))
        )
        for pk in never_offered.values_list("pk", flat=True):
            reasons.setdefault(pk, "no driver took it yet; re-batching with new orders")
    for route in Route.objects.filter(pk__in=reasons).order_by("pk"):
        try:
            route_cancel(
                route=route, actor=ACTOR, reason=f"Re-planned by dispatch: {reasons[route.pk]}"
            )
        except RouteError as exc:
            entries.add(Kind.ERROR, f"Could not re-plan: {exc}", route=route)
            continue
        entries.add(Kind.REPLANNED, reasons[route.pk], route=route)


# --- 3. Planning -----------------------------------------------------------------------------


def build_problem(mall: Mall, orders: list[Order], *, now: dt.datetime) -> Problem:
    def seconds(moment: dt.datetime | None) -> int:
        return int((moment - now).total_seconds()) if moment else 0

    jobs = [
        Job(
            key=o.pk,
            lat=o.address.latitude,
            lng=o.address.longitude,
            bags=o.bags,
            ready_s=0 if o.status == OS.READY else max(0, seconds(o.ready_by)),
            deadline_s=seconds(o.promised_by),
        )
        for o in orders
    ]
    return Problem(
        mall_lat=mall.latitude,
        mall_lng=mall.longitude,
        jobs=jobs,
        capacity_bags=settings.MALLRUN_DISPATCH_VEHICLE_BAGS,
        max_stops=settings.MALLRUN_DISPATCH_MAX_STOPS,
        max_route_s=settings.MALLRUN_DISPATCH_MAX_ROUTE_MINUTES * 60,
        service_s=settings.MALLRUN_STOP_MINUTES * 60,
        road_factor=settings.MALLRUN_ROAD_FACTOR,
        speed_kmh=settings.MALLRUN_SPEED_KMH,
    )


def _plan_pending(mall: Mall, entries: _Log, *, policy: str, time_limit: float) -> None:
    run = entries.run
    orders = _pending_orders(mall)
    run.orders_considered = len(orders)
    if not orders:
        run.method = ""
        return
    now = clock.now()
    problem = build_problem(mall, orders, now=now)
    plan = make_plan(
        problem, policy=policy, time_limit=time_limit, seed=settings.MALLRUN_DISPATCH_SEED
    )
    run.method = plan.method
    run.fallback_reason = plan.fallback_reason[:300]
    run.solve_ms = round(plan.solve_s * 1000)
    for j in problem.hopeless:
        order = orders[j]
        note = f"Promise at risk: can't reach the door by {mall.local(order.promised_by):%H:%M}"
        if order_flag_attention(order=order, actor=ACTOR, attention=note):
            entries.add(Kind.AT_RISK, note, order=order)
    km = Decimal(0)
    for seq in plan.routes:
        check = check_route(problem, seq)
        route_orders_seq = [orders[j] for j in seq]
        try:
            route = route_plan(
                mall=mall,
                orders=route_orders_seq,
                actor=ACTOR,
                policy=f"{policy}→{plan.method}" if plan.fallback_reason else policy,
                planned_arrivals=[now + dt.timedelta(seconds=s) for s in check.arrivals_s],
            )
        except RouteError as exc:  # an order changed since it was read: next cycle has it
            entries.add(Kind.ERROR, f"Route not planned: {exc}")
            continue
        _write_tip_lines(route=route, orders=route_orders_seq)
        run.routes_planned += 1
        km += route.planned_km
        entries.add(
            Kind.PLANNED,
            f"{len(seq)} drop-offs, {check.bags} bags, {route.planned_km} km, "
            f"{check.duration_s // 60} min by {plan.method}"
            + (f" (fallback: {plan.fallback_reason})" if plan.fallback_reason else ""),
            route=route,
        )
    run.planned_km = km


def _write_tip_lines(*, route: Route, orders: list[Order]) -> None:
    """Shoppers' tips go to the driver in full: one TIP line per tipped order, written before
    the offer so the pay shown to the driver includes them."""
    now = clock.now()
    PayLine.objects.bulk_create(
        PayLine(
            route=route,
            order=o,
            kind=PayLine.Kind.TIP,
            description=f"Tip on {o.number}",
            amount_cents=o.tip_cents,
            created_at=now,
        )
        for o in orders
        if o.tip_cents > 0
    )


# --- 4. Offers ----------------------------------------------------------------------------


def eligible_drivers(mall: Mall) -> list[Driver]:
    """Drivers who may be offered a route at this mall now, best first: approved, online at
    the mall or on a block there, not holding a route, not already weighing another offer;
    closest to the mall first, then the one idle longest."""
    now = clock.now()
    on_block = BlockBooking.objects.filter(
        status=BlockBooking.Status.BOOKED,
        block__mall=mall,
        block__starts_at__lte=now,
        block__ends_at__gt=now,
    ).values("driver_id")
    busy = Route.objects.filter(status__in=Route.HELD_STATUSES).values("driver_id")
    weighing = Offer.objects.filter(status=Offer.Status.PENDING).values("driver_id")
    drivers = (
        Driver.objects.filter(status=Driver.Status.APPROVED)
        .filter(Q(is_online=True, online_mall=mall) | Q(pk__in=on_block))
        .exclude(pk__in=busy)
        .exclude(pk__in=weighing)
        .select_related("user")
    )
    far_future = now + dt.timedelta(days=3650)

    def rank(d: Driver):
        km = (
            road_km(d.last_latitude, d.last_longitude, mall.latitude, mall.longitude)
            if d.last_latitude is not None and d.last_longitude is not None
            else 0.0  # online at the mall without a fix: assume at the mall
        )
        return (round(km, 1), d.idle_since or far_future, d.pk)

    return sorted(drivers, key=rank)


def _route_boost(*, route: Route, misses: int, entries: _Log) -> None:
    """Raise the route's pay by one boost step (a BOOST pay line) after repeated misses."""
    with transaction.atomic():
        locked = Route.objects.select_for_update(of=("self",)).get(pk=route.pk)
        if locked.status != RS.PLANNED:
            return
        PayLine.objects.create(
            route=locked,
            kind=PayLine.Kind.BOOST,
            description=f"Boost after {misses} missed offers",
            amount_cents=settings.MALLRUN_DISPATCH_BOOST_CENTS,
            created_at=clock.now(),
        )
    entries.add(
        Kind.BOOSTED,
        f"+{settings.MALLRUN_DISPATCH_BOOST_CENTS / 100:.2f} after {misses} misses",
        route=route,
    )


def _offer_planned_routes(mall: Mall, entries: _Log) -> None:
    run = entries.run
    routes = list(Route.objects.filter(mall=mall, status=RS.PLANNED).order_by("created_at", "pk"))
    if not routes:
        return
    candidates = eligible_drivers(mall)
    taken: set[int] = set()
    step = settings.MALLRUN_DISPATCH_BOOST_AFTER_MISSES
    for route in routes:
        missed = list(
            Offer.objects.filter(
                route=route, status__in=[Offer.Status.DECLINED, Offer.Status.EXPIRED]
            ).values_list("driver_id", "responded_at")
        )
        boosts = list(
            PayLine.objects.filter(route=route, kind=PayLine.Kind.BOOST).values_list(
                "created_at", flat=True
            )
        )
        if (
            step
            and len(missed) >= step * (len(boosts) + 1)
            and len(boosts) < settings.MALLRUN_DISPATCH_MAX_BOOSTS
        ):
            _route_boost(route=route, misses=len(missed), entries=entries)
            boosts.append(clock.now())
        # Drivers who passed on it are asked again only after the pay went up.
        last_boost = max(boosts, default=None)
        passed = {
            driver_id
            for driver_id, answered in missed
            if last_boost is None or answered is None or answered >= last_boost
        }
        bags = route_bags(route)
        offered = False
        for driver in candidates:
            if driver.pk in taken or driver.pk in passed or driver.capacity_bags < bags:
                continue
            try:
                offer = route_offer(route=route, driver=driver, actor=ACTOR)
            except RouteError as exc:
                entries.add(Kind.ERROR, f"Not offered: {exc}", route=route, driver=driver)
                taken.add(driver.pk)
                continue
            taken.add(driver.pk)
            run.offers_made += 1
            offered = True
            entries.add(
                Kind.OFFERED,
                f"to {driver}, pay {offer.pay_cents / 100:.2f}, "
                f"answer by {mall.local(offer.expires_at):%H:%M:%S}",
                route=route,
                driver=driver,
            )
            break
        if offered:
            continue
        run.routes_waiting += 1
        entries.add(Kind.WAITING, f"no eligible driver for {bags} bags", route=route)
        for order in route_orders(route):
            note = f"{NO_DRIVER} for route {route.pk}"
            if order_flag_attention(order=order, actor=ACTOR, attention=note):
                entries.add(Kind.AT_RISK, note, route=route, order=order)
