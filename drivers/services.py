"""Every write to drivers, routes and offers.

A route is given to exactly one driver: accepting an offer locks the route row first, so of
two drivers accepting at once the second sees the route taken. A database constraint backs
this up (one accepted offer per route, one live route per driver).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from drivers.models import (
    Block,
    BlockBooking,
    Driver,
    Offer,
    PayLine,
    Route,
    RouteEvent,
    RouteStop,
)
from orders.models import Order
from orders.permissions import Actor, check_offer_answer, check_ops, check_route_actor
from orders.services import NO_DRIVER, order_clear_attention
from orders.tasks import enqueue_driver_location, enqueue_route_assigned
from retailers import clock
from retailers.audit import audit_record, snapshot
from retailers.geo import road_km, travel_minutes
from retailers.models import Mall

RS = Route.Status
OS = Order.Status

ROUTE_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        (RS.PLANNED, RS.OFFERED),
        (RS.OFFERED, RS.PLANNED),  # every open offer was declined or expired
        (RS.OFFERED, RS.ACCEPTED),
        (RS.ACCEPTED, RS.PICKING_UP),
        (RS.PICKING_UP, RS.DELIVERING),
        (RS.DELIVERING, RS.COMPLETED),
        (RS.ACCEPTED, RS.PLANNED),  # the driver dropped it before picking anything up
        (RS.PICKING_UP, RS.PLANNED),
        (RS.PLANNED, RS.CANCELLED),
        (RS.OFFERED, RS.CANCELLED),
        (RS.ACCEPTED, RS.CANCELLED),
        (RS.PICKING_UP, RS.CANCELLED),
    }
)

# Order statuses that count as "the driver has it or is done with it" for route progress.
_COLLECTED = {OS.PICKED_UP, OS.DELIVERED, OS.DELIVERY_FAILED, OS.RETURNED}
_FINISHED = {OS.DELIVERED, OS.RETURNED, OS.CANCELLED, OS.REJECTED}


class RouteError(Exception):
    """A business rule refused the change; the message is meant for the person acting."""


class DriverError(Exception):
    pass


# --- Reading helpers used by the order services ------------------------------------------


def route_for_order(order: Order) -> Route | None:
    """The live route the order rides on, if any."""
    stop = (
        RouteStop.objects.filter(order=order, kind=RouteStop.Kind.DROPOFF)
        .exclude(status=RouteStop.Status.CANCELLED)
        .filter(route__status__in=Route.ACTIVE_STATUSES)
        .select_related("route")
        .first()
    )
    return stop.route if stop else None


def route_orders(route: Route) -> list[Order]:
    """The orders on this route's live drop-off stops (not those taken off it)."""
    live_stops = RouteStop.objects.filter(route=route, kind=RouteStop.Kind.DROPOFF).exclude(
        status=RouteStop.Status.CANCELLED
    )
    return list(Order.objects.filter(pk__in=live_stops.values("order_id")).order_by("pk"))


def driver_unavailable_reason(driver: Driver, *, mall: Mall, bags: int = 0) -> str | None:
    """Why this driver can't take a route at this mall now, or None when they can."""
    if driver.status != Driver.Status.APPROVED:
        return f"Driver is {driver.get_status_display().lower()}."
    now = clock.now()
    on_block = BlockBooking.objects.filter(
        driver=driver,
        status=BlockBooking.Status.BOOKED,
        block__mall=mall,
        block__starts_at__lte=now,
        block__ends_at__gt=now,
    ).exists()
    if not on_block and not (driver.is_online and driver.online_mall_id == mall.pk):
        return "Driver is not online or on a block at this mall."
    if Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES).exists():
        return "Driver is already on a route."
    if bags > driver.capacity_bags:
        return f"The route needs {bags} bags; the vehicle takes {driver.capacity_bags}."
    return None


# --- Moving ---------------------------------------------------------------------------


def _route_move(*, route: Route, to: str, actor: Actor, note: str = "", **fields) -> Route:
    """The single writer of `Route.status`; call inside a transaction on a locked row."""
    if (route.status, to) not in ROUTE_TRANSITIONS:
        raise RouteError(
            f"Route {route.pk} is {route.get_status_display().lower()}; it can't be {to}."
        )
    from_status = route.status
    route.status = to
    for name, value in fields.items():
        setattr(route, name, value)
    route.save(update_fields=["status", *fields])
    RouteEvent.objects.create(
        route=route,
        from_status=from_status,
        to_status=to,
        driver_id=route.driver_id,
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user_id else None,
        actor_label=actor.label,
        note=note,
        created_at=clock.now(),
    )
    return route


