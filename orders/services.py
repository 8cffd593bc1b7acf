"""Every write to an order: placing a checkout and each move of the order life.

One function owns each transition. Each locks the order row, checks that the move exists
and that the actor may make it (orders.permissions), adjusts stock, writes an OrderEvent and
schedules side effects with `transaction.on_commit`, so nothing is sent for a change that
rolled back. No other code writes `Order.status`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F

from orders.models import Address, IdempotencyKey, Order, OrderEvent, OrderLine, Shopper
from orders.permissions import Actor, check_order_move
from orders.promise import Promise, estimate_promise
from retailers import clock
from retailers.models import Stock, Store

Status = Order.Status


class OrderError(Exception):
    """A business rule refused the change; the message is meant for the person acting."""


class InvalidTransition(OrderError):
    pass


class CheckoutError(OrderError):
    """Refused checkout with one message per offending line (`line` is its index in the cart)."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(e["message"] for e in errors))


class IdempotencyConflict(OrderError):
    pass


class WrongPin(OrderError):
    """The PIN typed at the door is not the shopper's."""


@dataclass(frozen=True)
class CartItem:
    store_id: int
    product_id: int
    quantity: int


# --- Placing --------------------------------------------------------------------------


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _replay(record: IdempotencyKey, fingerprint: str) -> list[Order]:
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used for a different request.")
    return list(Order.objects.filter(group=record.group).order_by("store_id"))


