"""Query counts that must not grow with the data.

Each test renders a list page with a small data set and again after the data grew, and
asserts the second rendering ran no more queries than the first (`counting.assert_flat`): a
count that grows with the rows is an N+1 (a query per row from a template, serializer or
admin column).
"""

import pytest

from retailers import clock
from tests.queries.counting import NOON


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOON):
        yield NOON


@pytest.fixture
def held(system):
    """`held(driver, orders)`: one route through the (ready) orders, accepted by `driver`."""
    from drivers.models import Driver
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    def _held(driver, orders):
        Driver.objects.filter(pk=driver.pk).update(capacity_bags=100)
        route = route_plan(mall=orders[0].store.mall, orders=orders, actor=system)
        offer_accept(
            offer=route_offer(route=route, driver=driver, actor=system),
            actor=Actor.driver(driver.user),
        )
        route.refresh_from_db()
        return route

    return _held


@pytest.fixture
def ready_orders(place_order, system):
    """`ready_orders(stocks)`: an order per stock row, accepted and packed."""
    from orders.services import order_accept, order_mark_ready

    def _ready(stocks):
        orders = []
        for stock in stocks:
            order = place_order(stock)
            order_accept(order=order, actor=system)
            order_mark_ready(order=order, actor=system)
            order.refresh_from_db()
            orders.append(order)
        return orders

    return _ready