def _lock_route(route: Route | int) -> Route:
    pk = route.pk if isinstance(route, Route) else route
    return Route.objects.select_for_update(of=("self",)).select_related("mall").get(pk=pk)


def route_plan(
    *,
    mall: Mall,
    orders: Sequence[Order],
    actor: Actor,
    policy: str = "manual",
    planned_arrivals: Sequence[dt.datetime] | None = None,
) -> Route:
    """Make a route from the mall through `orders`' doors in the given sequence.

    Pickups come first, one per store in order of first appearance. Guarantees: every order is
    accepted or ready at this mall and on no other live route; pay lines (base, per drop-off,
    per km) are written so the pay is known before anyone is offered the route.
    """
    check_ops(actor)
    if not orders:
        raise RouteError("A route needs at least one order.")
    now = clock.now()
    with transaction.atomic():
        locked = list(
            Order.objects.select_for_update(of=("self",))
            .select_related("store", "address")
            .filter(pk__in=[o.pk for o in orders])
            .order_by("pk")
        )
        by_pk = {o.pk: o for o in locked}
        sequence = [by_pk[o.pk] for o in orders]
        for order in sequence:
            if order.store.mall_id != mall.pk:
                raise RouteError(f"Order {order.number} is not from {mall.name}.")
            if order.status not in (OS.ACCEPTED, OS.READY):
                raise RouteError(f"Order {order.number} is {order.status}; it can't be routed.")
        km = 0.0
        minutes = 0.0
        lat, lng = mall.latitude, mall.longitude
        for order in sequence:
            km += road_km(lat, lng, order.address.latitude, order.address.longitude)
            minutes += travel_minutes(lat, lng, order.address.latitude, order.address.longitude)
            lat, lng = order.address.latitude, order.address.longitude
        minutes += settings.MALLRUN_STOP_MINUTES * len(sequence)
        route = Route.objects.create(
            mall=mall,
            policy=policy,
            planned_km=Decimal(f"{km:.2f}"),
            planned_minutes=round(minutes),
            created_at=now,
        )
        stops: list[RouteStop] = []
        seen_stores: list[int] = []
        for order in sequence:
            if order.store_id not in seen_stores:
                seen_stores.append(order.store_id)
        for store_id in seen_stores:
            stops.append(
                RouteStop(route=route, sequence=len(stops) + 1, kind="pickup", store_id=store_id)
            )
        for index, order in enumerate(sequence):
            stops.append(
                RouteStop(
                    route=route,
                    sequence=len(stops) + 1,
                    kind="dropoff",
                    order=order,
                    planned_arrival=planned_arrivals[index] if planned_arrivals else None,
                )
            )
        try:
            with transaction.atomic():
                RouteStop.objects.bulk_create(stops)
        except IntegrityError:
            raise RouteError("One of these orders is already on another route.") from None
        _write_pay_lines(route=route, drop_offs=len(sequence), km=km, at=now)
        RouteEvent.objects.create(
            route=route,
            to_status=RS.PLANNED,
            actor_kind=actor.kind,
            actor_user=actor.user if actor.user_id else None,
            actor_label=actor.label,
            note=f"{len(sequence)} drop-offs, {km:.1f} km",
            created_at=now,
        )
        return route


def _write_pay_lines(*, route: Route, drop_offs: int, km: float, at: dt.datetime) -> None:
    mall = route.mall
    PayLine.objects.bulk_create(
        [
            PayLine(
                route=route, kind=PayLine.Kind.BASE, amount_cents=mall.pay_base_cents, created_at=at
            ),
            PayLine(
                route=route,
                kind=PayLine.Kind.PER_STOP,
                description=f"{drop_offs} × {mall.pay_per_stop_cents / 100:.2f}",
                amount_cents=mall.pay_per_stop_cents * drop_offs,
                created_at=at,
            ),
            PayLine(
                route=route,
                kind=PayLine.Kind.PER_KM,
                description=f"{km:.1f} km",
                amount_cents=round(mall.pay_per_km_cents * km),
                created_at=at,
            ),
        ]
    )