def checkout_place(
    *,
    actor: Actor,
    items: Sequence[CartItem],
    address: Address,
    recipient_name: str,
    recipient_phone: str = "",
    recipient_email: str = "",
    shopper: Shopper | None = None,
    tips_cents: dict[int, int] | None = None,
    promises: dict[int, Promise] | None = None,
    channel: str = Order.Channel.STOREFRONT,
    partner: str = "",
    external_ref: str = "",
    idempotency_scope: str = "",
    idempotency_key: str = "",
    test_mode: bool = False,
) -> list[Order]:
    """Place one order per store for a cart that spans stores of one mall.

    Guarantees: all orders of the checkout are created or none is; stock rows are locked in
    primary-key order (no deadlock between two checkouts) and reserved only when enough is
    available, so stock never goes negative; every refused line is reported at once; a
    retried call with the same idempotency key returns the orders of the first call.
    Sandbox-mall stores take `test_mode` orders only, and `test_mode` orders go nowhere else.
    Newly placed orders come back with their store and mall, lines, placing event and (no)
    proof, read without further queries (a replay reads its orders as usual).
    """
    tips_cents = tips_cents or {}
    merged: dict[tuple[int, int], int] = defaultdict(int)
    first_index: dict[tuple[int, int], int] = {}
    errors: list[dict] = []
    for index, item in enumerate(items):
        if item.quantity < 1:
            errors.append({"line": index, "message": "Quantity must be at least 1."})
            continue
        key = (item.store_id, item.product_id)
        merged[key] += item.quantity
        first_index.setdefault(key, index)
    if not items:
        errors.append({"line": None, "message": "The cart is empty."})
    if any(t < 0 for t in tips_cents.values()):
        errors.append({"line": None, "message": "A tip can't be negative."})
    if errors:
        raise CheckoutError(errors)

    fingerprint = _fingerprint(
        {
            "items": sorted([list(k) + [q] for k, q in merged.items()]),
            "address": address.pk,
            "tips": sorted(tips_cents.items()),
            "recipient": [recipient_name, recipient_phone, recipient_email],
        }
    )
    if idempotency_key:
        scope = idempotency_scope or f"{actor.kind}:{actor.user_id or actor.label}"
        existing = IdempotencyKey.objects.filter(scope=scope, key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            group = uuid.uuid4()
            if idempotency_key:
                IdempotencyKey.objects.create(
                    scope=scope, key=idempotency_key, fingerprint=fingerprint, group=group
                )
            return _place_locked(
                actor=actor,
                merged=merged,
                first_index=first_index,
                address=address,
                group=group,
                shopper=shopper,
                recipient=(recipient_name, recipient_phone, recipient_email),
                tips_cents=tips_cents,
                promises=promises or {},
                channel=channel,
                partner=partner,
                external_ref=external_ref,
                test_mode=test_mode,
            )
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its orders.
        if idempotency_key:
            existing = IdempotencyKey.objects.filter(scope=scope, key=idempotency_key).first()
            if existing is not None:
                return _replay(existing, fingerprint)
        raise


def _place_locked(
    *,
    actor,
    merged,
    first_index,
    address,
    group,
    shopper,
    recipient,
    tips_cents,
    promises,
    channel,
    partner,
    external_ref,
    test_mode,
) -> list[Order]:
    now = clock.now()
    store_ids = sorted({store_id for store_id, _ in merged})
    stores = Store.objects.select_related("mall")
    if any(store_id not in promises for store_id in store_ids):
        stores = stores.prefetch_related("hours")  # for the promises estimated below
    stores = stores.in_bulk(store_ids)
    errors: list[dict] = []
    mall_ids = {s.mall_id for s in stores.values()}
    if len(mall_ids) > 1:
        errors.append(
            {"line": None, "message": "One checkout can only include stores from one mall."}
        )
    stock_rows = {
        (s.store_id, s.product_id): s
        for s in Stock.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(store_id__in=store_ids, product_id__in={p for _, p in merged})
        .order_by("pk")
    }
    for key, quantity in sorted(merged.items(), key=lambda kv: first_index[kv[0]]):
        line = first_index[key]
        store = stores.get(key[0])
        row = stock_rows.get(key)
        if store is None:
            errors.append({"line": line, "message": "That store does not exist."})
        elif store.mall.is_sandbox != test_mode:
            # Sandbox stores take test-mode (API) orders only, and those go nowhere else.
            errors.append(
                {
                    "line": line,
                    "message": f"{store.name} is a sandbox store: only test-mode API keys "
                    "order there."
                    if store.mall.is_sandbox
                    else "Test-mode orders go to the sandbox stores only.",
                }
            )
        elif store.is_paused(now):
            errors.append(
                {"line": line, "message": f"{store.name} is paused and not taking orders."}
            )
        elif row is None or not row.product.is_active:
            errors.append({"line": line, "message": f"{store.name} does not sell that item."})
        elif row.available < quantity:
            title = row.product.title
            message = (
                f"{title} is sold out at {store.name}."
                if row.available <= 0
                else f"Only {row.available} of {title} left at {store.name}."
            )
            errors.append({"line": line, "message": message, "available": max(row.available, 0)})
    if errors:
        raise CheckoutError(errors)

    for key, quantity in merged.items():
        updated = Stock.objects.filter(
            pk=stock_rows[key].pk, on_hand__gte=F("reserved") + quantity
        ).update(reserved=F("reserved") + quantity)
        if updated != 1:  # only reachable if the lock was bypassed; refuse rather than oversell
            title = stock_rows[key].product.title
            raise CheckoutError([{"line": first_index[key], "message": f"{title} just sold out."}])

    orders: list[Order] = []
    for position, store_id in enumerate(store_ids):
        store = stores[store_id]
        keys = [k for k in merged if k[0] == store_id]
        subtotal = sum(stock_rows[k].product.price_cents * merged[k] for k in keys)
        bags = max(1, sum(stock_rows[k].product.bags * merged[k] for k in keys))
        # One delivery fee per checkout: the first store's order carries it.
        promise = promises.get(store_id) or estimate_promise(
            store=store,
            address=address,
            at=now,
            fee_cents=store.mall.delivery_fee_cents if position == 0 else 0,
        )
        tip = tips_cents.get(store_id, 0)
        order = Order.objects.create(
            group=group,
            store=store,
            shopper=shopper,
            address=address,
            recipient_name=recipient[0],
            recipient_phone=recipient[1],
            recipient_email=recipient[2],
            channel=channel,
            partner=partner,
            external_ref=external_ref,
            test_mode=test_mode,
            status=Status.PLACED,
            subtotal_cents=subtotal,
            fee_cents=promise.fee_cents,
            tip_cents=tip,
            total_cents=subtotal + promise.fee_cents + tip,
            bags=bags,
            placed_at=now,
            promised_by=promise.promised_by,
        )
        lines = OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                product=stock_rows[k].product,
                sku=stock_rows[k].product.sku,
                title=stock_rows[k].product.title,
                unit_price_cents=stock_rows[k].product.price_cents,
                quantity=merged[k],
            )
            for k in keys
        )
        event = _record(order=order, from_status="", actor=actor, note="", at=now)
        _known_relations(order, lines=sorted(lines, key=lambda line: line.pk), events=[event])
        orders.append(order)
    return orders


