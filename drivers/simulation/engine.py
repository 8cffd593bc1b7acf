"""One simulated day at one mall with one dispatch policy.

A discrete-event loop: the clock (`retailers.clock.set_source`) jumps from one event to the
next, so nothing waits on the wall clock. Shoppers, stores and drivers are simulated; what
they do goes through the production services — `quote_compute`, `checkout_place`, the order
moves, `block_book`, `driver_go_online`, `offer_accept`/`offer_decline`, the route moves —
and dispatch is the real `dispatch_cycle` with the chosen policy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction

from drivers.dispatch.cycle import dispatch_cycle, eligible_drivers
from drivers.models import Block, Driver, Offer, PayLine, Route, RouteStop
from drivers.services import (
    DriverError,
    RouteError,
    block_book,
    driver_apply,
    driver_go_offline,
    driver_go_online,
    driver_locate,
    driver_review,
    offer_accept,
    offer_decline,
    route_arrive_at_mall,
)
from drivers.simulation.metrics import DayRecords, OrderRecord, RouteRecord, day_metrics
from orders.models import Address, Order
from orders.permissions import Actor
from orders.quotes import quote_compute
from orders.services import (
    CartItem,
    CheckoutError,
    OrderError,
    checkout_place,
    order_accept,
    order_cancel,
    order_deliver,
    order_fail_delivery,
    order_mark_ready,
    order_pick_up,
    order_reject,
    order_return,
)
from orders.tasks import side_effects_muted
from retailers import clock
from retailers.geo import haversine_km, travel
from retailers.models import Mall, Stock, Store

OS = Order.Status

# The demand curve: a base all day plus a lunch and an evening peak (local hours).
# The demand curve: a base all day plus a lunch and an after-work peak (local hours; the
# demo malls stop same-day orders at 17:30-18:00).
PEAKS = [(12.5, 0.9, 0.30), (16.75, 0.75, 0.35)]  # (centre hour, sd hours, share)
# Block shifts (local hours) and the share of drivers on each: cover both peaks and the
# deliveries that run past the cut-off.
SHIFTS = [(10, 14, 0.2), (11, 15, 0.25), (12, 16, 0.1), (14, 18, 0.2), (15, 19, 0.25)]


@dataclass
class Settings:
    orders: int = 600
    drivers: int = 80
    seed: int = 1
    policy: str = "greedy"
    time_limit: float = 0.5  # seconds per solver call (production default: 1 s)
    cycle_minutes: float = 5.0  # periodic dispatch while work is open
    cycle_gap_seconds: float = 30.0  # event-triggered cycles are at most this often
    day: dt.date = dt.date(2026, 6, 13)  # a Saturday
    outside_share: float = 0.06  # addresses drawn just beyond the delivery radius
    multi_store_share: float = 0.15  # carts spanning two stores
    reject_rate: float = 0.03  # stores find the item missing and reject
    fail_rate: float = 0.04  # nobody at the door
    no_answer_rate: float = 0.05  # offers left to expire
    accept_pay_per_km: float = 0.9  # $/km at which half of the drivers accept
    accept_slope: float = 0.25  # $/km that moves acceptance by about a quarter


@dataclass
class _DriverState:
    driver: Driver
    actor: Actor
    shift: tuple[dt.datetime, dt.datetime]
    lat: float
    lng: float
    route_id: int | None = None
    off_after_route: bool = False


@dataclass
class _RouteState:
    driver: _DriverState
    accepted_at: dt.datetime
    offers: int = 0
    km: float = 0.0
    orders: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    busy_minutes: float | None = None


class DaySimulation:
    def __init__(
        self, *, mall: Mall, settings: Settings, progress: Callable[[float], None] | None = None
    ):
        self.mall = mall
        self.s = settings
        self.rng = random.Random(f"{settings.seed}:{mall.slug}")
        self.progress = progress or (lambda fraction: None)
        self.events: list = []
        self._seq = 0
        self.now = self._local(8, 0)
        self.records = DayRecords()
        self.order_ids: list[int] = []
        self.failed_orders: set[int] = set()
        self.drivers: dict[int, _DriverState] = {}
        self.routes: dict[int, _RouteState] = {}
        self.offers_seen: set[int] = set()
        self.next_cycle: dt.datetime | None = None
        self.last_cycle: dt.datetime | None = None
        self.cycles = 0
        self.cycles_skipped = 0
        self.store_actor = Actor.system("simulated store")
        self.shopper_n = 0

    # --- time ---------------------------------------------------------------------------

    def _local(self, hour: float, minute: float = 0) -> dt.datetime:
        midnight = dt.datetime.combine(self.s.day, dt.time(0), tzinfo=self.mall.tz)
        return (midnight + dt.timedelta(hours=hour, minutes=minute)).astimezone(dt.UTC)

    def at(self, when: dt.datetime, kind: str, *args) -> None:
        self._seq += 1
        heapq.heappush(self.events, (when, self._seq, kind, args))

    # --- the day ------------------------------------------------------------------------

    def run(self) -> dict:
        clock.set_source(lambda: self.now)
        try:
            with side_effects_muted():
                self._prepare()
                self._loop()
                return self._collect()
        finally:
            clock.set_source(None)

    def _prepare(self) -> None:
        mall = self.mall
        self.now = self._local(-12)  # the evening before: drivers book their blocks
        self._clear_demo_leftovers()
        self.stores = list(
            Store.objects.filter(mall=mall).select_related("mall", "retailer").order_by("pk")
        )
        self.stock = {
            store.pk: list(
                Stock.objects.filter(store=store, on_hand__gt=0)
                .order_by("product_id")
                .values_list("product_id", flat=True)
            )
            for store in self.stores
        }
        self.stores = [s for s in self.stores if self.stock[s.pk]]
        self.zips = _zips_near(mall.latitude, mall.longitude, float(mall.service_radius_km))
        self._hire_drivers()
        opens = self._local(10)
        cutoff = dt.datetime.combine(self.s.day, mall.same_day_cutoff, tzinfo=mall.tz)
        closes = cutoff.astimezone(dt.UTC)
        for when in self._arrivals(opens, closes):
            self.at(when, "checkout")
        self.start, self.end = self._local(9, 30), closes
        self._schedule_cycle(self._local(9, 55), periodic=True)

    def _clear_demo_leftovers(self) -> None:
        """The demo's open orders and online drivers at this mall belong to another day."""
        ops = Actor.system("simulator set-up")
        for order in Order.objects.filter(
            store__mall=self.mall, status__in=[OS.PLACED, OS.ACCEPTED, OS.READY]
        ).order_by("pk"):
            with contextlib.suppress(OrderError, RouteError):
                order_cancel(order=order, actor=ops, reason="Simulator: not part of this day.")
        for driver in Driver.objects.filter(is_online=True).order_by("pk"):
            driver_go_offline(driver=driver)

    def _hire_drivers(self) -> None:
        User = get_user_model()
        ops = Actor.system("simulator set-up")
        blocks = {}
        weights = [share for _, _, share in SHIFTS]
        mall = self.mall
        for i in range(self.s.drivers):
            start_h, end_h, _ = (
                SHIFTS[i % len(SHIFTS)]
                if i < len(SHIFTS)
                else (self.rng.choices(SHIFTS, weights=weights)[0])
            )
            key = (start_h, end_h)
            if key not in blocks:
                blocks[key] = Block.objects.create(
                    mall=mall,
                    starts_at=self._local(start_h),
                    ends_at=self._local(end_h),
                    slots=self.s.drivers,
                    guaranteed_pay_cents=0,
                )
            user = User.objects.create(
                username=f"sim-{mall.slug[:20]}-{i}",
                first_name="Sim",
                last_name=f"Driver {i + 1}",
            )
            driver = driver_apply(
                user=user,
                phone=f"+1702555{i:04d}",
                vehicle_type=Driver.Vehicle.CAR,
                capacity_bags=12,
                plate=f"SIM{i:04d}",
                home_mall=mall,
                consent=True,
            )
            driver = driver_review(driver=driver, actor=ops, status=Driver.Status.APPROVED)
            block_book(block=blocks[key], driver=driver)
            state = _DriverState(
                driver=driver,
                actor=Actor.driver(user),
                shift=(blocks[key].starts_at, blocks[key].ends_at),
                lat=mall.latitude,
                lng=mall.longitude,
            )
            self.drivers[driver.pk] = state
            self.records.shift_minutes += (end_h - start_h) * 60
            self.at(state.shift[0], "shift_start", driver.pk)
            self.at(state.shift[1], "shift_end", driver.pk)

    def _arrivals(self, opens: dt.datetime, closes: dt.datetime) -> list[dt.datetime]:
        span_h = (closes - opens).total_seconds() / 3600
        open_h = self.mall.local(opens).hour
        base_share = 1 - sum(share for _, _, share in PEAKS)
        times = []
        while len(times) < self.s.orders:
            pick = self.rng.random()
            if pick < base_share:
                hours = self.rng.uniform(0, span_h)
            else:
                pick -= base_share
                for centre, sd, share in PEAKS:
                    if pick < share:
                        hours = self.rng.gauss(centre - open_h, sd)
                        break
                    pick -= share
            if 0 <= hours < span_h:
                times.append(opens + dt.timedelta(seconds=round(hours * 3600)))
        return sorted(times)

    def _loop(self) -> None:
        span = (self.end - self.start).total_seconds() + 3 * 3600
        handlers = {
            "checkout": self._checkout,
            "accept": self._store_accept,
            "ready": self._store_ready,
            "cycle": self._cycle,
            "answer": self._answer,
            "at_mall": self._at_mall,
            "door": self._door,
            "back": self._back,
            "returned": self._returned,
            "shift_start": self._shift_start,
            "shift_end": self._shift_end,
        }
        hard_stop = self._local(26)
        while self.events:
            when, _, kind, args = heapq.heappop(self.events)
            if when > hard_stop:
                break
            self.now = max(self.now, when)
            handlers[kind](*args)
            self.progress(min(1.0, max(0.0, (self.now - self.start).total_seconds() / span)))
        self.progress(1.0)

    # --- shoppers -----------------------------------------------------------------------

    def _address(self) -> tuple[float, float, str]:
        rng = self.rng
        outside = rng.random() < self.s.outside_share
        pool = self.zips["outside"] if outside and self.zips["outside"] else self.zips["inside"]
        zip_code, lat, lng = rng.choice(pool)
        # Jitter within ~1.5 km of the ZIP centroid.
        r = 1.5 * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lat += r * math.cos(angle) / 111.0
        lng += r * math.sin(angle) / (111.0 * math.cos(math.radians(lat)))
        return round(lat, 6), round(lng, 6), zip_code

    def _checkout(self) -> None:
        rng = self.rng
        lat, lng, zip_code = self._address()
        n_stores = 2 if rng.random() < self.s.multi_store_share and len(self.stores) > 1 else 1
        stores = rng.sample(self.stores, n_stores)
        items: list[CartItem] = []
        promises = {}
        for store in stores:
            lines = min(len(self.stock[store.pk]), rng.choices([1, 2, 3, 4], [5, 3, 1.5, 0.5])[0])
            products = rng.sample(self.stock[store.pk], lines)
            basket = [[p, 1 if rng.random() < 0.85 else 2] for p in products]
            self.records.quotes += 1
            promise = quote_compute(store=store, latitude=lat, longitude=lng, items=basket)
            if not promise.eligible:
                for code in {r["code"] for r in promise.reasons}:
                    self.records.ineligible[code] += 1
                continue
            promises[store.pk] = promise
            items += [CartItem(store.pk, p, q) for p, q in basket]
        if not items:
            return
        self.shopper_n += 1
        address = Address.objects.create(
            line1=f"{rng.randint(100, 9999)} Simulated St",
            city="Simulated",
            state="NA",
            zip_code=zip_code,
            latitude=lat,
            longitude=lng,
        )
        try:
            orders = checkout_place(
                actor=Actor.system("simulated shopper"),
                items=items,
                address=address,
                recipient_name=f"Shopper {self.shopper_n}",
                recipient_email=f"shopper{self.shopper_n}@example.com",
                promises=promises,
            )
        except CheckoutError:
            self.records.checkout_refused += 1
            return
        for order in orders:
            self.order_ids.append(order.pk)
            self.at(self.now + self._minutes(rng.uniform(0.5, 4)), "accept", order.pk)

    # --- stores -------------------------------------------------------------------------

    @staticmethod
    def _minutes(value: float) -> dt.timedelta:
        return dt.timedelta(seconds=round(value * 60))

    def _store_accept(self, order_id: int) -> None:
        order = Order.objects.select_related("store").get(pk=order_id)
        if order.status != OS.PLACED:
            return
        if self.rng.random() < self.s.reject_rate:
            order_reject(order=order, actor=self.store_actor, reason="Out of stock on the shelf.")
            return
        estimate = order.store.prep_minutes
        order_accept(order=order, actor=self.store_actor, prep_minutes=estimate)
        actual = max(2.0, self.rng.lognormvariate(math.log(estimate), 0.35))
        self.at(self.now + self._minutes(actual), "ready", order_id)
        self._soon()

    def _store_ready(self, order_id: int) -> None:
        order = Order.objects.get(pk=order_id)
        if order.status != OS.ACCEPTED:
            return
        lines = order.lines.count()
        order_mark_ready(order=order, actor=self.store_actor, bags=max(1, min(3, lines)))
        self._soon()

    # --- dispatch -----------------------------------------------------------------------

    def _schedule_cycle(self, when: dt.datetime, *, periodic: bool = False) -> None:
        if self.next_cycle is not None and self.next_cycle <= when:
            return
        self.next_cycle = when
        self.at(when, "cycle", periodic)

    def _soon(self) -> None:
        """Something changed: the cycle runs again shortly (as the event triggers would)."""
        earliest = self.now + dt.timedelta(seconds=5)
        if self.last_cycle is not None:
            earliest = max(
                earliest, self.last_cycle + dt.timedelta(seconds=self.s.cycle_gap_seconds)
            )
        self._schedule_cycle(earliest)

    def _cycle(self, periodic: bool) -> None:
        if self.next_cycle != self.now:
            return  # superseded by an earlier one
        self.next_cycle = None
        if self._cycle_can_progress():
            self.last_cycle = self.now
            self.cycles += 1
            dispatch_cycle(
                mall=self.mall,
                trigger="simulator",
                policy=self.s.policy,
                time_limit=self.s.time_limit,
            )
        else:
            self.cycles_skipped += 1
        for offer in Offer.objects.filter(route__mall=self.mall, status=Offer.Status.PENDING):
            if offer.pk in self.offers_seen:
                continue
            self.offers_seen.add(offer.pk)
            if self.rng.random() < self.s.no_answer_rate:
                self._schedule_cycle(offer.expires_at + dt.timedelta(seconds=1))
                continue
            self.at(self.now + dt.timedelta(seconds=self.rng.uniform(5, 35)), "answer", offer.pk)
        if self._work_open():
            self._schedule_cycle(self.now + self._minutes(self.s.cycle_minutes), periodic=True)

    def _cycle_can_progress(self) -> bool:
        """A cycle with no driver to offer to and no offer to close would only re-plan the
        same routes (real cost, no effect on the day): skip it. A driver coming free, an
        offer running out or a new order schedules the next one."""
        if Offer.objects.filter(
            route__mall=self.mall, status=Offer.Status.PENDING, expires_at__lte=self.now
        ).exists():
            return True
        return bool(eligible_drivers(self.mall))

    def _work_open(self) -> bool:
        return Order.objects.filter(
            pk__in=self.order_ids, status__in=[OS.PLACED, OS.ACCEPTED, OS.READY]
        ).exists()

    # --- drivers ------------------------------------------------------------------------

    def _shift_start(self, driver_id: int) -> None:
        state = self.drivers[driver_id]
        driver_go_online(
            driver=state.driver,
            mall=self.mall,
            latitude=self.mall.latitude,
            longitude=self.mall.longitude,
        )
        self._soon()

    def _shift_end(self, driver_id: int) -> None:
        state = self.drivers[driver_id]
        if state.route_id is not None:
            state.off_after_route = True
            return
        driver_go_offline(driver=state.driver)

    def accept_probability(self, pay_cents: int, km: float) -> float:
        per_km = pay_cents / 100 / max(km, 1.0)
        return 1 / (1 + math.exp(-(per_km - self.s.accept_pay_per_km) / self.s.accept_slope))

    def _answer(self, offer_id: int) -> None:
        offer = Offer.objects.select_related("route", "driver").get(pk=offer_id)
        if offer.status != Offer.Status.PENDING:
            return
        state = self.drivers.get(offer.driver_id)
        if state is None:  # a demo driver: not part of this day
            offer_decline(
                offer=offer, actor=Actor.driver(offer.driver.user), reason="Not driving today."
            )
            self._soon()
            return
        route = offer.route
        p = self.accept_probability(offer.pay_cents, float(route.planned_km))
        if self.rng.random() >= p:
            offer_decline(offer=offer, actor=state.actor, reason="Pay too low for the distance.")
            self._soon()
            return
        try:
            offer_accept(offer=offer, actor=state.actor)
        except RouteError:
            self._soon()
            return
        drops = list(
            RouteStop.objects.filter(route=route, kind=RouteStop.Kind.DROPOFF)
            .exclude(status=RouteStop.Status.CANCELLED)
            .order_by("sequence")
            .values_list("order_id", flat=True)
        )
        run = _RouteState(
            driver=state,
            accepted_at=self.now,
            offers=Offer.objects.filter(route=route).count(),
            orders=drops,
        )
        self.routes[route.pk] = run
        state.route_id = route.pk
        leg = travel(state.lat, state.lng, self.mall.latitude, self.mall.longitude)
        run.km += leg.km
        self.at(self.now + self._minutes(leg.minutes), "at_mall", route.pk)

    def _at_mall(self, route_id: int) -> None:
        run = self.routes[route_id]
        state = run.driver
        state.lat, state.lng = self.mall.latitude, self.mall.longitude
        route = Route.objects.get(pk=route_id)
        if route.status == Route.Status.ACCEPTED:
            route_arrive_at_mall(route=route, actor=state.actor)
        orders = list(Order.objects.filter(pk__in=run.orders))
        if any(o.status == OS.ACCEPTED for o in orders):
            self.at(self.now + dt.timedelta(minutes=1), "at_mall", route_id)  # wait at counter
            return
        stores = {o.store_id for o in orders}
        for order in orders:
            if order.status == OS.READY:
                order_pick_up(order=order, actor=self.store_actor)
        # A couple of minutes at each counter, then the doors in the planned order.
        when = self.now + self._minutes(2 * len(stores))
        lat, lng = state.lat, state.lng
        by_pk = {o.pk: o for o in Order.objects.filter(pk__in=run.orders).select_related("address")}
        service = dt.timedelta(0)
        for order_id in run.orders:
            order = by_pk[order_id]
            if order.status != OS.PICKED_UP:
                continue
            leg = travel(lat, lng, order.address.latitude, order.address.longitude)
            run.km += leg.km
            when += service + self._minutes(leg.minutes)
            self.at(when, "door", route_id, order_id)
            service = self._minutes(django_settings.MALLRUN_STOP_MINUTES)
            lat, lng = order.address.latitude, order.address.longitude
        # Right after the last door: the route is completed there (failures aside), so the
        # driver is free for the next offer from that spot.
        self.at(when, "back", route_id, lat, lng)

    def _door(self, route_id: int, order_id: int) -> None:
        run = self.routes[route_id]
        order = Order.objects.get(pk=order_id)
        if self.rng.random() < self.s.fail_rate:
            order_fail_delivery(
                order=order, actor=run.driver.actor, reason="No answer at the door."
            )
            run.failed.append(order_id)
            self.failed_orders.add(order_id)
        else:
            order_deliver(order=order, actor=run.driver.actor, pin=order.delivery_pin)

    def _back(self, route_id: int, lat: float, lng: float) -> None:
        """After the last door: failed deliveries go back to their store, then the driver is
        free again (at the mall after returns, else at the last door)."""
        run = self.routes[route_id]
        state = run.driver
        state.lat, state.lng = lat, lng
        if run.failed:
            leg = travel(lat, lng, self.mall.latitude, self.mall.longitude)
            run.km += leg.km
            run.failed, failed = [], run.failed
            self.at(self.now + self._minutes(leg.minutes), "returned", route_id, failed)
            return
        self._finish(route_id)

    def _returned(self, route_id: int, failed: list[int]) -> None:
        state = self.routes[route_id].driver
        state.lat, state.lng = self.mall.latitude, self.mall.longitude
        for order_id in failed:
            order_return(
                order=Order.objects.get(pk=order_id),
                actor=self.store_actor,
                note="Back at the counter.",
            )
        self._finish(route_id)

    def _finish(self, route_id: int) -> None:
        run = self.routes[route_id]
        state = run.driver
        run.busy_minutes = (self.now - run.accepted_at).total_seconds() / 60
        state.route_id = None
        driver_locate(driver=state.driver, latitude=state.lat, longitude=state.lng)
        Driver.objects.filter(pk=state.driver.pk, idle_since__isnull=True).update(
            idle_since=self.now
        )
        if state.off_after_route or self.now >= state.shift[1]:
            driver_go_offline(driver=state.driver)
        else:
            self._soon()

    # --- results ------------------------------------------------------------------------

    def _collect(self) -> dict:
        records = self.records
        for o in Order.objects.filter(pk__in=self.order_ids).order_by("pk"):
            records.orders.append(
                OrderRecord(
                    placed_at=o.placed_at,
                    promised_by=o.promised_by,
                    status=o.status,
                    delivered_at=o.delivered_at,
                    failed=o.pk in self.failed_orders,
                )
            )
        pay = Counter()
        for route_id, amount in PayLine.objects.filter(route_id__in=self.routes).values_list(
            "route_id", "amount_cents"
        ):
            pay[route_id] += amount
        for route_id, run in sorted(self.routes.items()):
            busy = run.busy_minutes
            if busy is None:  # still out when the day was cut off
                busy = (self.now - run.accepted_at).total_seconds() / 60
            records.routes.append(
                RouteRecord(
                    orders=len(run.orders),
                    km=run.km,
                    pay_cents=pay[route_id],
                    offers=run.offers,
                    busy_minutes=busy,
                )
            )
        metrics = day_metrics(records)
        metrics["dispatch_cycles"] = self.cycles
        metrics["dispatch_cycles_skipped"] = self.cycles_skipped
        return {
            "metrics": metrics,
            "hourly": self._hourly(records),
            "records": records,
        }

    def _hourly(self, records: DayRecords) -> list[dict]:
        by_hour: dict[int, dict] = {}
        for o in records.orders:
            hour = self.mall.local(o.placed_at).hour
            row = by_hour.setdefault(
                hour, {"hour": hour, "placed": 0, "delivered": 0, "late": 0, "late_minutes": 0.0}
            )
            row["placed"] += 1
            if o.status == "delivered" and o.delivered_at:
                row["delivered"] += 1
                late = (o.delivered_at - o.promised_by).total_seconds() / 60
                if late > 0:
                    row["late"] += 1
                    row["late_minutes"] += late
        rows = [by_hour[h] for h in sorted(by_hour)]
        for row in rows:
            row["late_minutes"] = round(row["late_minutes"], 1)
        return rows