def route_bags(route: Route) -> int:
    return sum(o.bags for o in route_orders(route))


def route_offer(
    *, route: Route, driver: Driver, actor: Actor, expires_in_seconds: int | None = None
) -> Offer:
    """Offer the route to one driver until `expires_at`; the route becomes `offered`."""
    check_ops(actor)
    seconds = expires_in_seconds or settings.MALLRUN_OFFER_SECONDS
    with transaction.atomic():
        route = _lock_route(route)
        if route.status not in (RS.PLANNED, RS.OFFERED):
            raise RouteError(
                f"Route {route.pk} is {route.get_status_display().lower()}; it can't be offered."
            )
        # Read, not locked: accepting re-checks the driver, and locking it here would take
        # route and driver in the opposite order to driver_review.
        driver = Driver.objects.get(pk=driver.pk)
        reason = driver_unavailable_reason(driver, mall=route.mall, bags=route_bags(route))
        if reason:
            raise RouteError(reason)
        now = clock.now()
        try:
            with transaction.atomic():
                offer = Offer.objects.create(
                    route=route,
                    driver=driver,
                    pay_cents=route.pay_cents,
                    created_at=now,
                    expires_at=now + dt.timedelta(seconds=seconds),
                )
        except IntegrityError:
            raise RouteError("This driver already has an open offer for this route.") from None
        if route.status == RS.PLANNED:
            _route_move(route=route, to=RS.OFFERED, actor=actor, note=f"Offered to {driver}")
        return offer


def offer_accept(*, offer: Offer, actor: Actor) -> Route:
    """The driver takes the route. Exactly one driver wins, even when two accept at once."""
    check_offer_answer(actor, offer)
    expired = taken = False
    with transaction.atomic():
        route = _lock_route(offer.route_id)
        offer = (
            Offer.objects.select_for_update(of=("self",)).select_related("driver").get(pk=offer.pk)
        )
        now = clock.now()
        # The winner withdraws every other pending offer, so a loser finds its offer withdrawn.
        if offer.status == Offer.Status.WITHDRAWN and route.driver_id not in (
            None,
            offer.driver_id,
        ):
            raise RouteError("Another driver took this route first.")
        if offer.status != Offer.Status.PENDING:
            raise RouteError("This offer is no longer open.")
        if now >= offer.expires_at:
            _offer_close(offer=offer, status=Offer.Status.EXPIRED, actor=actor, at=now)
            expired = True
        elif route.status != RS.OFFERED or route.driver_id is not None:
            _offer_close(offer=offer, status=Offer.Status.WITHDRAWN, actor=actor, at=now)
            taken = True
        else:
            driver = offer.driver
            if driver.status != Driver.Status.APPROVED:
                raise RouteError(f"You can't take routes: {driver.get_status_display().lower()}.")
            if Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES).exists():
                raise RouteError("Finish your current route before taking another.")
            offer.status = Offer.Status.ACCEPTED
            offer.responded_at = now
            offer.save(update_fields=["status", "responded_at"])
            Offer.objects.filter(route=route, status=Offer.Status.PENDING).update(
                status=Offer.Status.WITHDRAWN, responded_at=now
            )
            route.driver = driver
            _route_move(
                route=route,
                to=RS.ACCEPTED,
                actor=actor,
                note=f"Accepted by {driver}",
                driver=driver,
                accepted_at=now,
            )
            PayLine.objects.filter(route=route, driver__isnull=True).update(driver=driver)
            order_clear_attention(orders=route_orders(route), prefix=NO_DRIVER)
            transaction.on_commit(partial(enqueue_route_assigned, route.pk))
            Driver.objects.filter(pk=driver.pk).update(idle_since=None)
    if expired:
        raise RouteError("This offer expired.")
    if taken:
        raise RouteError("Another driver took this route first.")
    return route