def _known_relations(order: Order, *, lines: list, events: list) -> None:
    """What was just written is all the new order has: keep it as its prefetched lines and
    events (as `prefetch_related` leaves them) and no proof, so reading them costs no query."""
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in (("lines", lines), ("events", events)):
        queryset = getattr(order, name).all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset
    Order.proof.related.set_cached_value(order, None)


# --- Moving ---------------------------------------------------------------------------


def _record(*, order: Order, from_status: str, actor: Actor, note: str, at: dt.datetime):
    from orders.tasks import side_effects_are_muted

    event = OrderEvent.objects.create(
        webhooks_due=not side_effects_are_muted(),
        order=order,
        from_status=from_status,
        to_status=order.status,
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user_id else None,
        actor_label=actor.label,
        note=note,
        created_at=at,
    )
    from orders.tasks import enqueue_order_event

    transaction.on_commit(
        partial(enqueue_order_event, event.pk, store_id=order.store_id, mall_id=order.store.mall_id)
    )
    return event


def _lock(order: Order) -> Order:
    locked = (
        Order.objects.select_for_update(of=("self",)).select_related("store__mall").get(pk=order.pk)
    )
    return locked


def _move(
    *,
    order: Order,
    to: str,
    actor: Actor,
    note: str = "",
    reason: str = "",
    **fields,
) -> Order:
    """The single writer of `Order.status`. Call inside `transaction.atomic()` on a locked row."""
    _check(order=order, to=to, actor=actor)
    now = clock.now()
    from_status = order.status
    order.status = to
    order.status_reason = reason
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "status_reason", "updated_at", *fields])
    _record(order=order, from_status=from_status, actor=actor, note=note or reason, at=now)
    return order


def _check(*, order: Order, to: str, actor: Actor) -> None:
    """Refuse a move that does not exist (InvalidTransition) or that the actor may not make."""
    if (order.status, to) not in _MOVES:
        raise InvalidTransition(
            f"Order {order.number} is {order.get_status_display().lower()}; "
            f"it can't be moved to {Status(to).label.lower()}."
        )
    check_order_move(actor, order, to)


def _known_moves() -> frozenset[tuple[str, str]]:
    from orders.permissions import ORDER_TRANSITIONS

    return frozenset(ORDER_TRANSITIONS)


_MOVES = _known_moves()


def _lines(order: Order) -> Iterable[OrderLine]:
    return order.lines.order_by("product_id")


def _stock_change(order: Order, *, on_hand: int, reserved: int) -> None:
    """Apply per-unit deltas to the order's stock rows, locked in a fixed order."""
    for line in _lines(order):
        changes = {}
        if on_hand:
            changes["on_hand"] = F("on_hand") + on_hand * line.quantity
        if reserved:
            changes["reserved"] = F("reserved") + reserved * line.quantity
        updated = Stock.objects.filter(store_id=order.store_id, product_id=line.product_id).update(
            **changes
        )
        if updated == 0 and on_hand > 0:
            Stock.objects.create(
                store_id=order.store_id, product_id=line.product_id, on_hand=line.quantity
            )


