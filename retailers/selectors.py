from django.db.models import Count, Q, QuerySet

from retailers.models import Mall, Store


def malls_with_store_counts() -> QuerySet[Mall]:
    return Mall.objects.filter(is_active=True).annotate(store_count=Count("stores"))


def stores_for_user(user) -> QuerySet[Store]:
    """The stores a person works at, with their mall, in a stable order."""
    if not user.is_authenticated:
        return Store.objects.none()
    return (
        Store.objects.filter(memberships__user=user)
        .select_related("mall", "retailer")
        .order_by("mall__name", "name")
    )


def store_order_counts(store: Store) -> dict[str, int]:
    from orders.models import Order

    return store.orders.aggregate(
        **{status: Count("id", filter=Q(status=status)) for status in Order.Status.values}
    )