def _offer_close(
    *, offer: Offer, status: str, actor: Actor, at: dt.datetime, reason: str = ""
) -> None:
    offer.status = status
    offer.responded_at = at
    offer.decline_reason = reason
    offer.save(update_fields=["status", "responded_at", "decline_reason"])
    route = _lock_route(offer.route_id)
    still_open = Offer.objects.filter(route=route, status=Offer.Status.PENDING).exists()
    if route.status == RS.OFFERED and not still_open:
        _route_move(
            route=route, to=RS.PLANNED, actor=actor, note=f"Offer {status}: {reason}".strip(": ")
        )


def _dispatch_soon(*, route_id: int, reason: str) -> None:
    """Once this change commits, the route's mall runs its dispatch cycle (next driver)."""
    from drivers.dispatch.triggers import dispatch_after_commit

    mall_id = Route.objects.filter(pk=route_id).values_list("mall_id", flat=True).get()
    dispatch_after_commit(mall_id, reason=reason)


def offer_decline(*, offer: Offer, actor: Actor, reason: str = "") -> Offer:
    """The driver says no; the route goes back to planned when nobody else holds an offer."""
    check_offer_answer(actor, offer)
    with transaction.atomic():
        offer = Offer.objects.select_for_update(of=("self",)).get(pk=offer.pk)
        if offer.status != Offer.Status.PENDING:
            raise RouteError("This offer is no longer open.")
        _offer_close(
            offer=offer, status=Offer.Status.DECLINED, actor=actor, at=clock.now(), reason=reason
        )
        _dispatch_soon(route_id=offer.route_id, reason="offer declined")
        return offer


def offer_expire(*, offer: Offer, actor: Actor | None = None) -> bool:
    """Close an offer whose time is up. Returns False if it was answered or is not due yet."""
    actor = actor or Actor.system("offer-expiry")
    with transaction.atomic():
        offer = Offer.objects.select_for_update(of=("self",)).get(pk=offer.pk)
        now = clock.now()
        if offer.status != Offer.Status.PENDING or now < offer.expires_at:
            return False
        _offer_close(offer=offer, status=Offer.Status.EXPIRED, actor=actor, at=now)
        _dispatch_soon(route_id=offer.route_id, reason="offer expired")
        _offline_after_missed_offers(driver_id=offer.driver_id)
        return True


def _offline_after_missed_offers(*, driver_id: int) -> None:
    """A driver who let several offers in a row run out is probably not looking: offline."""
    limit = settings.MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE
    last = list(
        Offer.objects.filter(driver_id=driver_id)
        .exclude(status=Offer.Status.PENDING)
        .exclude(status=Offer.Status.WITHDRAWN)
        .order_by("-created_at", "-id")
        .values_list("status", flat=True)[:limit]
    )
    if len(last) == limit and all(s == Offer.Status.EXPIRED for s in last):
        driver = Driver.objects.select_for_update(of=("self",)).get(pk=driver_id)
        if driver.is_online:
            driver.is_online = False
            driver.online_mall = None
            driver.offline_reason = (
                f"You missed {limit} offers in a row, so we set you offline. "
                "Go online again when you're ready to drive."
            )
            driver.save(update_fields=["is_online", "online_mall", "offline_reason"])


def route_arrive_at_mall(*, route: Route, actor: Actor) -> Route:
    """The driver is at the mall and starts collecting."""
    check_route_actor(actor, route, driver_action=True)
    with transaction.atomic():
        route = _lock_route(route)
        check_route_actor(actor, route, driver_action=True)  # the caller's copy may be stale
        return _route_move(route=route, to=RS.PICKING_UP, actor=actor, note="Arrived at the mall")


def route_release(*, route: Route, actor: Actor, reason: str) -> Route:
    """The driver (or ops) drops a route before anything was collected; it goes back to planning."""
    check_route_actor(actor, route, driver_action=True)
    if not reason.strip():
        raise RouteError("Say why the route is dropped.")
    with transaction.atomic():
        route = _lock_route(route)
        check_route_actor(actor, route, driver_action=True)  # the caller's copy may be stale
        if any(o.status in _COLLECTED for o in route_orders(route)):
            raise RouteError("Orders were already collected: deliver or return them first.")
        _dispatch_soon(route_id=route.pk, reason="route dropped")
        return _release_locked(route=route, actor=actor, reason=reason)