def _release(order: Order) -> None:
    _stock_change(order, on_hand=0, reserved=-1)


def order_accept(*, order: Order, actor: Actor, prep_minutes: int | None = None) -> Order:
    """Store takes the order; `ready_by` becomes now + prep time (the store's default if none)."""
    with transaction.atomic():
        order = _lock(order)
        minutes = prep_minutes if prep_minutes is not None else order.store.prep_minutes
        if not 1 <= minutes <= 240:
            raise OrderError("Prep time must be between 1 and 240 minutes.")
        now = clock.now()
        # A "slow to accept" flag is answered by accepting: ops no longer need to look.
        cleared = (
            {"attention": "", "attention_since": None}
            if order.attention.startswith(SLOW_ACCEPTANCE)
            else {}
        )
        return _move(
            order=order,
            to=Status.ACCEPTED,
            actor=actor,
            note=f"Ready in about {minutes} min",
            prep_minutes=minutes,
            ready_by=now + dt.timedelta(minutes=minutes),
            **cleared,
        )


def order_reject(*, order: Order, actor: Actor, reason: str) -> Order:
    """Store refuses the order: its reserved stock is released and the shopper is told."""
    if not reason.strip():
        raise OrderError("Say why the order is rejected.")
    with transaction.atomic():
        order = _lock(order)
        _move(order=order, to=Status.REJECTED, actor=actor, reason=reason.strip())
        _release(order)
        return order


def order_mark_ready(*, order: Order, actor: Actor, bags: int | None = None) -> Order:
    """Packed and waiting at the counter; the bag count sizes the vehicle."""
    if bags is not None and not 1 <= bags <= 50:
        raise OrderError("Bag count must be between 1 and 50.")
    with transaction.atomic():
        order = _lock(order)
        return _move(
            order=order,
            to=Status.READY,
            actor=actor,
            ready_at=clock.now(),
            bags=bags if bags is not None else order.bags,
        )


def order_pick_up(*, order: Order, actor: Actor, handover_code: str | None = None) -> Order:
    """The driver holding the order's route collects it: stock leaves the shelf for good.

    Store staff and API clients must type the driver's hand-over code; a wrong code changes
    nothing. Ops and the system may confirm without it.
    """
    from drivers.services import route_for_order, route_sync

    with transaction.atomic():
        order = _lock(order)
        _check(order=order, to=Status.PICKED_UP, actor=actor)
        route = route_for_order(order)
        if route is None or route.driver_id is None:
            raise OrderError("No driver holds this order yet: wait for dispatch.")
        needs_code = actor.kind in ("store", "api") or handover_code is not None
        if needs_code and (handover_code or "").strip() != route.handover_code:
            raise OrderError("That code doesn't match the driver collecting this order.")
        _move(order=order, to=Status.PICKED_UP, actor=actor, picked_up_at=clock.now())
        _stock_change(order, on_hand=-1, reserved=-1)
        route_sync(route=route, actor=actor)
        return order


def order_deliver(
    *,
    order: Order,
    actor: Actor,
    pin: str | None = None,
    photo=None,
    latitude: float | None = None,
    longitude: float | None = None,
    recipient_name: str = "",
    note: str = "",
) -> Order:
    """Hand-over at the door, with proof: the shopper's PIN, a photo, or both (and location)."""
    from drivers.models import ProofOfDelivery
    from drivers.services import route_for_order, route_sync, stop_finish

    if actor.kind == "driver" and not pin and not photo:
        raise OrderError("Enter the shopper's PIN or take a photo of the delivery.")
    with transaction.atomic():
        order = _lock(order)
        _check(order=order, to=Status.DELIVERED, actor=actor)
        if pin and pin.strip() != order.delivery_pin:
            raise WrongPin("That PIN is not right. Ask the shopper to check their order page.")
        route = route_for_order(order)
        now = clock.now()
        _move(order=order, to=Status.DELIVERED, actor=actor, note=note, delivered_at=now)
        if route is not None and route.driver_id is not None:
            ProofOfDelivery.objects.create(
                order=order,
                driver_id=route.driver_id,
                photo=photo or "",
                pin_verified=bool(pin),
                recipient_name=recipient_name,
                latitude=latitude,
                longitude=longitude,
                note=note,
                created_at=now,
            )
            stop_finish(route=route, order=order, failed=False)
        route_sync(route=route, actor=actor)
        return order


