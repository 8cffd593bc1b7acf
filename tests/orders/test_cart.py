"""The cart: one mall at a time, never more than the store has, kept across login."""

import pytest
from django.urls import reverse

from orders.cart import (
    SESSION_KEY,
    CartError,
    cart_accept_changes,
    cart_add,
    cart_changes,
    cart_lines,
    cart_set_quantity,
)
from orders.models import Cart, CartLine
from retailers.models import Product, Stock
from tests import factories as f


@pytest.fixture
def cart(db):
    return Cart.objects.create()


@pytest.fixture
def far_stock(db):
    """A product at a store of another mall."""
    far_mall = f.MallFactory(name="Hudson Yards", timezone="America/New_York")
    return f.StockFactory(store=f.StoreFactory(mall=far_mall), on_hand=10)


def quantities(cart):
    return {(ln.store_id, ln.product_id): ln.quantity for ln in cart.lines.all()}


def stock_row(pk):
    return Stock.objects.select_related("product", "store__mall").get(pk=pk)


# --- Adding -----------------------------------------------------------------------------


def test_adding_puts_a_line_with_the_price_seen(cart, stock):
    line = cart_add(cart=cart, stock=stock, quantity=2)

    assert quantities(cart) == {(stock.store_id, stock.product_id): 2}
    assert line.seen_price_cents == stock.product.price_cents


def test_adding_the_same_item_again_adds_up(cart, stock):
    cart_add(cart=cart, stock=stock, quantity=2)
    cart_add(cart=cart, stock=stock, quantity=3)

    assert quantities(cart) == {(stock.store_id, stock.product_id): 5}


def test_lines_from_several_stores_of_one_mall_share_a_cart(cart, stock, other_stock):
    cart_add(cart=cart, stock=stock, quantity=1)
    cart_add(cart=cart, stock=other_stock, quantity=1)

    assert len(cart_lines(cart)) == 2


def test_more_than_the_store_has_is_refused_with_the_available_quantity(cart, store):
    row = f.StockFactory(store=store, on_hand=5, reserved=2, product__title="Lipstick")
    cart_add(cart=cart, stock=row, quantity=2)

    with pytest.raises(CartError) as error:
        cart_add(cart=cart, stock=stock_row(row.pk), quantity=2)

    assert str(error.value) == f"Only 3 of Lipstick available at {store.name}."
    assert quantities(cart) == {(store.pk, row.product_id): 2}


def test_a_sold_out_item_is_refused(cart, store):
    row = f.StockFactory(store=store, on_hand=4, reserved=4, product__title="Lipstick")

    with pytest.raises(CartError) as error:
        cart_add(cart=cart, stock=row, quantity=1)

    assert str(error.value) == f"Lipstick is sold out at {store.name}."
    assert not cart.lines.exists()


def test_zero_or_more_than_twenty_of_one_item_is_refused(cart, store):
    row = f.StockFactory(store=store, on_hand=50)

    with pytest.raises(CartError, match="at least 1"):
        cart_add(cart=cart, stock=row, quantity=0)
    with pytest.raises(CartError, match="At most 20"):
        cart_add(cart=cart, stock=row, quantity=21)
    assert not cart.lines.exists()


def test_an_item_from_another_mall_is_refused_and_nothing_is_lost(cart, stock, far_stock):
    cart_add(cart=cart, stock=stock, quantity=2)

    with pytest.raises(CartError) as error:
        cart_add(cart=cart, stock=far_stock, quantity=1)

    assert str(error.value) == (
        "Your cart has items from Fashion Show. One delivery comes from one mall: "
        "check out or empty your cart before adding from Hudson Yards."
    )
    assert quantities(cart) == {(stock.store_id, stock.product_id): 2}


# --- Changing quantities ----------------------------------------------------------------


def test_setting_a_quantity_replaces_it(cart, stock):
    line = cart_add(cart=cart, stock=stock, quantity=2)

    cart_set_quantity(cart=cart, line_id=line.pk, quantity=7)

    assert quantities(cart) == {(stock.store_id, stock.product_id): 7}


