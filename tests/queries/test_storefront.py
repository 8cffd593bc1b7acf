"""The shopper's lists: what's available (with search and filters, whole page and HTMX part),
one product's stores, the order list and a checkout's tracking page."""

import pytest
from django.urls import reverse

from orders.models import Order
from orders.permissions import Actor
from orders.services import CartItem, checkout_place
from orders.views import LOCATION_KEY
from tests import factories as f
from tests.queries.counting import assert_flat

VEGAS = {"latitude": 36.14, "longitude": -115.15, "label": "Las Vegas, NV 89109"}


@pytest.fixture
def in_vegas(client, db):
    session = client.session
    session[LOCATION_KEY] = {**VEGAS, "zip_code": "89109"}
    session.save()
    return client


def stores_with_products(mall, n, *, retailer=None):
    """`n` stores at the mall (each its own retailer unless given), two products each."""
    stocks = []
    for _ in range(n):
        store = f.StoreFactory(mall=mall, **({"retailer": retailer} if retailer else {}))
        for _ in range(2):
            stocks.append(f.StockFactory(store=store, product__title="Wool Socks"))
    return stocks


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "wool socks"},
        {"category": "Accessories", "min": "5", "max": "50", "sort": "price"},
        {"sort": "store", "mall": "fashion-show"},
    ],
    ids=["all", "search", "filters", "by-store"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_availability_does_not_query_per_store(in_vegas, mall, driver, params, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    stores_with_products(mall, 2)

    def get():
        return in_vegas.get(reverse("shop:availability"), params, **headers)

    response = assert_flat(get, lambda: stores_with_products(mall, 10))

    assert response.text.count("Wool Socks") >= 24  # a full page, from many stores


def test_the_product_page_does_not_query_per_store(in_vegas, mall, driver):
    retailer = f.RetailerFactory()
    product = f.ProductFactory(retailer=retailer, title="Trail Runner")

    def stores(n):
        for _ in range(n):
            f.StockFactory(store=f.StoreFactory(mall=mall, retailer=retailer), product=product)

    stores(3)
    response = assert_flat(
        lambda: in_vegas.get(reverse("shop:product", args=[product.pk])), lambda: stores(12)
    )

    assert len(response.context["rows"]) == 15


def test_the_order_list_does_not_query_per_store_or_status(
    client, shopper, mall, place_order, advance
):
    stocks = [f.StockFactory(store=f.StoreFactory(mall=mall)) for _ in range(15)]
    client.force_login(shopper.user)
    for stock in stocks[:3]:
        place_order(stock)

    def more():
        statuses = ["accepted", "ready", "rejected", "cancelled"]
        for i, stock in enumerate(stocks[3:]):
            advance(place_order(stock), statuses[i % len(statuses)])

    response = assert_flat(lambda: client.get(reverse("orders:mine")), more)

    assert len(response.context["orders"]) == 15


def _checkout(shopper, address, stocks) -> Order:
    orders = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=address,
        recipient_name="Alice Shopper",
        recipient_email="alice@example.com",
        recipient_phone="+17025550100",
        items=[CartItem(s.store_id, s.product_id, 1) for s in stocks],
    )
    return orders


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_tracking_page_does_not_query_per_order(client, shopper, address, mall, advance, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    stocks = [f.StockFactory(store=f.StoreFactory(mall=mall)) for _ in range(15)]
    client.force_login(shopper.user)
    small = _checkout(shopper, address, stocks[:3])
    large = _checkout(shopper, address, stocks[3:])
    # One on the way with a driver and an ETA (a driver holds one route at a time), the rest
    # in the store, rejected or cancelled.
    statuses = ["picked_up"] + ["accepted", "ready", "rejected", "cancelled"] * 3
    for order, status in zip(large, statuses[:12], strict=True):
        advance(order, status)

    def track(orders):
        return lambda: client.get(reverse("shop:track", args=[orders[0].group]), **headers)

    response = assert_flat(track(small), lambda: None, get_more=track(large))

    assert response.content.decode().count('<section class="card track">') == 12


@pytest.fixture
def shopping(in_vegas, shopper, address):
    """The shopper, signed in, adds one of each given stock row to the cart."""
    in_vegas.force_login(shopper.user)

    def _add(stocks):
        for stock in stocks:
            response = in_vegas.post(reverse("shop:cart_add"), {"stock": stock.pk, "quantity": 1})
            assert response.status_code == 302

    return _add


@pytest.mark.parametrize("page", ["shop:cart", "shop:checkout"])
def test_the_cart_and_checkout_do_not_query_per_store_or_line(
    in_vegas, mall, driver, shopping, page
):
    stores = [f.StoreFactory(mall=mall) for _ in range(12)]
    stocks = [f.StockFactory(store=s) for s in stores for _ in range(2)]
    shopping(stocks[:6])

    response = assert_flat(lambda: in_vegas.get(reverse(page)), lambda: shopping(stocks[6:]))

    assert len(response.context["summaries"]) == 12
    assert sum(len(s.lines) for s in response.context["summaries"]) == 24


def test_the_mall_list_does_not_query_per_mall(client, db):
    def malls(n):
        for _ in range(n):
            mall = f.MallFactory()
            f.StoreFactory(mall=mall)

    malls(3)
    response = assert_flat(lambda: client.get(reverse("shop:home")), lambda: malls(12))

    assert len(response.context["malls"]) == 15
