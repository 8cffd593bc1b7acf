from django.db import connections, router

from orders.models import Cart, CartLine

_SQL: dict[tuple[str, bool], str] = {}


def cart(request):
    """How many items are in the visit's cart, for the header link."""
    if request.path.startswith(("/admin/", "/store/", "/driver/", "/ops/", "/api/", "/static/")):
        return {}
    if isinstance(getattr(request, "cart_count", None), int):
        return {"cart_count": request.cart_count}  # the view read it with its own data
    cart_id = request.session.get("cart_id") if hasattr(request, "session") else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return {"cart_count": _count(by_user=True, value=user.pk)}
    if cart_id:
        return {"cart_count": _count(by_user=False, value=cart_id)}
    return {"cart_count": 0}


def _count(*, by_user: bool, value) -> int:
    # Hand-written: this runs on every storefront page (see config/hot_reads.py for why).
    connection = connections[router.db_for_read(CartLine)]
    sql = _SQL.get((connection.alias, by_user))
    if sql is None:
        qn = connection.ops.quote_name
        lines, carts = qn(CartLine._meta.db_table), qn(Cart._meta.db_table)
        where = (
            f"c.{qn('user_id')} = %s"
            if by_user
            else f"c.{qn('id')} = %s AND c.{qn('user_id')} IS NULL"
        )
        sql = _SQL[(connection.alias, by_user)] = (
            f"SELECT COALESCE(SUM(l.{qn('quantity')}), 0) FROM {lines} l "
            f"JOIN {carts} c ON c.{qn('id')} = l.{qn('cart_id')} WHERE {where}"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        return int(cursor.fetchone()[0])
