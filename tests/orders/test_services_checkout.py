"""Placing a checkout: one order per store, all or nothing, and safe to retry."""

import datetime as dt

import pytest

from orders.models import IdempotencyKey, Order, OrderEvent, OrderLine
from orders.permissions import Actor
from orders.services import CartItem, CheckoutError, IdempotencyConflict, checkout_place
from retailers import clock
from retailers.models import Stock
from tests import factories as f


@pytest.fixture
def checkout(shopper, address):
    """Check out `items` as the shopper, with everything else a storefront would pass."""

    def _checkout(items, **kwargs):
        kwargs.setdefault("actor", Actor.shopper(shopper.user))
        kwargs.setdefault("address", address)
        return checkout_place(
            shopper=shopper,
            recipient_name="Alice Shopper",
            recipient_email="alice@example.com",
            recipient_phone="+17025550100",
            items=items,
            **kwargs,
        )

    return _checkout


def item(stock_row, quantity=1):
    return CartItem(stock_row.store_id, stock_row.product_id, quantity)


def reserved(*rows):
    return [Stock.objects.get(pk=row.pk).reserved for row in rows]


# --- One order per store ----------------------------------------------------------------


def test_a_cart_across_stores_of_one_mall_makes_one_order_per_store_in_one_group(
    checkout, stock, other_stock, mall
):
    orders = checkout([item(stock, 2), item(other_stock, 1)])

    assert len(orders) == 2
    assert {o.store_id for o in orders} == {stock.store_id, other_stock.store_id}
    assert len({o.group for o in orders}) == 1
    assert Order.objects.count() == 2
    assert all(o.status == Order.Status.PLACED for o in orders)
    assert [o.events.get().to_status for o in orders] == ["placed", "placed"]


def test_one_checkout_pays_the_delivery_fee_once(checkout, stock, other_stock, mall):
    orders = checkout([item(other_stock, 1), item(stock, 1)])

    fees = sorted(o.fee_cents for o in orders)
    assert fees == [0, mall.delivery_fee_cents]
    assert mall.delivery_fee_cents > 0


def test_totals_add_up_per_order_and_per_checkout(checkout, stock, other_stock, mall):
    stock.product.price_cents = 1250
    stock.product.save()
    other_stock.product.price_cents = 899
    other_stock.product.save()

    orders = checkout(
        [item(stock, 3), item(other_stock, 2)],
        tips_cents={stock.store_id: 300, other_stock.store_id: 0},
    )

    by_store = {o.store_id: o for o in orders}
    ours, theirs = by_store[stock.store_id], by_store[other_stock.store_id]
    assert ours.subtotal_cents == 3 * 1250
    assert theirs.subtotal_cents == 2 * 899
    assert ours.tip_cents == 300
    for order in orders:
        assert order.total_cents == order.subtotal_cents + order.fee_cents + order.tip_cents
        assert order.subtotal_cents == sum(line.line_total_cents for line in order.lines.all())
    assert sum(o.total_cents for o in orders) == (3 * 1250 + 2 * 899 + 300) + (
        mall.delivery_fee_cents
    )


def test_the_price_is_captured_when_the_order_is_placed(checkout, stock):
    stock.product.price_cents = 1500
    stock.product.save()
    (order,) = checkout([item(stock, 2)])

    title = stock.product.title
    stock.product.price_cents = 9900
    stock.product.title = "Renamed"
    stock.product.save()

    line = OrderLine.objects.get(order=order)
    assert (line.unit_price_cents, line.quantity, line.title) == (1500, 2, title)
    order.refresh_from_db()
    assert order.subtotal_cents == 3000


def test_lines_for_the_same_product_are_merged(checkout, stock):
    (order,) = checkout([item(stock, 2), item(stock, 3)])

    line = order.lines.get()
    assert line.quantity == 5
    assert reserved(stock) == [5]


def test_bags_count_each_units_bags(checkout, stock):
    stock.product.bags = 2
    stock.product.save()

    (order,) = checkout([item(stock, 3)])

    assert order.bags == 6


def test_an_order_is_promised_after_it_is_placed(checkout, stock):
    now = clock.now()
    with clock.frozen_at(now):
        (order,) = checkout([item(stock)])

    assert order.placed_at == now
    assert order.promised_by > now + dt.timedelta(minutes=stock.store.prep_minutes)


# --- Refused carts: nothing is written ---------------------------------------------------


def assert_nothing_written(*rows):
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    assert all(r == 0 for r in reserved(*rows))


def test_it_refuses_a_cart_across_two_malls(checkout, stock):
    elsewhere = f.StockFactory(store=f.StoreFactory(), on_hand=10)

    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock), item(elsewhere)])

    assert refused.value.errors == [
        {"line": None, "message": "One checkout can only include stores from one mall."}
    ]
    assert_nothing_written(stock, elsewhere)


def test_it_refuses_short_stock_line_by_line_and_reserves_nothing(
    checkout, stock, other_stock, store
):
    stock.on_hand = 3
    stock.save()
    sold_out = f.StockFactory(store=store, on_hand=0)

    with pytest.raises(CheckoutError) as refused:
        checkout([item(other_stock, 1), item(stock, 5), item(sold_out, 1)])

    assert refused.value.errors == [
        {
            "line": 1,
            "message": f"Only 3 of {stock.product.title} left at {store.name}.",
            "available": 3,
        },
        {
            "line": 2,
            "message": f"{sold_out.product.title} is sold out at {store.name}.",
            "available": 0,
        },
    ]
    assert_nothing_written(stock, other_stock, sold_out)