def test_setting_zero_removes_the_line(cart, stock, other_stock):
    line = cart_add(cart=cart, stock=stock, quantity=2)
    cart_add(cart=cart, stock=other_stock, quantity=1)

    assert cart_set_quantity(cart=cart, line_id=line.pk, quantity=0) is None

    assert quantities(cart) == {(other_stock.store_id, other_stock.product_id): 1}


def test_setting_more_than_the_store_has_is_refused(cart, stock):
    line = cart_add(cart=cart, stock=stock, quantity=2)

    with pytest.raises(CartError, match=r"^Only 10 of .* available"):
        cart_set_quantity(cart=cart, line_id=line.pk, quantity=11)

    assert quantities(cart) == {(stock.store_id, stock.product_id): 2}


def test_nobody_changes_a_line_of_another_cart(cart, stock):
    theirs = Cart.objects.create()
    line = cart_add(cart=theirs, stock=stock, quantity=2)

    with pytest.raises(CartError, match="no longer in your cart"):
        cart_set_quantity(cart=cart, line_id=line.pk, quantity=0)

    assert CartLine.objects.filter(pk=line.pk, quantity=2).exists()


# --- What changed since ---------------------------------------------------------------------


def test_changes_report_a_new_price_and_a_stock_shortfall(cart, store):
    pricier = f.StockFactory(store=store, product__title="Lipstick", product__price_cents=1999)
    fewer = f.StockFactory(store=store, product__title="Mascara", on_hand=10)
    gone = f.StockFactory(store=store, product__title="Blush", on_hand=10)
    steady = f.StockFactory(store=store, on_hand=10)
    for row, n in [(pricier, 1), (fewer, 5), (gone, 1), (steady, 1)]:
        cart_add(cart=cart, stock=row, quantity=n)
    Product.objects.filter(pk=pricier.product_id).update(price_cents=2450)
    Stock.objects.filter(pk=fewer.pk).update(reserved=8)
    Stock.objects.filter(pk=gone.pk).update(on_hand=0)

    changes = cart_changes(cart)

    assert sorted(c.message for c in changes) == [
        f"Blush sold out at {store.name}.",
        "Lipstick is now $24.50 (was $19.99).",
        f"Only 2 of Mascara left at {store.name}; your cart has 5.",
    ]


def test_no_changes_when_nothing_moved(cart, stock):
    cart_add(cart=cart, stock=stock, quantity=3)

    assert cart_changes(cart) == []


def test_a_product_taken_off_sale_is_reported_sold_out(cart, stock):
    cart_add(cart=cart, stock=stock, quantity=1)
    Product.objects.filter(pk=stock.product_id).update(is_active=False)

    assert [c.message for c in cart_changes(cart)] == [
        f"{stock.product.title} sold out at {stock.store.name}."
    ]


def test_accepting_changes_takes_new_prices_and_trims_to_what_is_left(cart, store):
    pricier = f.StockFactory(store=store, product__price_cents=1000)
    fewer = f.StockFactory(store=store, on_hand=10)
    gone = f.StockFactory(store=store, on_hand=10)
    for row, n in [(pricier, 2), (fewer, 5), (gone, 1)]:
        cart_add(cart=cart, stock=row, quantity=n)
    Product.objects.filter(pk=pricier.product_id).update(price_cents=1200)
    Stock.objects.filter(pk=fewer.pk).update(on_hand=3)
    Stock.objects.filter(pk=gone.pk).update(on_hand=0)

    cart_accept_changes(cart)

    assert quantities(cart) == {(store.pk, pricier.product_id): 2, (store.pk, fewer.product_id): 3}
    assert cart.lines.get(product=pricier.product).seen_price_cents == 1200
    assert cart_changes(cart) == []


# --- Through the pages ------------------------------------------------------------------


