"""Ops interventions. Each composes the services that own the change (orders, drivers,
retailers), so the rules are the same as on every other surface, and writes one audit entry
in the same transaction. Services that already audit themselves (store pause/resume,
driver_review) are called directly by the views.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from drivers.models import Driver, Offer, PayLine, Route
from drivers.services import (
    RouteError,
    _lock_route,
    route_offer,
    route_orders,
    route_release,
)
from orders.models import Order
from orders.permissions import Actor, check_ops
from orders.services import order_cancel
from retailers import clock
from retailers.audit import audit_record
from retailers.models import Mall

MAX_BOOST_CENTS = 5_000
_COLLECTED = {
    Order.Status.PICKED_UP,
    Order.Status.DELIVERED,
    Order.Status.DELIVERY_FAILED,
    Order.Status.RETURNED,
}


def ops_order_cancel(*, order: Order, actor: Actor, reason: str) -> Order:
    """Cancel an order for ops; refused once the driver has it (order_cancel's rule)."""
    check_ops(actor)
    with transaction.atomic():
        before = {"status": order.status}
        order = order_cancel(order=order, actor=actor, reason=reason)
        audit_record(
            actor=actor,
            action="order.cancel",
            obj=order,
            mall=order.store.mall_id,
            reason=reason,
            before=before,
            after={"status": order.status},
        )
    return order


def ops_route_reassign(*, route: Route, driver: Driver, actor: Actor, reason: str) -> Offer:
    """Give a route to a chosen driver: release it from its driver if held (refused once
    anything was collected), pull back offers to others, and offer it to the chosen one.
    All or nothing: if the chosen driver can't take it, the route stays where it was."""
    check_ops(actor)
    if not reason.strip():
        raise RouteError("Say why the route is reassigned.")
    with transaction.atomic():
        route = _lock_route(route)
        before = {"status": route.status, "driver": route.driver_id}
        if route.driver_id == driver.pk and route.status in Route.HELD_STATUSES:
            raise RouteError(f"{driver} already holds this route.")
        if route.status in Route.HELD_STATUSES:
            if any(o.status in _COLLECTED for o in route_orders(route)):
                raise RouteError("Orders were already collected: deliver or return them first.")
            route = route_release(route=route, actor=actor, reason=f"Reassigned by ops: {reason}")
        elif route.status not in (Route.Status.PLANNED, Route.Status.OFFERED):
            raise RouteError(
                f"Route {route.pk} is {route.get_status_display().lower()}; it can't be reassigned."
            )
        Offer.objects.filter(route=route, status=Offer.Status.PENDING).exclude(
            driver=driver
        ).update(status=Offer.Status.WITHDRAWN, responded_at=clock.now())
        offer = route_offer(route=route, driver=driver, actor=actor)
        audit_record(
            actor=actor,
            action="route.reassign",
            obj=route,
            object_repr=f"Route {route.pk}",
            mall=route.mall_id,
            reason=reason,
            before=before,
            after={"status": Route.Status.OFFERED, "offered_to": driver.pk},
        )
        return offer


def ops_route_boost(*, route: Route, actor: Actor, amount_cents: int, reason: str) -> PayLine:
    """Add a boost to a route nobody takes (planned or offered); open offers show the new pay."""
    check_ops(actor)
    if not reason.strip():
        raise RouteError("Say why the route is boosted.")
    if not 1 <= amount_cents <= MAX_BOOST_CENTS:
        raise RouteError(f"A boost is between $0.01 and ${MAX_BOOST_CENTS // 100}.")
    with transaction.atomic():
        route = _lock_route(route)
        if route.status not in (Route.Status.PLANNED, Route.Status.OFFERED):
            raise RouteError(
                f"Route {route.pk} is {route.get_status_display().lower()}: "
                "only a route nobody has taken can be boosted."
            )
        before = {"pay_cents": route.pay_cents}
        line = PayLine.objects.create(
            route=route,
            kind=PayLine.Kind.BOOST,
            description=f"Ops boost: {reason.strip()}"[:200],
            amount_cents=amount_cents,
            created_at=clock.now(),
        )
        after_pay = before["pay_cents"] + amount_cents
        Offer.objects.filter(route=route, status=Offer.Status.PENDING).update(pay_cents=after_pay)
        audit_record(
            actor=actor,
            action="route.boost",
            obj=route,
            object_repr=f"Route {route.pk}",
            mall=route.mall_id,
            reason=reason,
            before=before,
            after={"pay_cents": after_pay},
        )
        return line


def _enqueue_dispatch(mall_id: int, trigger: str) -> None:
    from drivers.dispatch.triggers import queue_mall_dispatch

    queue_mall_dispatch(mall_id, trigger)


def ops_mall_redispatch(*, mall: Mall, actor: Actor, reason: str) -> None:
    """Run the mall's dispatch cycle now, in the task queue (never in the request)."""
    check_ops(actor)
    if not reason.strip():
        raise RouteError("Say why dispatch should run now.")
    with transaction.atomic():
        audit_record(actor=actor, action="mall.redispatch", obj=mall, mall=mall, reason=reason)
        transaction.on_commit(partial(_enqueue_dispatch, mall.pk, f"ops: {reason.strip()}"[:64]))
