"""The shopper's cart: anonymous in the session, kept per user once signed in, merged at login.

Rules: lines from one mall only (a line from another mall is refused with a message and
nothing in the cart is lost); a quantity above what the store has is refused with the
available quantity.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction

from orders.models import Cart, CartLine
from retailers.models import Stock

SESSION_KEY = "cart_id"
MAX_PER_LINE = 20


class CartError(Exception):
    """Refused; the message is meant for the shopper."""


def cart_for_request(request, *, create: bool = False) -> Cart | None:
    """The cart of this visit: the user's own when signed in, else the session's."""
    if request.user.is_authenticated:
        cart = Cart.objects.filter(user=request.user).first()
        if cart is None and create:
            cart, _ = Cart.objects.get_or_create(user=request.user)
        return cart
    cart_id = request.session.get(SESSION_KEY)
    cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first() if cart_id else None
    if cart is None and create:
        cart = Cart.objects.create()
        request.session[SESSION_KEY] = cart.pk
    return cart


def cart_lines(cart: Cart | None) -> list[CartLine]:
    if cart is None:
        return []
    return list(
        cart.lines.select_related("product", "store__mall", "store__retailer").order_by(
            "store__name", "product__title"
        )
    )


def _mall_of(cart: Cart):
    line = cart.lines.select_related("store__mall").first()
    return line.store.mall if line else None


def cart_add(*, cart: Cart, stock: Stock, quantity: int) -> CartLine:
    """Add units of one store's product; refuse another mall or more than is available."""
    if quantity < 1:
        raise CartError("Choose at least 1.")
    with transaction.atomic():
        mall = _mall_of(cart)
        store = stock.store
        if mall is not None and mall.pk != store.mall_id:
            raise CartError(
                f"Your cart has items from {mall.name}. One delivery comes from one mall: "
                f"check out or empty your cart before adding from {store.mall.name}."
            )
        line = CartLine.objects.filter(cart=cart, store=store, product=stock.product).first()
        wanted = quantity + (line.quantity if line else 0)
        _check_quantity(stock, wanted)
        if line is None:
            line = CartLine.objects.create(
                cart=cart,
                store=store,
                product=stock.product,
                quantity=wanted,
                seen_price_cents=stock.product.price_cents,
            )
        else:
            line.quantity = wanted
            line.save(update_fields=["quantity"])
        cart.save(update_fields=["updated_at"])
        return line


def _check_quantity(stock: Stock, wanted: int) -> None:
    if wanted > stock.available:
        if stock.available <= 0:
            raise CartError(f"{stock.product.title} is sold out at {stock.store.name}.")
        raise CartError(
            f"Only {stock.available} of {stock.product.title} available at {stock.store.name}."
        )
    if wanted > MAX_PER_LINE:
        raise CartError(f"At most {MAX_PER_LINE} of one item per order.")


def cart_set_quantity(*, cart: Cart, line_id: int, quantity: int) -> CartLine | None:
    """Change a line's quantity (0 removes it)."""
    line = CartLine.objects.select_related("product", "store").filter(cart=cart, pk=line_id).first()
    if line is None:
        raise CartError("That item is no longer in your cart.")
    if quantity <= 0:
        line.delete()
        return None
    stock = (
        Stock.objects.select_related("product", "store")
        .filter(store=line.store, product=line.product)
        .first()
    )
    if stock is None:
        raise CartError(f"{line.product.title} is no longer sold at {line.store.name}.")
    _check_quantity(stock, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


def cart_merge_on_login(request, user) -> None:
    """Fold the anonymous session cart into the user's cart after login.

    Same store and product: quantities add up. Lines from another mall than the user's cart
    are not added: the user's saved cart wins and the shopper is told.
    """
    cart_id = request.session.pop(SESSION_KEY, None)
    if not cart_id:
        return
    anonymous = Cart.objects.filter(pk=cart_id, user__isnull=True).first()
    if anonymous is None:
        return
    left_out: set[str] = set()
    with transaction.atomic():
        mine = Cart.objects.filter(user=user).first()
        if mine is None or not mine.lines.exists():
            if mine is not None:
                mine.delete()
            anonymous.user = user
            anonymous.save(update_fields=["user", "updated_at"])
            return
        their_mall = _mall_of(mine)
        for line in anonymous.lines.select_related("store__mall"):
            if their_mall is not None and line.store.mall_id != their_mall.pk:
                left_out.add(line.store.mall.name)
                continue
            existing = CartLine.objects.filter(
                cart=mine, store_id=line.store_id, product_id=line.product_id
            ).first()
            if existing:
                existing.quantity = min(existing.quantity + line.quantity, MAX_PER_LINE)
                existing.save(update_fields=["quantity"])
            else:
                line.cart = mine
                line.save(update_fields=["cart"])
        anonymous.delete()
    if left_out:
        messages.warning(
            request,
            f"Your saved cart has items from {their_mall.name}, so the items from "
            f"{', '.join(sorted(left_out))} you added before logging in were not added. "
            "One delivery comes from one mall.",
            fail_silently=True,
        )


@dataclass(frozen=True)
class Change:
    line_id: int
    message: str


def cart_changes(cart: Cart) -> list[Change]:
    """What changed since the shopper filled the cart: prices and stock. Read-only."""
    changes: list[Change] = []
    lines = cart_lines(cart)
    stock = {
        (s.store_id, s.product_id): s
        for s in Stock.objects.filter(
            store_id__in={ln.store_id for ln in lines},
            product_id__in={ln.product_id for ln in lines},
        )
    }
    for line in lines:
        price = line.product.price_cents
        if price != line.seen_price_cents:
            changes.append(
                Change(
                    line.pk,
                    f"{line.product.title} is now ${price / 100:.2f} "
                    f"(was ${line.seen_price_cents / 100:.2f}).",
                )
            )
        row = stock.get((line.store_id, line.product_id))
        available = row.available if row and line.product.is_active else 0
        if line.quantity > available:
            changes.append(
                Change(
                    line.pk,
                    f"Only {available} of {line.product.title} left at {line.store.name}; "
                    f"your cart has {line.quantity}."
                    if available
                    else f"{line.product.title} sold out at {line.store.name}.",
                )
            )
    return changes


def cart_accept_changes(cart: Cart) -> None:
    """The shopper confirmed: take the new prices and trim quantities to what's left."""
    with transaction.atomic():
        for line in cart_lines(cart):
            row = Stock.objects.filter(store_id=line.store_id, product_id=line.product_id).first()
            available = row.available if row and line.product.is_active else 0
            if available <= 0:
                line.delete()
                continue
            line.quantity = min(line.quantity, available)
            line.seen_price_cents = line.product.price_cents
            line.save(update_fields=["quantity", "seen_price_cents"])


def cart_clear(cart: Cart) -> None:
    cart.lines.all().delete()
