import datetime as dt

from django.db.models import Count, Prefetch, Q, Sum

from drivers.models import Block, BlockBooking, Offer, PayLine, Route, RouteStop
from orders.models import Order
from retailers import clock


def _stops(prefix: str = ""):
    return Prefetch(
        f"{prefix}stops",
        queryset=RouteStop.objects.exclude(status=RouteStop.Status.CANCELLED)
        .select_related("store", "order__address")
        .order_by("sequence"),
    )


def open_offers(driver):
    return (
        Offer.objects.filter(driver=driver, status=Offer.Status.PENDING, expires_at__gt=clock.now())
        .select_related("route__mall")
        .prefetch_related(_stops("route__"), "route__pay_lines")
        .order_by("expires_at")
    )


def current_route(driver) -> Route | None:
    return (
        Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES)
        .select_related("mall")
        .prefetch_related(_stops())
        .first()
    )


def route_for_driver(driver, pk: int) -> Route | None:
    """One of the driver's own routes (held now or in the past), or None."""
    return (
        Route.objects.filter(pk=pk, driver=driver)
        .select_related("mall")
        .prefetch_related(_stops(), "pay_lines")
        .first()
    )


def offer_for_driver(driver, pk: int) -> Offer | None:
    return (
        Offer.objects.filter(pk=pk, driver=driver)
        .select_related("route__mall")
        .prefetch_related(_stops("route__"), "route__pay_lines")
        .first()
    )


def offer_card(offer: Offer) -> dict:
    """What a driver needs to decide: pay broken down, stores, drop-offs, distance, time."""
    route = offer.route
    stops = list(route.stops.all())
    pay = dict.fromkeys(PayLine.Kind.values, 0)
    for line in route.pay_lines.all():
        pay[line.kind] += line.amount_cents
    orders = [s.order for s in stops if s.kind == RouteStop.Kind.DROPOFF]
    tips = sum(o.tip_cents for o in orders)
    return {
        "offer": offer,
        "route": route,
        "pickups": [s.store for s in stops if s.kind == RouteStop.Kind.PICKUP],
        "dropoffs": len(orders),
        "bags": sum(o.bags for o in orders),
        "pay": pay,
        "tips": tips,
        "total": offer.pay_cents,
        "seconds_left": max(0, int((offer.expires_at - clock.now()).total_seconds())),
    }


def pickups_with_orders(route: Route) -> list[dict]:
    """Per store: where it is, its instructions, and which orders (with bags) to collect."""
    stops = list(route.stops.all())
    orders_by_store: dict[int, list[Order]] = {}
    for stop in stops:
        if stop.kind == RouteStop.Kind.DROPOFF:
            orders_by_store.setdefault(stop.order.store_id, []).append(stop.order)
    return [
        {"stop": stop, "store": stop.store, "orders": orders_by_store.get(stop.store_id, [])}
        for stop in stops
        if stop.kind == RouteStop.Kind.PICKUP
    ]


def open_blocks(driver, *, days: int = 7):
    """Blocks not yet started at active malls, with slots left and the driver's booking."""
    now = clock.now()
    return (
        Block.objects.filter(
            starts_at__gt=now, starts_at__lt=now + dt.timedelta(days=days), mall__is_active=True
        )
        .select_related("mall")
        .annotate(
            booked=Count("bookings", filter=Q(bookings__status=BlockBooking.Status.BOOKED)),
            mine=Count(
                "bookings",
                filter=Q(bookings__status=BlockBooking.Status.BOOKED, bookings__driver=driver),
            ),
        )
        .order_by("starts_at", "mall__name")
    )


def my_bookings(driver):
    return (
        BlockBooking.objects.filter(driver=driver, status=BlockBooking.Status.BOOKED)
        .filter(block__ends_at__gt=clock.now())
        .select_related("block__mall")
        .order_by("block__starts_at")
    )


def earnings(driver, *, since: dt.datetime, until: dt.datetime):
    lines = PayLine.objects.filter(driver=driver, created_at__gte=since, created_at__lt=until)
    totals = dict(
        lines.values("kind").annotate(total=Sum("amount_cents")).values_list("kind", "total")
    )
    labels = dict(PayLine.Kind.choices)
    return {
        "lines": lines.order_by("created_at", "id"),
        "by_kind": [(labels[kind], total) for kind, total in sorted(totals.items())],
        "total": sum(totals.values()),
    }