def add(client, stock_row, quantity=1, **extra):
    return client.post(
        reverse("shop:cart_add"), {"stock": stock_row.pk, "quantity": quantity, **extra}
    )


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def test_an_anonymous_visitor_keeps_a_cart_in_the_session(client, stock):
    response = add(client, stock, 2)

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:cart")
    cart = Cart.objects.get(pk=client.session[SESSION_KEY])
    assert cart.user is None
    assert quantities(cart) == {(stock.store_id, stock.product_id): 2}
    page = client.get(reverse("shop:cart"))
    assert "Cart (2)" in page.text
    assert stock.product.title in page.text


def test_a_refused_add_says_why_on_the_next_page(client, stock, far_stock):
    add(client, stock, 1)

    response = add(client, far_stock, 1, next=reverse("shop:cart"))
    page = client.get(response["Location"])

    assert any("One delivery comes from one mall" in m for m in page_messages(page))
    assert "Cart (1)" in page.text


def test_adding_back_to_another_site_is_not_allowed(client, stock):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example/"]:
        response = add(client, stock, 1, next=target)

        assert response.status_code == 302
        assert "evil.example" not in response["Location"], target


def test_adding_goes_back_to_the_page_the_shopper_was_on(client, stock):
    response = add(client, stock, 1, next="/shop/?q=lip&page=2")

    assert response["Location"] == "/shop/?q=lip&page=2"


def test_updating_and_removing_lines_through_the_cart_page(client, stock, other_stock):
    add(client, stock, 2)
    add(client, other_stock, 1)
    cart = Cart.objects.get(pk=client.session[SESSION_KEY])
    line = cart.lines.get(store=stock.store)
    other = cart.lines.get(store=other_stock.store)

    client.post(reverse("shop:cart_update", args=[line.pk]), {"quantity": 4})
    response = client.post(reverse("shop:cart_update", args=[other.pk]), {"quantity": 0})
    page = client.get(response["Location"])

    assert quantities(cart) == {(stock.store_id, stock.product_id): 4}
    assert "Cart (4)" in page.text


def test_a_visitor_cannot_change_another_visitors_cart(client, stock):
    theirs = Cart.objects.create()
    line = cart_add(cart=theirs, stock=stock, quantity=2)
    add(client, stock, 1)

    client.post(reverse("shop:cart_update", args=[line.pk]), {"quantity": 0})

    assert CartLine.objects.filter(pk=line.pk, quantity=2).exists()


def log_in(client, username="alice"):
    return client.post(reverse("login"), {"username": username, "password": "mallrun"}, follow=True)


def test_logging_in_keeps_the_anonymous_cart(client, shopper, stock):
    add(client, stock, 2)

    response = log_in(client)

    assert response.context["user"] == shopper.user
    cart = Cart.objects.get(user=shopper.user)
    assert quantities(cart) == {(stock.store_id, stock.product_id): 2}
    assert "Cart (2)" in client.get(reverse("shop:cart")).text


def test_logging_in_folds_the_visit_into_the_saved_cart(client, shopper, stock, other_stock):
    saved = Cart.objects.create(user=shopper.user)
    cart_add(cart=saved, stock=stock, quantity=1)
    add(client, stock, 2)
    add(client, other_stock, 1)
    visit = Cart.objects.get(pk=client.session[SESSION_KEY])

    log_in(client)

    assert quantities(saved) == {
        (stock.store_id, stock.product_id): 3,
        (other_stock.store_id, other_stock.product_id): 1,
    }
    assert not Cart.objects.filter(pk=visit.pk).exists()
    assert "Cart (4)" in client.get(reverse("shop:cart")).text


def test_logging_in_with_a_visit_from_another_mall_keeps_the_saved_cart_and_says_so(
    client, shopper, stock, far_stock
):
    saved = Cart.objects.create(user=shopper.user)
    cart_add(cart=saved, stock=stock, quantity=1)
    add(client, far_stock, 2)
    client.get(reverse("shop:cart"))  # the "Added" message is read

    response = log_in(client)

    assert quantities(saved) == {(stock.store_id, stock.product_id): 1}
    assert page_messages(response) == [
        "Your saved cart has items from Fashion Show, so the items from Hudson Yards you "
        "added before logging in were not added. One delivery comes from one mall."
    ]