def _release_locked(*, route: Route, actor: Actor, reason: str) -> Route:
    driver_id = route.driver_id
    _route_move(route=route, to=RS.PLANNED, actor=actor, note=reason, driver=None, accepted_at=None)
    PayLine.objects.filter(route=route, driver_id=driver_id).update(driver=None)
    Offer.objects.filter(route=route, status=Offer.Status.ACCEPTED).update(
        status=Offer.Status.WITHDRAWN
    )
    return route


def route_cancel(*, route: Route, actor: Actor, reason: str) -> Route:
    """Ops (or dispatch) call a route off before pick-up; its orders go back to be planned."""
    check_ops(actor)
    if not reason.strip():
        raise RouteError("Say why the route is cancelled.")
    with transaction.atomic():
        route = _lock_route(route)
        if any(o.status in _COLLECTED for o in route_orders(route)):
            raise RouteError("Orders were already collected: the route can't be cancelled.")
        _cancel_locked(route=route, actor=actor, reason=reason)
        return route


def _cancel_locked(*, route: Route, actor: Actor, reason: str) -> None:
    now = clock.now()
    _route_move(route=route, to=RS.CANCELLED, actor=actor, note=reason, completed_at=now)
    route.stops.exclude(status__in=[RouteStop.Status.DONE, RouteStop.Status.FAILED]).update(
        status=RouteStop.Status.CANCELLED
    )
    Offer.objects.filter(route=route, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, responded_at=now
    )


def route_remove_order(*, order: Order, actor: Actor) -> None:
    """An order left before pick-up (cancelled): take it off its route; cancel an empty route."""
    route = route_for_order(order)
    if route is None:
        return
    route = _lock_route(route)
    RouteStop.objects.filter(route=route, order=order).update(status=RouteStop.Status.CANCELLED)
    remaining = route_orders(route)
    if not any(o.store_id == order.store_id for o in remaining):
        RouteStop.objects.filter(route=route, kind="pickup", store_id=order.store_id).update(
            status=RouteStop.Status.CANCELLED
        )
    if not remaining:
        _cancel_locked(route=route, actor=actor, reason=f"Order {order.number} was cancelled")
    else:
        route_sync(route=route, actor=actor)


def stop_finish(*, route: Route, order: Order, failed: bool, reason: str = "") -> None:
    """Close the order's drop-off. Delivered: the driver earns the order's tip. Failed: the
    route gains a return-to-store stop, closed when the store receives the goods."""
    now = clock.now()
    RouteStop.objects.filter(route=route, order=order, kind="dropoff").exclude(
        status=RouteStop.Status.CANCELLED
    ).update(
        status=RouteStop.Status.FAILED if failed else RouteStop.Status.DONE,
        completed_at=now,
        arrived_at=now,
        fail_reason=reason[:200] if failed else "",
    )
    if failed:
        last = route.stops.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        RouteStop.objects.create(
            route=route,
            sequence=last + 1,
            kind=RouteStop.Kind.RETURN,
            store=order.store,
            order=order,
        )
    elif order.tip_cents and route.driver_id:
        PayLine.objects.create(
            route=route,
            driver_id=route.driver_id,
            order=order,
            kind=PayLine.Kind.TIP,
            description=order.number,
            amount_cents=order.tip_cents,
            created_at=now,
        )


def stop_return_received(*, route: Route | None, order: Order) -> None:
    """The store has the failed delivery back: its return stop is done."""
    if route is None:
        return
    RouteStop.objects.filter(
        route=route, order=order, kind=RouteStop.Kind.RETURN, status=RouteStop.Status.PENDING
    ).update(status=RouteStop.Status.DONE, completed_at=clock.now())


def stop_record_wrong_pin(*, route: Route, order: Order) -> int:
    """Count a wrong PIN at the door (kept even though the delivery itself was refused)."""
    RouteStop.objects.filter(route=route, order=order, kind=RouteStop.Kind.DROPOFF).exclude(
        status=RouteStop.Status.CANCELLED
    ).update(wrong_pin_attempts=F("wrong_pin_attempts") + 1)
    stop = RouteStop.objects.filter(route=route, order=order, kind=RouteStop.Kind.DROPOFF).first()
    return stop.wrong_pin_attempts if stop else 0


