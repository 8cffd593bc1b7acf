"""The storefront checkout: cart → quotes → payment → orders, in that order.

`checkout_cart` is what the checkout page calls. Guarantees:
- nothing is charged or placed while anything in the cart changed since the shopper saw it
  (price or stock): the changes are returned for the shopper to confirm;
- nothing is charged when a store can't deliver (each reason is returned);
- a declined card leaves the cart as it was;
- the same `token` (one per checkout form) never charges or places twice: a double-submitted
  form or a retried request answers with the first result;
- if placing fails after the card was authorised (stock sold out at that instant), the
  authorisation is voided.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from orders.cart import Change, cart_changes, cart_clear, cart_lines
from orders.models import Address, Cart, Order, Payment, Shopper
from orders.payments import Card, payment_authorize, payment_void
from orders.permissions import Actor
from orders.promise import Promise as PlacementPromise
from orders.quotes import promise_text, promises_for_stores
from orders.services import CartItem, CheckoutError, checkout_place


@dataclass
class CheckoutResult:
    orders: list[Order] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    declined: str = ""

    @property
    def placed(self) -> bool:
        return bool(self.orders)


@dataclass
class StoreSummary:
    store: object
    lines: list
    subtotal_cents: int
    fee_cents: int
    eligible: bool
    reasons: list[str]
    promise: str
    promised_by: object


def summarize(cart: Cart | None, *, latitude: float | None, longitude: float | None):
    """Per-store subtotal, fee, promise and reasons, for the cart and checkout pages."""
    lines = cart_lines(cart)
    by_store = defaultdict(list)
    for line in lines:
        by_store[line.store].append(line)
    # Every store's promise in a fixed number of queries, however many stores the cart has.
    quotable = [s for s in by_store if not s.mall.is_sandbox]
    promises = (
        promises_for_stores(
            quotable,
            latitude=latitude,
            longitude=longitude,
            items={s.pk: [(ln.product_id, ln.quantity) for ln in by_store[s]] for s in quotable},
        )
        if quotable and latitude is not None and longitude is not None
        else {}
    )
    summaries = []
    for store, store_lines in by_store.items():
        subtotal = sum(ln.product.price_cents * ln.quantity for ln in store_lines)
        if store.mall.is_sandbox:  # only test-mode API keys order from the sandbox
            reason = f"{store.name} is a sandbox store for API testing; it doesn't deliver."
            summaries.append(
                StoreSummary(store, store_lines, subtotal, 0, False, [reason], "", None)
            )
            continue
        if latitude is None or longitude is None:
            summaries.append(StoreSummary(store, store_lines, subtotal, 0, True, [], "", None))
            continue
        promise = promises[store.pk]
        summaries.append(
            StoreSummary(
                store=store,
                lines=store_lines,
                subtotal_cents=subtotal,
                fee_cents=promise.fee_cents,
                eligible=promise.eligible,
                reasons=[r["message"] for r in promise.reasons],
                promise=promise_text(store, promise.promised_by),
                promised_by=promise.promised_by,
            )
        )
    # One delivery fee per checkout: the largest of the stores' fees, on the first store.
    if summaries:
        fee = max(s.fee_cents for s in summaries)
        for index, summary in enumerate(summaries):
            summary.fee_cents = fee if index == 0 else 0
    return summaries


def checkout_cart(
    *,
    user,
    cart: Cart,
    address: Address,
    phone: str,
    notify_by: str,
    tip_percent: int,
    card: Card,
    token: str,
    confirm_changes: bool = False,
) -> CheckoutResult:
    existing = Payment.objects.filter(reference=token).first()
    if existing is not None and existing.user_id != user.pk:
        # Someone else's form: never their orders, never their authorisation.
        return CheckoutResult(reasons=["This checkout form has expired. Please try again."])
    if existing is not None and existing.status == Payment.Status.AUTHORIZED and existing.group:
        # The same form again (double submit, refresh): the first checkout's orders.
        return CheckoutResult(orders=list(Order.objects.filter(group=existing.group)))

    changes = cart_changes(cart)
    if changes and not confirm_changes:
        return CheckoutResult(changes=changes)
    if changes:
        from orders.cart import cart_accept_changes

        cart_accept_changes(cart)
    lines = cart_lines(cart)
    if not lines:
        return CheckoutResult(reasons=["Your cart is empty."])

    summaries = summarize(cart, latitude=address.latitude, longitude=address.longitude)
    reasons = [reason for s in summaries for reason in s.reasons]
    if reasons:
        return CheckoutResult(reasons=reasons)

    shopper, _ = Shopper.objects.get_or_create(user=user)
    shopper.phone, shopper.notify_by = phone, notify_by
    shopper.save(update_fields=["phone", "notify_by"])

    subtotal = sum(s.subtotal_cents for s in summaries)
    tip = round(subtotal * tip_percent / 100)
    total = subtotal + sum(s.fee_cents for s in summaries) + tip
    payment = payment_authorize(amount_cents=total, card=card, reference=token, user=user)
    if payment.status != Payment.Status.AUTHORIZED:
        return CheckoutResult(declined=payment.message or "Your card was declined.")

    first_store = summaries[0].store.pk
    try:
        orders = checkout_place(
            actor=Actor.shopper(user),
            shopper=shopper,
            address=address,
            recipient_name=user.get_full_name() or user.get_username(),
            recipient_phone=phone,
            recipient_email=user.email,
            items=[CartItem(ln.store_id, ln.product_id, ln.quantity) for ln in lines],
            tips_cents={first_store: tip} if tip else {},
            promises={
                s.store.pk: PlacementPromise(fee_cents=s.fee_cents, promised_by=s.promised_by)
                for s in summaries
            },
            idempotency_scope=f"user:{user.pk}",
            idempotency_key=token,
        )
    except CheckoutError as exc:
        payment_void(payment=payment, reason=str(exc))
        return CheckoutResult(reasons=[e["message"] for e in exc.errors])
    Payment.objects.filter(pk=payment.pk).update(group=orders[0].group)
    cart_clear(cart)
    return CheckoutResult(orders=orders)


def payment_release_if_nothing_left(*, group) -> None:
    """When every order of a checkout was cancelled or rejected, void its authorisation."""
    live = Order.objects.filter(group=group).exclude(
        status__in=[Order.Status.CANCELLED, Order.Status.REJECTED]
    )
    if live.exists():
        return
    for payment in Payment.objects.filter(group=group, status=Payment.Status.AUTHORIZED):
        payment_void(payment=payment, reason="Every order of this checkout was called off.")
