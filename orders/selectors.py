from django.db.models import QuerySet

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