def order_fail_delivery(*, order: Order, actor: Actor, reason: str) -> Order:
    """Nobody could take the order at the door; the driver brings it back to the store."""
    from drivers.services import route_for_order, route_sync, stop_finish

    if not reason.strip():
        raise OrderError("Say why the delivery failed.")
    with transaction.atomic():
        order = _lock(order)
        route = route_for_order(order)
        _move(order=order, to=Status.DELIVERY_FAILED, actor=actor, reason=reason.strip())
        if route is not None:
            stop_finish(route=route, order=order, failed=True, reason=reason.strip())
        route_sync(route=route, actor=actor)
        return order


def order_return(*, order: Order, actor: Actor, note: str = "") -> Order:
    """The store receives a failed delivery back: its items go back on the shelf."""
    from drivers.services import route_for_order, route_sync, stop_return_received

    with transaction.atomic():
        order = _lock(order)
        route = route_for_order(order)
        _move(order=order, to=Status.RETURNED, actor=actor, note=note)
        _stock_change(order, on_hand=+1, reserved=0)
        stop_return_received(route=route, order=order)
        route_sync(route=route, actor=actor)
        return order


def order_cancel(*, order: Order, actor: Actor, reason: str) -> Order:
    """Cancel before pick-up (shopper, store or ops): stock released, route re-planned."""
    from drivers.services import route_remove_order

    if not reason.strip():
        raise OrderError("Say why the order is cancelled.")
    with transaction.atomic():
        order = _lock(order)
        if order.status in (Status.PICKED_UP, Status.DELIVERY_FAILED):
            raise InvalidTransition(
                f"Order {order.number} is already with the driver; it can't be cancelled now."
            )
        _move(order=order, to=Status.CANCELLED, actor=actor, reason=reason.strip())
        _release(order)
        route_remove_order(order=order, actor=actor)
        return order


# --- Pick and pack, adjustments, attention -----------------------------------------------

SLOW_ACCEPTANCE = "Not accepted within"
NO_DRIVER = "No driver available yet"


def _check_store_side(actor: Actor, order: Order) -> None:
    """Pick/pack work: the order's store staff (any role), ops, its retailer's keys, the system."""
    from django.core.exceptions import PermissionDenied

    from orders.permissions import actor_may_act_on_order

    if actor.kind not in ("store", "ops", "api", "system") or not actor_may_act_on_order(
        actor, order
    ):
        raise PermissionDenied("This order is not yours to pack.")


def order_line_pick(*, line: OrderLine, actor: Actor, picked: bool = True) -> OrderLine:
    """Tick (or untick) a line of an accepted order on the pick list. No status change."""
    with transaction.atomic():
        order = _lock(line.order)
        _check_store_side(actor, order)
        if order.status != Status.ACCEPTED:
            raise InvalidTransition(
                f"Order {order.number} is {order.get_status_display().lower()}; "
                "only accepted orders are picked."
            )
        line = OrderLine.objects.get(pk=line.pk, order=order)
        line.picked_at = clock.now() if picked else None
        line.save(update_fields=["picked_at"])
        return line


