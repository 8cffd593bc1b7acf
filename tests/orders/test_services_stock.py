"""Stock follows the order: reserved at placement, released when the order won't go,
deducted at pick-up, restocked on return; never negative, never over-reserved."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from orders.models import Order
from orders.permissions import Actor
from orders.services import CartItem, CheckoutError, checkout_place, order_cancel, order_reject
from retailers.models import Stock
from tests import factories as f

S = Order.Status


def levels(stock_row):
    stock_row.refresh_from_db()
    return (stock_row.on_hand, stock_row.reserved)


def test_placing_an_order_reserves_its_units(place_order, stock):
    place_order(stock, quantity=3)

    assert levels(stock) == (10, 3)
    assert stock.available == 7


def test_rejecting_releases_the_reservation(place_order, stock, manager):
    order = place_order(stock, quantity=3)

    order_reject(order=order, actor=Actor.store_staff(manager), reason="Damaged")

    assert levels(stock) == (10, 0)


@pytest.mark.parametrize("status", [S.PLACED, S.ACCEPTED, S.READY])
def test_cancelling_before_pick_up_releases_the_reservation(
    place_order, advance, stock, shopper, status
):
    order = advance(place_order(stock, quantity=3), status)
    assert levels(stock) == (10, 3)

    order_cancel(order=order, actor=Actor.shopper(shopper.user), reason="Changed my mind")

    assert levels(stock) == (10, 0)


def test_accepting_and_marking_ready_leave_stock_alone(place_order, advance, stock):
    advance(place_order(stock, quantity=3), S.READY)

    assert levels(stock) == (10, 3)


def test_pick_up_takes_the_units_off_the_shelf(place_order, advance, stock):
    advance(place_order(stock, quantity=3), S.PICKED_UP)

    assert levels(stock) == (7, 0)


def test_pick_up_leaves_other_orders_reservations_in_place(place_order, advance, stock):
    place_order(stock, quantity=2)
    advance(place_order(stock, quantity=3), S.PICKED_UP)

    assert levels(stock) == (7, 2)


@pytest.mark.parametrize("status", [S.DELIVERED, S.DELIVERY_FAILED])
def test_delivering_or_failing_does_not_touch_stock_again(place_order, advance, stock, status):
    advance(place_order(stock, quantity=3), status)

    assert levels(stock) == (7, 0)


def test_a_returned_order_goes_back_on_the_shelf(place_order, advance, stock):
    advance(place_order(stock, quantity=3), S.RETURNED)

    assert levels(stock) == (10, 0)


def test_a_return_restocks_a_product_whose_stock_row_was_removed(place_order, advance, stock):
    order = advance(place_order(stock, quantity=3), S.DELIVERY_FAILED)
    store_id, product_id = stock.store_id, stock.product_id
    stock.delete()

    advance(order, S.RETURNED)

    restocked = Stock.objects.get(store_id=store_id, product_id=product_id)
    assert (restocked.on_hand, restocked.reserved) == (3, 0)


def test_each_line_of_a_multi_line_order_moves_its_own_stock(
    shopper, address, store, stock, advance
):
    second = f.StockFactory(store=store, on_hand=4)
    (order,) = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=address,
        recipient_name="Alice",
        items=[
            CartItem(store.pk, stock.product_id, 2),
            CartItem(store.pk, second.product_id, 4),
        ],
    )
    assert (levels(stock), levels(second)) == ((10, 2), (4, 4))

    advance(order, S.PICKED_UP)

    assert (levels(stock), levels(second)) == ((8, 0), (0, 0))


def test_the_last_unit_can_be_sold_but_not_one_more(place_order, stock):
    place_order(stock, quantity=10)
    assert levels(stock) == (10, 10)

    with pytest.raises(CheckoutError, match="sold out"):
        place_order(stock, quantity=1)

    assert levels(stock) == (10, 10)


def test_stock_never_goes_negative_after_a_full_sell_through(place_order, advance, stock):
    advance(place_order(stock, quantity=10), S.DELIVERED)

    assert levels(stock) == (0, 0)
    with pytest.raises(CheckoutError, match="sold out"):
        place_order(stock, quantity=1)
    assert levels(stock) == (0, 0)


# --- The database backs the rules up ------------------------------------------------------


def test_the_database_refuses_more_reserved_than_on_hand(stock):
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(reserved=F("on_hand") + 1)

    assert levels(stock) == (10, 0)


def test_the_database_refuses_a_negative_reservation(stock):
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(reserved=-1)

    assert levels(stock) == (10, 0)


def test_the_database_refuses_taking_on_hand_below_what_is_reserved(place_order, stock):
    place_order(stock, quantity=4)

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(on_hand=3)

    assert levels(stock) == (10, 4)


def test_the_database_refuses_negative_stock_on_hand(stock):
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(pk=stock.pk).update(on_hand=-1)

    assert levels(stock) == (10, 0)
