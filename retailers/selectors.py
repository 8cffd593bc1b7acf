from functools import cache

from django.db.models import Count, F, Q, QuerySet

from retailers.models import Mall, Store


def malls_with_store_counts() -> QuerySet[Mall]:
    return Mall.objects.filter(is_active=True, is_sandbox=False).annotate(
        store_count=Count("stores")
    )


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


# --- Retailer portal ------------------------------------------------------------------------


def memberships_of(user) -> list:
    """Every store membership of this person, with store, mall and retailer, in the order of
    `stores_for_user`. One hand-written SELECT: every store page (and every poll of the
    board) starts here, and the ORM's four-table `select_related` cost 1.3 ms of Python."""
    if not user.is_authenticated:
        return []
    read = _memberships_read()
    out = []
    for membership, store, mall, retailer in read.rows([user.pk]):
        store.mall = mall
        store.retailer = retailer
        membership.store = store
        out.append(membership)
    return out


@cache
def _memberships_read():
    from config.hot_reads import Columns, HotRead, table
    from retailers.models import Retailer, StoreMembership

    def build(connection, qn, m_cols, s_cols, mall_cols, r_cols):
        m, s, ml, r = qn("m"), qn("s"), qn("ml"), qn("r")
        return (
            f"SELECT {m_cols}, {s_cols}, {mall_cols}, {r_cols} "
            f"FROM {table(StoreMembership, connection)} {m} "
            f"JOIN {table(Store, connection)} {s} ON {s}.{qn('id')} = {m}.{qn('store_id')} "
            f"JOIN {table(Mall, connection)} {ml} ON {ml}.{qn('id')} = {s}.{qn('mall_id')} "
            f"JOIN {table(Retailer, connection)} {r} ON {r}.{qn('id')} = {s}.{qn('retailer_id')} "
            f"WHERE {m}.{qn('user_id')} = %s "
            f"ORDER BY {ml}.{qn('name')}, {s}.{qn('name')}, {s}.{qn('id')}"
        )

    return HotRead(
        build,
        Columns(StoreMembership, "m"),
        Columns(Store, "s"),
        Columns(Mall, "ml"),
        Columns(Retailer, "r"),
    )


def membership_for(user, slug: str, memberships: list | None = None):
    """The person's membership at the store with this slug (with store and mall), or None."""
    if memberships is None:
        memberships = memberships_of(user)
    return next((m for m in memberships if m.store.slug == slug), None)


def board_orders(store: Store, *, since):
    """Orders on the live board: open ones, failed deliveries coming back, and those handed
    over since `since` (the start of the mall's day). One query."""
    from orders.models import Order

    S = Order.Status
    return (
        Order.objects.filter(store=store)
        .filter(
            Q(status__in=[S.PLACED, S.ACCEPTED, S.READY, S.DELIVERY_FAILED])
            | Q(picked_up_at__gte=since)
        )
        .select_related("address")
        .order_by("placed_at")
    )


def store_order(store: Store, number: str):
    from orders.models import Order

    return (
        Order.objects.select_related("store__mall", "address")
        .prefetch_related("lines__product")
        .filter(store=store, number=number)
        .first()
    )


def store_catalog(store: Store, *, q: str = "", category: str = "", stock: str = ""):
    """The store's stock rows with their products, searched and filtered."""
    from retailers.models import Stock

    rows = Stock.objects.filter(store=store).select_related("product")
    if q:
        rows = rows.filter(Q(product__title__icontains=q) | Q(product__sku__icontains=q))
    if category:
        rows = rows.filter(product__category=category)
    if stock == "out":
        rows = rows.filter(on_hand__lte=F("reserved"))
    elif stock == "low":
        rows = rows.filter(on_hand__gt=F("reserved"), on_hand__lte=F("reserved") + 5)
    elif stock == "inactive":
        rows = rows.filter(product__is_active=False)
    return rows.order_by("product__title", "product__sku")


def store_categories(store: Store) -> list[str]:
    from retailers.models import Product

    return list(
        Product.objects.filter(retailer_id=store.retailer_id, stock__store=store)
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def store_report(store: Store, *, start, end) -> list[dict]:
    """Per local day from `start` to `end` (dates, inclusive): orders, sales, average minutes
    to accept and to prepare, rejections by reason and on-time rate. One query for the range."""
    import datetime as dt
    from collections import Counter, defaultdict

    from orders.models import Order

    tz = store.mall.tz
    first = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    orders = Order.objects.filter(store=store, placed_at__gte=first, placed_at__lt=last).only(
        "status",
        "status_reason",
        "subtotal_cents",
        "placed_at",
        "prep_minutes",
        "ready_by",
        "ready_at",
        "delivered_at",
        "promised_by",
    )
    by_day: dict = defaultdict(list)
    for o in orders:
        by_day[o.placed_at.astimezone(tz).date()].append(o)
    S = Order.Status
    days = []
    day = start
    while day <= end:
        rows = by_day.get(day, [])
        accept, prep, reasons = [], [], Counter()
        delivered = on_time = 0
        sales = 0
        for o in rows:
            if o.ready_by and o.prep_minutes:
                accepted_at = o.ready_by - dt.timedelta(minutes=o.prep_minutes)
                accept.append((accepted_at - o.placed_at).total_seconds() / 60)
                if o.ready_at:
                    prep.append((o.ready_at - accepted_at).total_seconds() / 60)
            if o.status == S.REJECTED:
                reasons[(o.status_reason or "Other").split(":")[0].strip()] += 1
            elif o.status != S.CANCELLED:
                sales += o.subtotal_cents
            if o.delivered_at:
                delivered += 1
                on_time += o.delivered_at <= o.promised_by
        days.append(
            {
                "day": day,
                "orders": len(rows),
                "sales_cents": sales,
                "avg_accept_minutes": round(sum(accept) / len(accept), 1) if accept else None,
                "avg_prep_minutes": round(sum(prep) / len(prep), 1) if prep else None,
                "rejected": sum(reasons.values()),
                "rejections": dict(reasons),
                "delivered": delivered,
                "on_time_pct": round(100 * on_time / delivered) if delivered else None,
            }
        )
        day += dt.timedelta(days=1)
    return days
