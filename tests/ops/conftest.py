import datetime as dt

import pytest

from retailers import clock

# Noon in Las Vegas on a Wednesday: stores open, before the same-day cut-off.
NOON = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves: `at.now`, `at.advance(minutes=…)`."""

    def __init__(self, start):
        self.now = start

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def at():
    c = Clock(NOON)
    clock.set_source(lambda: c.now)
    yield c
    clock.set_source(None)


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def ready(place_order, stock, system):
    """A ready order at our store (accepted and packed), not on a route yet."""
    from orders.services import order_accept, order_mark_ready

    def _ready():
        order = place_order(stock)
        order_accept(order=order, actor=system)
        order_mark_ready(order=order, actor=system)
        order.refresh_from_db()
        return order

    return _ready


@pytest.fixture
def held_route(ready, driver, system):
    """A route with one ready order, accepted by `driver`."""
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    order = ready()
    route = route_plan(
        mall=order.store.mall,
        orders=[order],
        actor=system,
        planned_arrivals=[clock.now() + dt.timedelta(minutes=30)],
    )
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=system),
        actor=Actor.driver(driver.user),
    )
    route.refresh_from_db()
    return route
