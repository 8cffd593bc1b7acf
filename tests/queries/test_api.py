"""The API's lists: availability, a key's orders, a store's orders, the driver's offers and
route, webhook endpoints and deliveries."""

import pytest
from rest_framework.test import APIClient

from drivers.models import Driver
from drivers.services import route_offer, route_plan
from orders.api import representations
from orders.api.auth import api_key_create, driver_token_create
from orders.models import ApiScope, Order
from orders.services import order_pick_up
from orders.webhooks import webhook_endpoint_create
from tests import factories as f
from tests.queries.counting import assert_flat, deliveries


def key_client(**kwargs) -> APIClient:
    _, raw = api_key_create(name="queries", scopes=list(ApiScope.values), **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def driver_client(driver) -> APIClient:
    _, raw = driver_token_create(driver=driver, name="Pixel 8")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def ok(response):
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def retailer_api(store):
    return key_client(retailer=store.retailer)


@pytest.fixture
def stocks(store):
    return [f.StockFactory(store=store, on_hand=50) for _ in range(3)]


@pytest.fixture
def orders_in_every_state(stocks, place_order, advance, ready_orders, held, other_driver, system):
    """`orders_in_every_state(n)`: n orders at our store in each state a list shows: placed,
    accepted, ready, rejected, cancelled, picked up (on a route `other_driver` holds)."""

    def _orders(n):
        for i in range(n):
            stock = stocks[i % len(stocks)]
            for status in ("placed", "accepted", "ready", "rejected", "cancelled"):
                advance(place_order(stock), status)
        return ready_orders([stocks[i % len(stocks)] for i in range(n)])

    return _orders


def test_availability_does_not_query_per_store(mall, driver):
    api = key_client(partner="Acme Market")

    def stores(n):
        for _ in range(n):
            store = f.StoreFactory(mall=mall)
            f.StockFactory(store=store, product__title="Lip Gloss")
            f.StockFactory(store=store, product__title="Mascara")

    stores(3)
    response = assert_flat(
        lambda: api.get("/api/v1/availability/", {"latitude": 36.14, "longitude": -115.15}),
        lambda: stores(12),
    )

    assert len(ok(response)["results"]) == 30


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/stores/{store}/orders/"])
def test_order_lists_do_not_query_per_order(
    retailer_api, store, orders_in_every_state, held, other_driver, system, path
):
    orders_in_every_state(1)

    def more():
        routed = orders_in_every_state(3)
        held(other_driver, routed)
        for order in routed[:2]:
            order_pick_up(order=order, actor=system)

    def get():
        # Cold: orders written out before are reused (orders/api/representations.py); what
        # must not grow is the work when none are.
        representations.forget_all()
        return retailer_api.get(path.format(store=store.pk))

    response = assert_flat(get, more)

    results = ok(response)["results"]
    listed = (
        store.orders.all()
        if "stores" not in path
        else store.orders.filter(status__in=Order.OPEN_STATUSES)
    )
    assert {row["id"] for row in results} == set(listed.values_list("number", flat=True))
    assert len(results) >= 16
    assert all(row["lines"] and row["events"] for row in results)


def test_the_drivers_offers_do_not_query_per_offer_or_stop(mall, driver, ready_orders, system):
    Driver.objects.filter(pk=driver.pk).update(capacity_bags=100)
    stocks = [f.StockFactory(store=f.StoreFactory(mall=mall), on_hand=50) for _ in range(4)]
    api = driver_client(driver)

    def offers(n):
        for i in range(n):
            orders = ready_orders(stocks[: 1 + i % len(stocks)])
            route = route_plan(mall=mall, orders=orders, actor=system)
            route_offer(route=route, driver=driver, actor=system)

    offers(2)
    response = assert_flat(lambda: api.get("/api/v1/driver/offers/"), lambda: offers(8))

    assert len(ok(response)) == 10


def test_the_drivers_route_does_not_query_per_stop(
    mall, driver, other_driver, ready_orders, held, system
):
    stocks = [f.StockFactory(store=f.StoreFactory(mall=mall), on_hand=50) for _ in range(5)]

    def driving(who, n):
        orders = ready_orders([stocks[i % len(stocks)] for i in range(n)])
        held(who, orders)
        for order in orders[: n // 2]:
            order_pick_up(order=order, actor=system)
        return driver_client(who)

    few, many = driving(driver, 3), driving(other_driver, 15)

    response = assert_flat(
        lambda: few.get("/api/v1/driver/routes/"),
        lambda: None,
        get_more=lambda: many.get("/api/v1/driver/routes/"),
    )

    (route,) = ok(response)
    assert len(route["stops"]) == 5 + 15


def test_webhook_endpoints_do_not_query_per_endpoint(retailer_api, store):
    def add(n):
        for i in range(n):
            webhook_endpoint_create(
                url=f"https://shop.example/hooks/{i}",
                retailer=store.retailer,
                events=["order.updated", "route.assigned"] if i % 2 else [],
            )

    add(3)
    response = assert_flat(lambda: retailer_api.get("/api/v1/webhooks/endpoints/"), lambda: add(12))

    assert len(ok(response)["results"]) == 15


@pytest.mark.parametrize("params", [{}, {"status": "failed"}], ids=["all", "failed"])
def test_webhook_deliveries_do_not_query_per_delivery(
    retailer_api, store, stocks, place_order, params
):
    orders = [place_order(stocks[i % 3]) for i in range(15)]
    endpoints = [
        webhook_endpoint_create(url=f"https://shop.example/{i}", retailer=store.retailer)
        for i in range(2)
    ]
    deliveries(endpoints[0], orders[:3])

    response = assert_flat(
        lambda: retailer_api.get("/api/v1/webhooks/deliveries/", params),
        lambda: (deliveries(endpoints[0], orders[3:9]), deliveries(endpoints[1], orders[9:])),
    )

    results = ok(response)["results"]
    assert len(results) == 15
    assert all(len(row["log"]) == 2 and row["order"] for row in results)
