from django.db.models import Sum

from orders.models import CartLine


def cart(request):
    """How many items are in the visit's cart, for the header link."""
    if request.path.startswith(("/admin/", "/store/", "/driver/", "/ops/", "/api/", "/static/")):
        return {}
    cart_id = request.session.get("cart_id") if hasattr(request, "session") else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        lines = CartLine.objects.filter(cart__user=user)
    elif cart_id:
        lines = CartLine.objects.filter(cart_id=cart_id, cart__user__isnull=True)
    else:
        return {"cart_count": 0}
    return {"cart_count": lines.aggregate(n=Sum("quantity"))["n"] or 0}