def order_line_unavailable(
    *, line: OrderLine, actor: Actor, available: int = 0, note: str = ""
) -> Order:
    """Staff can't find (all of) a line: the order shrinks to what the shelf really has.

    Guarantees: the missing units' reservation is released and they are written off the
    shelf count (a StockAdjustment row says so, so `available` for other shoppers does not
    change); the line is reduced or removed; subtotal, bags and total are recomputed (the
    delivery fee and tip stay: one delivery still happens); an OrderEvent with an unchanged
    status records it and the shopper is told on commit. When nothing would be left the whole
    order is rejected instead (all stock released), so an order is never empty.
    """
    from retailers.models import StockAdjustment

    if available < 0:
        raise OrderError("The quantity found can't be negative.")
    with transaction.atomic():
        order = _lock(line.order)
        _check_store_side(actor, order)
        if order.status not in (Status.PLACED, Status.ACCEPTED):
            raise InvalidTransition(
                f"Order {order.number} is {order.get_status_display().lower()}; "
                "it can no longer be changed."
            )
        line = OrderLine.objects.select_related("product").get(pk=line.pk, order=order)
        if available >= line.quantity:
            raise OrderError(f"The order only asks for {line.quantity} of {line.title}.")
        missing = line.quantity - available
        now = clock.now()
        lines = list(order.lines.select_related("product").order_by("product_id"))
        what = f"{missing} × {line.title} unavailable"
        if available == 0 and len(lines) == 1:
            reason = f"Out of stock: {what}"
            _move(order=order, to=Status.REJECTED, actor=actor, reason=reason)
            _release(order)
        else:
            if available == 0:
                line.delete()
            else:
                line.quantity = available
                line.save(update_fields=["quantity"])
            Stock.objects.filter(store_id=order.store_id, product_id=line.product_id).update(
                reserved=F("reserved") - missing
            )
            remaining = [ln for ln in lines if ln.product_id != line.product_id]
            remaining += [line] if available else []
            order.subtotal_cents = sum(ln.unit_price_cents * ln.quantity for ln in remaining)
            order.bags = max(1, sum(ln.product.bags * ln.quantity for ln in remaining))
            order.total_cents = order.subtotal_cents + order.fee_cents + order.tip_cents
            order.save(update_fields=["subtotal_cents", "bags", "total_cents", "updated_at"])
            extra = f" ({note.strip()})" if note.strip() else ""
            _record(
                order=order,
                from_status=order.status,
                actor=actor,
                note=f"Adjusted: {what}{extra}. New total ${order.total_cents / 100:.2f}.",
                at=now,
            )
        # The units were not on the shelf: correct the count, keeping `available` unchanged.
        stock = Stock.objects.filter(store_id=order.store_id, product_id=line.product_id)
        stock.update(on_hand=F("on_hand") - missing)
        row = stock.first()
        if row is not None:
            StockAdjustment.objects.create(
                stock=row,
                delta=-missing,
                on_hand_after=row.on_hand,
                reason=StockAdjustment.Reason.ORDER,
                note=f"Not found for order {order.number}",
                actor_user=actor.user if actor.user_id else None,
                actor_label=actor.label,
                created_at=now,
            )
        order.refresh_from_db()
        return order


def order_flag_attention(*, order: Order, actor: Actor, attention: str) -> bool:
    """Ask ops to look at an open order; the first reason and its time are kept. Returns
    whether the flag was newly set (a conditional update: two checkers can't both set it)."""
    from orders.permissions import check_ops

    check_ops(actor)
    return bool(
        Order.objects.filter(pk=order.pk, attention="", status__in=Order.OPEN_STATUSES).update(
            attention=attention[:200], attention_since=clock.now()
        )
    )


def order_clear_attention(*, orders, prefix: str) -> int:
    """Take down flags that no longer apply (e.g. "no driver" once a driver accepted)."""
    return Order.objects.filter(pk__in=[o.pk for o in orders], attention__startswith=prefix).update(
        attention="", attention_since=None
    )
