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


# --- What the page shows has changed? -------------------------------------------------------
#
# A shopper's open tracking page asks every 10 seconds. Its render is kept (this process's
# memory, then the shared cache) under a fingerprint of everything it shows: per order its
# status, `updated_at` (every status move and line change sets it) and newest event; the
# drop-off stop, its route, driver and the driver's last position fix; the proof of delivery.
# One hand-written SELECT reads that fingerprint and, by its WHERE, that the checkout is this
# person's: a poll where nothing moved costs that read and no render. Anything not in the
# fingerprint (a store renamed) shows within TRACKING_RENDER_SECONDS.

TRACKING_RENDER_SECONDS = 600


def tracking_stamp(user, group) -> tuple[tuple, int]:
    """The fingerprint of this person's checkout `group` (empty when it isn't theirs) and,
    read in the same SELECT for the page's header, the number of items in their cart."""
    if not user.is_authenticated:
        return (), 0
    from django.db import connections, router

    connection = connections[router.db_for_read(Order)]
    sql = _STAMP_SQL.get(connection.alias)
    if sql is None:
        sql = _STAMP_SQL[connection.alias] = _stamp_sql(connection)
    group_value = Order._meta.get_field("group").get_db_prep_value(group, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, group_value, user.pk])
        rows = cursor.fetchall()
    cart_count = int(rows[0][0]) if rows else 0
    return tuple(tuple(row[1:]) for row in rows), cart_count


_STAMP_SQL: dict[str, str] = {}


def _stamp_sql(connection) -> str:
    from drivers.models import Driver, ProofOfDelivery, Route, RouteStop
    from orders.models import Cart, CartLine, OrderEvent, Shopper

    qn = connection.ops.quote_name

    def t(model):
        return qn(model._meta.db_table)

    return (
        f"SELECT (SELECT COALESCE(SUM(l.{qn('quantity')}), 0) FROM {t(CartLine)} l "
        f"JOIN {t(Cart)} c ON c.{qn('id')} = l.{qn('cart_id')} WHERE c.{qn('user_id')} = %s), "
        f"o.{qn('id')}, o.{qn('status')}, o.{qn('updated_at')}, "
        f"(SELECT MAX(e.{qn('id')}) FROM {t(OrderEvent)} e "
        f"WHERE e.{qn('order_id')} = o.{qn('id')}), "
        f"st.{qn('id')}, st.{qn('status')}, r.{qn('status')}, r.{qn('driver_id')}, "
        f"d.{qn('last_located_at')}, "
        f"(SELECT p.{qn('id')} FROM {t(ProofOfDelivery)} p "
        f"WHERE p.{qn('order_id')} = o.{qn('id')}) "
        f"FROM {t(Order)} o "
        f"JOIN {t(Shopper)} sh ON sh.{qn('id')} = o.{qn('shopper_id')} "
        f"LEFT JOIN {t(RouteStop)} st ON st.{qn('order_id')} = o.{qn('id')} "
        f"AND st.{qn('kind')} = '{RouteStop.Kind.DROPOFF.value}' "
        f"AND st.{qn('status')} <> '{RouteStop.Status.CANCELLED.value}' "
        f"LEFT JOIN {t(Route)} r ON r.{qn('id')} = st.{qn('route_id')} "
        f"LEFT JOIN {t(Driver)} d ON d.{qn('id')} = r.{qn('driver_id')} "
        f"WHERE o.{qn('group')} = %s AND sh.{qn('user_id')} = %s "
        f"ORDER BY o.{qn('id')}, st.{qn('id')}"
    )


def render_stamp(stamp: tuple) -> tuple:
    """What a kept render of the live part is checked against: the fingerprint and, while an
    order is on its way, the minute, since its ETA counts from now (a driver whose phone
    stops sending fixes sees the ETA move on, not freeze)."""
    moving = any(row[1] == Order.Status.PICKED_UP for row in stamp)
    return (stamp, clock.now().replace(second=0, microsecond=0) if moving else None)


def all_final(stamp: tuple) -> bool:
    """Every order of the fingerprinted checkout is final (the page can stop polling)."""
    final = {status.value for status in Order.FINAL_STATUSES}
    return all(row[1] in final for row in stamp)
