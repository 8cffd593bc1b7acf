from django.db.models import Q, QuerySet

from orders.models import Order


def orders_for_shopper(user) -> QuerySet[Order]:
    return (
        Order.objects.filter(shopper__user=user)
        .select_related("store__mall")
        .order_by("-placed_at")
    )


def orders_for_store(store, *, statuses=None) -> QuerySet[Order]:
    qs = Order.objects.filter(store=store).select_related("store__mall", "address")
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("promised_by")


# --- Storefront ---------------------------------------------------------------------------

SORTS = {
    "relevance": ("product__title", "pk"),
    "price": ("product__price_cents", "pk"),
    "-price": ("-product__price_cents", "pk"),
    "store": ("store__name", "product__title", "pk"),
}


def _active_malls():
    """Real malls change rarely: kept per process for as long as the storefront's facets."""
    from django.conf import settings
    from django.core.cache import caches

    from retailers.models import Mall

    malls = caches["local"].get("active-malls")
    if malls is None:
        malls = list(Mall.objects.filter(is_active=True, is_sandbox=False))
        caches["local"].set("active-malls", malls, settings.MALLRUN_FACETS_CACHE_SECONDS)
    return malls


def serving_malls(latitude: float, longitude: float, *, sandbox: bool = False):
    """Active malls whose delivery area covers the point, nearest first: real malls, or
    with `sandbox` the API sandbox's (read each time: it appears on a test key's first call)."""
    from retailers.geo import haversine_km
    from retailers.models import Mall

    found = []
    malls = (
        list(Mall.objects.filter(is_active=True, is_sandbox=True)) if sandbox else _active_malls()
    )
    for mall in malls:
        km = haversine_km(mall.latitude, mall.longitude, latitude, longitude)
        if km <= float(mall.service_radius_km):
            mall.distance_km = km
            found.append(mall)
    return sorted(found, key=lambda m: m.distance_km)


def available_stock(
    *,
    malls,
    q: str = "",
    mall_slug: str = "",
    store_slug: str = "",
    category: str = "",
    min_cents: int | None = None,
    max_cents: int | None = None,
    sort: str = "relevance",
):
    """In-stock products at the stores of these malls, one row per store and product."""
    from django.db.models import F

    from retailers.models import Stock

    qs = Stock.objects.filter(
        store__mall__in=malls, on_hand__gt=F("reserved"), product__is_active=True
    ).select_related("product__retailer", "store__mall")
    for word in q.split():
        qs = qs.filter(
            Q(product__title__icontains=word)
            | Q(product__sku__iexact=word)
            | Q(product__category__icontains=word)
            | Q(product__retailer__name__icontains=word)
            | Q(product__description__icontains=word)
        )
    if mall_slug:
        qs = qs.filter(store__mall__slug=mall_slug)
    if store_slug:
        qs = qs.filter(store__slug=store_slug)
    if category:
        qs = qs.filter(product__category=category)
    if min_cents is not None:
        qs = qs.filter(product__price_cents__gte=min_cents)
    if max_cents is not None:
        qs = qs.filter(product__price_cents__lte=max_cents)
    return qs.order_by(*SORTS.get(sort, SORTS["relevance"]))


def orders_in_group(user, group):
    """A checkout's orders, for the shopper who placed them only."""
    return list(
        Order.objects.filter(group=group, shopper__user=user)
        .select_related("store__mall", "address")
        .prefetch_related("lines", "events")
        .order_by("store__name")
    )
