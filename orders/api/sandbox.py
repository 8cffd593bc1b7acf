"""Sandbox: push a test-mode order through its life with the real services, so an
integrator sees every webhook without a store or a real driver.

Pick-up needs a driver holding the order's route: a per-mall sandbox driver (a user with
an unusable password, never online) is made for it, and the route is planned, offered and
accepted through drivers.services like any other.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from orders import services as s
from orders.api.errors import Conflict
from orders.models import Order
from orders.permissions import Actor

Status = Order.Status

HAPPY_NEXT = {
    Status.PLACED: Status.ACCEPTED,
    Status.ACCEPTED: Status.READY,
    Status.READY: Status.PICKED_UP,
    Status.PICKED_UP: Status.DELIVERED,
    Status.DELIVERY_FAILED: Status.RETURNED,
}
PATHS = {
    Status.ACCEPTED: [Status.ACCEPTED],
    Status.READY: [Status.ACCEPTED, Status.READY],
    Status.PICKED_UP: [Status.ACCEPTED, Status.READY, Status.PICKED_UP],
    Status.DELIVERED: [Status.ACCEPTED, Status.READY, Status.PICKED_UP, Status.DELIVERED],
    Status.DELIVERY_FAILED: [Status.ACCEPTED, Status.READY, Status.PICKED_UP, "delivery_failed"],
    Status.RETURNED: [
        Status.ACCEPTED,
        Status.READY,
        Status.PICKED_UP,
        Status.DELIVERY_FAILED,
        Status.RETURNED,
    ],
}


def _sandbox_driver(mall):
    """A free sandbox driver of this mall (one per sandbox route in progress)."""
    from drivers.models import Driver, Route

    busy = Route.objects.filter(status__in=Route.HELD_STATUSES).values("driver_id")
    driver = (
        Driver.objects.filter(user__username__startswith=f"sandbox-driver-{mall.pk}-")
        .exclude(pk__in=busy)
        .first()
    )
    if driver is None:
        n = Driver.objects.filter(user__username__startswith=f"sandbox-driver-{mall.pk}-").count()
        user = get_user_model().objects.create(
            username=f"sandbox-driver-{mall.pk}-{n + 1}", first_name="Sandbox", is_active=False
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        driver = Driver.objects.create(user=user, status=Driver.Status.APPROVED)
    return driver


def _hand_to_sandbox_driver(order: Order, system: Actor) -> None:
    """Plan, offer and accept a one-order route; the driver is online only for the
    moment of accepting, so dispatch never offers real work to it."""
    from drivers.services import (
        driver_go_offline,
        driver_go_online,
        offer_accept,
        route_offer,
        route_plan,
    )

    mall = order.store.mall
    driver = driver_go_online(driver=_sandbox_driver(mall), mall=mall)
    try:
        route = route_plan(mall=mall, orders=[order], actor=system)
        offer = route_offer(route=route, driver=driver, actor=system)
        offer_accept(offer=offer, actor=Actor.driver(driver.user))
    finally:
        driver_go_offline(driver=driver)


def _step(order: Order, to: str) -> None:
    system = Actor.system("sandbox")
    if to == Status.ACCEPTED:
        s.order_accept(order=order, actor=system)
    elif to == Status.READY:
        s.order_mark_ready(order=order, actor=system)
    elif to == Status.PICKED_UP:
        from drivers.services import route_for_order

        route = route_for_order(order)
        if route is None or route.driver_id is None:
            _hand_to_sandbox_driver(order, system)
        s.order_pick_up(order=order, actor=system)
    elif to == Status.DELIVERED:
        s.order_deliver(order=order, actor=system, pin=order.delivery_pin)
    elif to == Status.DELIVERY_FAILED:
        s.order_fail_delivery(order=order, actor=system, reason="Sandbox: nobody home")
    elif to == Status.RETURNED:
        s.order_return(order=order, actor=system, note="Sandbox")
    elif to == Status.REJECTED:
        s.order_reject(order=order, actor=system, reason="Sandbox: rejected")
    elif to == Status.CANCELLED:
        s.order_cancel(order=order, actor=system, reason="Sandbox: cancelled")


def sandbox_advance(*, order: Order, to: str = "") -> Order:
    """One step along the happy path, or straight to `to` through every state on the way."""
    if not order.test_mode:
        raise Conflict("Only sandbox orders can be advanced.")
    if not to:
        nxt = HAPPY_NEXT.get(order.status)
        if nxt is None:
            raise Conflict(f"Order {order.number} is {order.status}; it has no next step.")
        steps = [nxt]
    elif to in (Status.REJECTED, Status.CANCELLED):
        steps = [to]
    else:
        path = PATHS[to]
        done = PATHS.get(order.status, []) if order.status != Status.PLACED else []
        if path[: len(done)] != done or len(done) >= len(path):
            raise Conflict(f"Order {order.number} is {order.status}; it can't go to {to}.")
        steps = path[len(done) :]
    for step in steps:
        order.refresh_from_db()
        _step(order, step)
    order.refresh_from_db()
    return order