@cache
def _all_zips() -> tuple[tuple[str, float, float], ...]:
    import zipcodes

    out = []
    for z in zipcodes.list_all():
        if z.get("lat") and z.get("long") and z.get("zip_code_type") == "STANDARD":
            out.append((z["zip_code"], float(z["lat"]), float(z["long"])))
    return tuple(out)


def _zips_near(lat: float, lng: float, radius_km: float) -> dict[str, list]:
    inside, outside = [], []
    for zip_code, zlat, zlng in _all_zips():
        if abs(zlat - lat) > 1 or abs(zlng - lng) > 1.5:
            continue
        km = haversine_km(lat, lng, zlat, zlng)
        if km <= radius_km * 0.9:
            inside.append((zip_code, zlat, zlng))
        elif km <= radius_km * 1.4:
            outside.append((zip_code, zlat, zlng))
    if not inside:
        inside = [("00000", lat, lng)]
    return {"inside": inside, "outside": outside}


def simulate_day(*, mall: Mall, settings: Settings, progress=None) -> dict:
    """Play the day inside a transaction that is rolled back: the next policy starts from
    the same state, and the scratch database is left as it was loaded."""
    with transaction.atomic():
        result = DaySimulation(mall=mall, settings=settings, progress=progress).run()
        transaction.set_rollback(True)
    return result


__all__ = ["DaySimulation", "Settings", "simulate_day", "DriverError"]
