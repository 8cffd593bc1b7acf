from django.db.models import Prefetch

from drivers.models import Offer, Route, RouteStop
from retailers import clock


def open_offers(driver):
    return (
        Offer.objects.filter(driver=driver, status=Offer.Status.PENDING, expires_at__gt=clock.now())
        .select_related("route__mall")
        .order_by("expires_at")
    )


def current_route(driver) -> Route | None:
    return (
        Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES)
        .select_related("mall")
        .prefetch_related(
            Prefetch(
                "stops",
                queryset=RouteStop.objects.exclude(status=RouteStop.Status.CANCELLED)
                .select_related("store", "order__address")
                .order_by("sequence"),
            )
        )
        .first()
    )
