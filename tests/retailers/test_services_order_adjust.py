"""Pick and pack: ticking lines, lines the store can't find, and the acceptance-window flag."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from orders.models import Order, OrderEvent
from orders.notifications import LocmemSmsBackend
from orders.permissions import Actor
from orders.services import (
    InvalidTransition,
    OrderError,
    order_line_pick,
    order_line_unavailable,
)
from retailers import clock
from retailers.models import Stock, StockAdjustment
from retailers.tasks import flag_slow_acceptance
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_line_order(place_order, stock, shopper, address):
    from orders.services import CartItem, checkout_place

    second = f.StockFactory(store=stock.store, on_hand=5, product__price_cents=500)
    (order,) = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=address,
        recipient_name="Alice",
        recipient_phone="+17025550100",
        items=[
            CartItem(stock.store_id, stock.product_id, 2),
            CartItem(second.store_id, second.product_id, 3),
        ],
    )
    return order, stock, second


def test_staff_tick_a_line_of_an_accepted_order(advance, place_order, stock, associate):
    order = advance(place_order(stock), "accepted")
    line = order.lines.get()
    order_line_pick(line=line, actor=Actor.store_staff(associate))
    line.refresh_from_db()
    assert line.picked_at is not None
    order_line_pick(line=line, actor=Actor.store_staff(associate), picked=False)
    line.refresh_from_db()
    assert line.picked_at is None


def test_it_refuses_to_tick_another_stores_order(advance, place_order, stock, other_staff):
    order = advance(place_order(stock), "accepted")
    with pytest.raises(PermissionDenied):
        order_line_pick(line=order.lines.get(), actor=Actor.store_staff(other_staff))


def test_it_refuses_to_tick_a_placed_order(place_order, stock, manager):
    order = place_order(stock)
    with pytest.raises(InvalidTransition):
        order_line_pick(line=order.lines.get(), actor=Actor.store_staff(manager))


def test_a_partly_found_line_is_reduced_and_the_order_recomputed(
    two_line_order, associate, django_capture_on_commit_callbacks
):
    order, first, second = two_line_order
    fee, tip = order.fee_cents, order.tip_cents
    line = order.lines.get(product=second.product)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_line_unavailable(line=line, actor=Actor.store_staff(associate), available=1)
    line.refresh_from_db()
    assert line.quantity == 1
    assert order.subtotal_cents == first.product.price_cents * 2 + 500
    assert order.total_cents == order.subtotal_cents + fee + tip
    second.refresh_from_db()
    assert (second.on_hand, second.reserved) == (3, 1)  # 2 missing: written off and released
    assert StockAdjustment.objects.get(stock=second).delta == -2
    event = OrderEvent.objects.filter(order=order).last()
    assert event.from_status == event.to_status == "placed"
    assert "2 ×" in event.note
    assert any("changed your order" in m.body for m in LocmemSmsBackend.outbox)


def test_a_line_found_not_at_all_is_removed(two_line_order, manager):
    order, first, second = two_line_order
    line = order.lines.get(product=first.product)
    order = order_line_unavailable(line=line, actor=Actor.store_staff(manager), available=0)
    assert list(order.lines.values_list("product_id", flat=True)) == [second.product_id]
    assert order.subtotal_cents == 1500
    assert order.status == Order.Status.PLACED
    first.refresh_from_db()
    assert (first.on_hand, first.reserved) == (8, 0)


def test_nothing_left_rejects_the_whole_order(
    place_order, stock, manager, django_capture_on_commit_callbacks
):
    order = place_order(stock, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_line_unavailable(
            line=order.lines.get(), actor=Actor.store_staff(manager), available=0
        )
    assert order.status == Order.Status.REJECTED
    assert order.status_reason.startswith("Out of stock")
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (8, 0)
    assert any("won't be delivered" in m.body for m in LocmemSmsBackend.outbox)


def test_unavailable_refuses_more_than_ordered_and_wrong_state(
    advance, place_order, stock, manager
):
    order = place_order(stock, quantity=2)
    with pytest.raises(OrderError):
        order_line_unavailable(
            line=order.lines.get(), actor=Actor.store_staff(manager), available=2
        )
    order = advance(order, "ready")
    with pytest.raises(InvalidTransition):
        order_line_unavailable(line=order.lines.get(), actor=Actor.store_staff(manager))
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (10, 2)


def test_unavailable_refuses_another_stores_staff(place_order, stock, other_staff):
    order = place_order(stock)
    with pytest.raises(PermissionDenied):
        order_line_unavailable(line=order.lines.get(), actor=Actor.store_staff(other_staff))
    assert Stock.objects.get(pk=stock.pk).reserved == 1


def test_orders_not_accepted_in_time_are_flagged_once_and_cleared_by_accepting(
    place_order, stock, manager
):
    order = place_order(stock)
    assert flag_slow_acceptance() == 0
    later = clock.now() + dt.timedelta(minutes=stock.store.acceptance_minutes + 1)
    with clock.frozen_at(later):
        assert flag_slow_acceptance() == 1
        assert flag_slow_acceptance() == 0
    order.refresh_from_db()
    assert order.attention.startswith("Not accepted within")
    assert order.attention_since == later
    from orders.services import order_accept

    order_accept(order=order, actor=Actor.store_staff(manager))
    order.refresh_from_db()
    assert order.attention == "" and order.attention_since is None


def test_the_acceptance_check_is_scheduled():
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="retailers.tasks.flag_slow_acceptance").exists()