def route_sync(*, route: Route | None, actor: Actor) -> None:
    """Move a route along after its orders changed: collecting, delivering, completed."""
    if route is None:
        return
    route = _lock_route(route)
    orders = route_orders(route)
    if not orders:
        return
    statuses = {o.status for o in orders}
    now = clock.now()
    if route.status == RS.ACCEPTED and statuses & _COLLECTED:
        _route_move(route=route, to=RS.PICKING_UP, actor=actor, note="First order collected")
    if route.status == RS.PICKING_UP and statuses <= (_COLLECTED | _FINISHED):
        route.stops.filter(kind="pickup").exclude(status=RouteStop.Status.CANCELLED).update(
            status=RouteStop.Status.DONE, completed_at=now
        )
        _route_move(route=route, to=RS.DELIVERING, actor=actor, note="All orders collected")
    if route.status == RS.DELIVERING and statuses <= _FINISHED:
        _route_move(
            route=route, to=RS.COMPLETED, actor=actor, note="Route finished", completed_at=now
        )
        Driver.objects.filter(pk=route.driver_id).update(idle_since=now)


# --- Drivers --------------------------------------------------------------------------


def driver_review(*, driver: Driver, actor: Actor, status: str, reason: str = "") -> Driver:
    """Ops approve, reject or suspend a driver. Suspension ends their online state and
    withdraws their open offers."""
    check_ops(actor)
    if status not in Driver.Status.values:
        raise DriverError(f"Unknown driver status {status!r}.")
    if status in (Driver.Status.REJECTED, Driver.Status.SUSPENDED) and not reason.strip():
        raise DriverError("Say why.")
    with transaction.atomic():
        driver = Driver.objects.select_for_update(of=("self",)).get(pk=driver.pk)
        before = snapshot(driver, ["status", "status_reason", "is_online", "online_mall"])
        driver.status = status
        driver.status_reason = reason
        fields = ["status", "status_reason"]
        if status != Driver.Status.APPROVED:
            driver.is_online = False
            driver.online_mall = None
            fields += ["is_online", "online_mall"]
        driver.save(update_fields=fields)
        if status != Driver.Status.APPROVED:
            _withdraw_open_offers(driver=driver, actor=actor)
            for route in Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES):
                # Nothing collected yet: the route goes back to be offered to someone else.
                # With goods on board ops must finish it (reassign or deliver), so it stays.
                if not any(o.status in _COLLECTED for o in route_orders(route)):
                    _release_locked(
                        route=_lock_route(route), actor=actor, reason=f"Driver {status}"
                    )
        audit_record(
            actor=actor,
            action=f"driver.{status}",
            obj=driver,
            mall=driver.home_mall_id,
            reason=reason,
            before=before,
            after=snapshot(driver, ["status", "status_reason", "is_online", "online_mall"]),
        )
        return driver


def _withdraw_open_offers(*, driver: Driver, actor: Actor) -> None:
    """Pull back a driver's open offers; routes left with no open offer return to planned."""
    now = clock.now()
    for offer_id, route_id in Offer.objects.filter(
        driver=driver, status=Offer.Status.PENDING
    ).values_list("pk", "route_id"):
        # Route before offer, the order offer_accept locks them in, so the two can't deadlock.
        _lock_route(route_id)
        offer = Offer.objects.select_for_update(of=("self",)).get(pk=offer_id)
        if offer.status == Offer.Status.PENDING:
            _offer_close(offer=offer, status=Offer.Status.WITHDRAWN, actor=actor, at=now)


def driver_go_online(
    *, driver: Driver, mall: Mall, latitude: float | None = None, longitude: float | None = None
) -> Driver:
    """Available for offers at a mall. Only approved drivers; the reason is said otherwise."""
    with transaction.atomic():
        driver = Driver.objects.select_for_update(of=("self",)).get(pk=driver.pk)
        if driver.status != Driver.Status.APPROVED:
            raise DriverError(
                {
                    Driver.Status.PENDING: "Your application is still being reviewed.",
                    Driver.Status.REJECTED: "Your application was not approved.",
                    Driver.Status.SUSPENDED: "Your account is suspended. Contact support.",
                }[driver.status]
            )
        now = clock.now()
        driver.is_online = True
        driver.online_mall = mall
        driver.idle_since = driver.idle_since or now
        driver.offline_reason = ""
        fields = ["is_online", "online_mall", "idle_since", "offline_reason"]
        if latitude is not None and longitude is not None:
            driver.last_latitude, driver.last_longitude, driver.last_located_at = (
                latitude,
                longitude,
                now,
            )
            fields += ["last_latitude", "last_longitude", "last_located_at"]
        driver.save(update_fields=fields)
        return driver


