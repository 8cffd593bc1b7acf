"""Admin changelists whose columns reach into related rows (the classic N+1 of
`list_display`). Order, Route, Offer, OrderEvent and PayLine are covered in
tests/test_admin.py; these are the others that list drivers, stock, stores and the rows
hanging off routes, orders and webhooks."""

import datetime as dt

import pytest
from django.urls import reverse

from drivers.services import block_book, driver_go_online, route_plan
from orders.api.auth import api_key_create, driver_token_create
from orders.models import ApiScope
from orders.permissions import Actor
from orders.webhooks import webhook_endpoint_create
from retailers.models import StockAdjustment
from retailers.services import stock_adjust
from tests import factories as f
from tests.queries.counting import NOON, assert_flat, deliveries


@pytest.fixture
def admin_client(client, ops_user):
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    client.force_login(ops_user)
    return client


@pytest.fixture
def grow(mall, store, place_order, ready_orders, system):
    """Per changelist, how to add `n` rows, each pointing at different related rows."""

    def drivers(n):
        for i in range(n):
            driver = f.DriverFactory(home_mall=f.MallFactory())
            if i % 2:
                driver_go_online(driver=driver, mall=mall)

    def stores(n):
        for _ in range(n):
            f.MembershipFactory(store=f.StoreFactory(mall=f.MallFactory()))

    def stock(n):
        for _ in range(n):
            f.StockFactory(store=f.StoreFactory(mall=mall))

    def adjustments(n):
        for _ in range(n):
            row = f.StockFactory(store=f.StoreFactory(mall=mall))
            stock_adjust(
                store=row.store,
                product=row.product,
                actor=Actor.store_staff(f.MembershipFactory(store=row.store).user),
                delta=2,
                reason=StockAdjustment.Reason.RECEIVED,
            )

    def route_stops(n):
        for _ in range(n):
            (order,) = ready_orders([f.StockFactory(store=f.StoreFactory(mall=mall))])
            route_plan(mall=mall, orders=[order], actor=system)

    def bookings(n):
        for i in range(n):
            block = f.BlockFactory(mall=f.MallFactory(), starts_at=NOON + dt.timedelta(hours=i + 1))
            block_book(block=block, driver=f.DriverFactory())

    def order_lines(n):
        for _ in range(n):
            place_order(f.StockFactory(store=f.StoreFactory(mall=mall)))

    def api_keys(n):
        for i in range(n):
            api_key_create(
                name=f"k{i}", scopes=[ApiScope.ORDERS_READ], retailer=f.RetailerFactory()
            )

    def driver_tokens(n):
        for _ in range(n):
            driver_token_create(driver=f.DriverFactory(), name="Phone")

    def webhook_rows(n):
        orders = [place_order(f.StockFactory(store=store)) for _ in range(n)]
        for order in orders:
            endpoint = webhook_endpoint_create(
                url="https://shop.example/hooks", retailer=f.RetailerFactory()
            )
            deliveries(endpoint, [order], attempts=1)

    return {
        "drivers.driver": drivers,
        "retailers.store": stores,
        "retailers.stock": stock,
        "retailers.stockadjustment": adjustments,
        "retailers.storemembership": stores,
        "drivers.routestop": route_stops,
        "drivers.blockbooking": bookings,
        "orders.orderline": order_lines,
        "orders.apikey": api_keys,
        "orders.drivertoken": driver_tokens,
        "orders.webhookendpoint": webhook_rows,
        "orders.webhookdelivery": webhook_rows,
        "orders.webhookattempt": webhook_rows,
    }


@pytest.mark.parametrize(
    "label",
    [
        "drivers.driver",
        "retailers.stock",
        "retailers.store",
        "retailers.stockadjustment",
        "retailers.storemembership",
        "drivers.routestop",
        "drivers.blockbooking",
        "orders.orderline",
        "orders.apikey",
        "orders.drivertoken",
        "orders.webhookendpoint",
        "orders.webhookdelivery",
        "orders.webhookattempt",
    ],
)
def test_a_changelist_does_not_query_per_row(admin_client, grow, label):
    app, model = label.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    grow[label](3)

    def get():
        return admin_client.get(url)

    before = get().context["cl"].result_count
    response = assert_flat(get, lambda: grow[label](12))

    assert response.context["cl"].result_count >= before + 12