def test_it_counts_units_already_reserved_by_other_orders(checkout, place_order, stock):
    place_order(stock, quantity=8)

    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock, 3)])

    assert refused.value.errors[0]["available"] == 2
    assert reserved(stock) == [8]
    assert Order.objects.count() == 1


def test_it_refuses_merged_lines_that_together_exceed_the_stock(checkout, stock):
    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock, 6), item(stock, 5)])

    assert [e["line"] for e in refused.value.errors] == [0]
    assert_nothing_written(stock)


@pytest.mark.parametrize("quantity", [0, -1])
def test_it_refuses_a_quantity_below_one(checkout, stock, other_stock, quantity):
    with pytest.raises(CheckoutError) as refused:
        checkout([item(other_stock, 1), item(stock, quantity)])

    assert refused.value.errors == [{"line": 1, "message": "Quantity must be at least 1."}]
    assert_nothing_written(stock, other_stock)


def test_it_refuses_a_paused_store(checkout, stock, other_stock, store):
    store.paused_until = clock.now() + dt.timedelta(hours=1)
    store.save()

    with pytest.raises(CheckoutError) as refused:
        checkout([item(other_stock), item(stock)])

    assert refused.value.errors == [
        {"line": 1, "message": f"{store.name} is paused and not taking orders."}
    ]
    assert_nothing_written(stock, other_stock)


def test_it_takes_orders_again_once_the_pause_is_over(checkout, stock, store):
    store.paused_until = clock.now() - dt.timedelta(minutes=1)
    store.save()

    (order,) = checkout([item(stock)])

    assert order.store == store


def test_it_refuses_an_empty_cart(checkout):
    with pytest.raises(CheckoutError) as refused:
        checkout([])

    assert refused.value.errors == [{"line": None, "message": "The cart is empty."}]
    assert_nothing_written()


def test_it_refuses_an_item_the_store_does_not_stock(checkout, stock, store):
    product = f.ProductFactory(retailer=store.retailer)

    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock), CartItem(store.pk, product.pk, 1)])

    assert refused.value.errors == [
        {"line": 1, "message": f"{store.name} does not sell that item."}
    ]
    assert_nothing_written(stock)


def test_it_refuses_an_inactive_product(checkout, stock, store):
    stock.product.is_active = False
    stock.product.save()

    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock)])

    assert refused.value.errors[0]["line"] == 0
    assert_nothing_written(stock)


def test_it_refuses_a_store_that_does_not_exist(checkout, stock):
    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock), CartItem(999_999, stock.product_id, 1)])

    assert refused.value.errors == [{"line": 1, "message": "That store does not exist."}]
    assert_nothing_written(stock)


def test_it_refuses_a_negative_tip(checkout, stock):
    with pytest.raises(CheckoutError, match="tip can't be negative"):
        checkout([item(stock)], tips_cents={stock.store_id: -100})

    assert_nothing_written(stock)


def test_it_reports_every_refused_line_at_once(checkout, stock, other_stock):
    with pytest.raises(CheckoutError) as refused:
        checkout([item(stock, 0), item(other_stock, 0)])

    assert [e["line"] for e in refused.value.errors] == [0, 1]


# --- Idempotency -------------------------------------------------------------------------


def test_the_same_key_twice_returns_the_same_orders(checkout, stock, other_stock):
    cart = [item(stock, 2), item(other_stock, 1)]

    first = checkout(cart, idempotency_key="k-1")
    again = checkout(cart, idempotency_key="k-1")

    assert sorted(o.pk for o in again) == sorted(o.pk for o in first)
    assert Order.objects.count() == 2
    assert reserved(stock, other_stock) == [2, 1]
    assert IdempotencyKey.objects.get().group == first[0].group


def test_the_same_key_with_a_different_cart_is_a_conflict(checkout, stock):
    checkout([item(stock, 2)], idempotency_key="k-1")

    with pytest.raises(IdempotencyConflict):
        checkout([item(stock, 3)], idempotency_key="k-1")

    assert Order.objects.count() == 1
    assert reserved(stock) == [2]


def test_the_same_key_with_another_address_is_a_conflict(checkout, stock, shopper):
    checkout([item(stock)], idempotency_key="k-1")

    with pytest.raises(IdempotencyConflict):
        checkout([item(stock)], idempotency_key="k-1", address=f.AddressFactory(shopper=shopper))


def test_a_key_is_scoped_to_whoever_sent_it(checkout, stock, other_shopper):
    checkout([item(stock)], idempotency_key="k-1")
    checkout([item(stock)], idempotency_key="k-1", actor=Actor.shopper(other_shopper.user))

    assert Order.objects.count() == 2
    assert IdempotencyKey.objects.count() == 2


def test_an_explicit_scope_overrides_the_actor(checkout, stock, other_shopper):
    first = checkout([item(stock)], idempotency_key="k-1", idempotency_scope="api:shopmall")
    again = checkout(
        [item(stock)],
        idempotency_key="k-1",
        idempotency_scope="api:shopmall",
        actor=Actor.shopper(other_shopper.user),
    )

    assert [o.pk for o in again] == [o.pk for o in first]


def test_a_refused_checkout_leaves_no_key_so_a_retry_can_succeed(checkout, stock):
    stock.on_hand = 1
    stock.save()

    with pytest.raises(CheckoutError):
        checkout([item(stock, 2)], idempotency_key="k-1")
    assert IdempotencyKey.objects.count() == 0

    stock.on_hand = 5
    stock.save()
    (order,) = checkout([item(stock, 2)], idempotency_key="k-1")

    assert order.lines.get().quantity == 2
    assert IdempotencyKey.objects.get().group == order.group


def test_without_a_key_a_second_checkout_is_a_second_order(checkout, stock):
    checkout([item(stock)])
    checkout([item(stock)])

    assert Order.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0