def driver_go_offline(*, driver: Driver) -> Driver:
    with transaction.atomic():
        driver = Driver.objects.select_for_update(of=("self",)).get(pk=driver.pk)
        driver.is_online = False
        driver.online_mall = None
        driver.save(update_fields=["is_online", "online_mall"])
        _withdraw_open_offers(driver=driver, actor=Actor.driver(driver.user))
        return driver


def block_book(*, block: Block, driver: Driver) -> BlockBooking:
    """Book a slot on a block: approved drivers, free slots, no overlapping booking."""
    with transaction.atomic():
        block = Block.objects.select_for_update(of=("self",)).get(pk=block.pk)
        if driver.status != Driver.Status.APPROVED:
            raise DriverError("Only approved drivers can book blocks.")
        now = clock.now()
        if block.starts_at <= now:
            raise DriverError("This block has already started.")
        booked = block.bookings.filter(status=BlockBooking.Status.BOOKED)
        if booked.filter(driver=driver).exists():
            raise DriverError("You already booked this block.")
        if booked.count() >= block.slots:
            raise DriverError("This block is full.")
        overlapping = BlockBooking.objects.filter(
            Q(block__starts_at__lt=block.ends_at) & Q(block__ends_at__gt=block.starts_at),
            driver=driver,
            status=BlockBooking.Status.BOOKED,
        )
        if overlapping.exists():
            raise DriverError("You already have a block at that time.")
        return BlockBooking.objects.create(block=block, driver=driver, booked_at=now)


def driver_apply(
    *,
    user,
    phone: str,
    vehicle_type: str,
    capacity_bags: int,
    plate: str,
    home_mall: Mall | None,
    licence_photo=None,
    consent: bool,
) -> Driver:
    """A person applies to drive: the application waits for ops to approve it."""
    if not consent:
        raise DriverError("You must agree to the terms and the background check to apply.")
    if Driver.objects.filter(user=user).exists():
        raise DriverError("You have already applied.")
    return Driver.objects.create(
        user=user,
        phone=phone,
        vehicle_type=vehicle_type,
        capacity_bags=capacity_bags,
        plate=plate.upper(),
        home_mall=home_mall,
        licence_photo=licence_photo or "",
        consented_at=clock.now(),
        status=Driver.Status.PENDING,
    )


def driver_locate(*, driver: Driver, latitude: float, longitude: float) -> None:
    """The phone's latest position (sent while the driver's page is open)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise DriverError("That location is not valid.")
    Driver.objects.filter(pk=driver.pk).update(
        last_latitude=latitude, last_longitude=longitude, last_located_at=clock.now()
    )
    transaction.on_commit(partial(enqueue_driver_location, driver.pk))


def block_forfeit(*, booking: BlockBooking, driver: Driver) -> BlockBooking:
    """Give a booked block back, up to the cut-off before it starts."""
    with transaction.atomic():
        booking = (
            BlockBooking.objects.select_for_update(of=("self",))
            .select_related("block")
            .get(pk=booking.pk)
        )
        if booking.driver_id != driver.pk:
            raise DriverError("This booking is not yours.")
        if booking.status != BlockBooking.Status.BOOKED:
            raise DriverError("This block was already given back.")
        cutoff = booking.block.starts_at - dt.timedelta(
            minutes=settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES
        )
        now = clock.now()
        if now >= cutoff:
            hours = settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES / 60
            raise DriverError(
                f"Blocks can be given back until {hours:g} h before they start. "
                "Contact support if you can't make it."
            )
        booking.status = BlockBooking.Status.FORFEITED
        booking.forfeited_at = now
        booking.save(update_fields=["status", "forfeited_at"])
        return booking


def stop_keep_fail_photo(*, stop: RouteStop, photo) -> None:
    """The photo a driver takes at a door where the delivery failed (kept for ops and store)."""
    stop.fail_photo = photo
    stop.save(update_fields=["fail_photo"])
