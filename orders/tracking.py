"""What the shopper's tracking page shows for each order of a checkout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from orders.models import Order
from retailers import clock
from retailers.geo import travel

CANCELLABLE = (Order.Status.PLACED, Order.Status.ACCEPTED, Order.Status.READY)
STEPS = [
    (Order.Status.PLACED, "Order placed"),
    (Order.Status.ACCEPTED, "Store is preparing it"),
    (Order.Status.READY, "Packed, waiting for the driver"),
    (Order.Status.PICKED_UP, "On the way"),
    (Order.Status.DELIVERED, "Delivered"),
]


@dataclass
class OrderTracking:
    order: Order
    events: list
    steps: list[tuple[str, bool, bool]]  # (label, done, current)
    eta: dt.datetime | None
    driver_name: str
    vehicle: str
    proof: object | None
    can_cancel: bool


def _eta(order: Order, route) -> dt.datetime | None:
    """Best guess of arrival: from the driver's last position once on the way, else the promise."""
    if order.status != Order.Status.PICKED_UP or route is None or route.driver is None:
        return order.promised_by if order.is_open else None
    driver = route.driver
    if driver.last_latitude is None:
        return order.promised_by
    leg = travel(
        driver.last_latitude,
        driver.last_longitude,
        order.address.latitude,
        order.address.longitude,
    )
    return clock.now() + dt.timedelta(minutes=leg.minutes + 3)


def group_tracking(orders: list[Order]) -> list[OrderTracking]:
    from drivers.models import ProofOfDelivery, RouteStop

    stops = {
        s.order_id: s
        for s in RouteStop.objects.filter(order__in=orders, kind=RouteStop.Kind.DROPOFF)
        .exclude(status=RouteStop.Status.CANCELLED)
        .select_related("route__driver__user")
    }
    proofs = {p.order_id: p for p in ProofOfDelivery.objects.filter(order__in=orders)}
    result = []
    for order in orders:
        stop = stops.get(order.pk)
        route = stop.route if stop else None
        driver = route.driver if route and route.driver_id else None
        reached = [s for s, _ in STEPS].index(order.status) if order.status in dict(STEPS) else -1
        steps = [(label, i <= reached, i == reached) for i, (_, label) in enumerate(STEPS)]
        result.append(
            OrderTracking(
                order=order,
                events=list(order.events.all()),
                steps=steps,
                eta=_eta(order, route),
                driver_name=driver.user.first_name if driver else "",
                vehicle=driver.get_vehicle_type_display() if driver else "",
                proof=proofs.get(order.pk),
                can_cancel=order.status in CANCELLABLE,
            )
        )
    return result
