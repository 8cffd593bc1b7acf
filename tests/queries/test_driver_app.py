"""The driver's lists: the route in hand (home and route page), an offer's stops, blocks and
bookings, earnings. The open-offers list on the home page is covered in
tests/drivers/test_views_driver.py."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from drivers.models import Block, Driver, PayLine
from drivers.services import block_book, route_offer, route_plan
from orders.permissions import Actor
from orders.services import order_deliver, order_fail_delivery, order_pick_up
from tests import factories as f
from tests.queries.counting import NOON, assert_flat


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stocks(mall):
    """Five stores at the mall with a well-stocked product each."""
    return [f.StockFactory(store=f.StoreFactory(mall=mall), on_hand=50) for _ in range(5)]


@pytest.fixture
def driving(stocks, ready_orders, held, system):
    """`driving(driver, n)`: the driver holds a route of n orders from up to five stores, all
    collected; one delivered and one failed (coming back) when there are three or more."""

    def _driving(driver, n):
        orders = ready_orders([stocks[i % len(stocks)] for i in range(n)])
        route = held(driver, orders)
        for order in orders:
            order_pick_up(order=order, actor=system)
        as_driver = Actor.driver(driver.user)
        order_deliver(order=orders[0], actor=as_driver, pin=orders[0].delivery_pin)
        order_fail_delivery(order=orders[1], actor=as_driver, reason="Nobody home")
        return route

    return _driving


@pytest.mark.parametrize("page", ["driver:home", "driver:route"])
def test_the_route_in_hand_does_not_query_per_stop(driving, driver, other_driver, page):
    driving(driver, 3)
    driving(other_driver, 15)
    few, many = logged_in(driver.user), logged_in(other_driver.user)

    response = assert_flat(
        lambda: few.get(reverse(page)), lambda: None, get_more=lambda: many.get(reverse(page))
    )

    assert len(response.context["route"].stops.all()) == 5 + 15 + 1  # pick-ups, doors, return


def test_an_offer_does_not_query_per_stop(stocks, ready_orders, driver, system):
    Driver.objects.filter(pk=driver.pk).update(capacity_bags=100)

    def offer(n):
        orders = ready_orders([stocks[i % len(stocks)] for i in range(n)])
        route = route_plan(mall=orders[0].store.mall, orders=orders, actor=system)
        return route_offer(route=route, driver=driver, actor=system)

    small, large = offer(3), offer(15)
    client = logged_in(driver.user)

    response = assert_flat(
        lambda: client.get(reverse("driver:offer", args=[small.pk])),
        lambda: None,
        get_more=lambda: client.get(reverse("driver:offer", args=[large.pk])),
    )

    assert response.context["card"]["dropoffs"] == 15


def test_blocks_do_not_query_per_block_or_booking(driver, mall):
    other_malls = [f.MallFactory() for _ in range(3)]
    client = logged_in(driver.user)

    def blocks(first, n):
        for i in range(first, first + n):
            block = f.BlockFactory(
                mall=[mall, *other_malls][i % 4],
                starts_at=NOON + dt.timedelta(hours=4 * i + 1),
                ends_at=NOON + dt.timedelta(hours=4 * i + 4),
            )
            if i % 2:
                block_book(block=block, driver=driver)

    blocks(0, 3)
    response = assert_flat(lambda: client.get(reverse("driver:blocks")), lambda: blocks(3, 12))

    assert len(response.context["blocks"]) == 15
    assert len(response.context["bookings"]) == 7
    assert Block.objects.count() == 15


def test_earnings_do_not_query_per_pay_line(driver, mall, ready_orders, stocks, system):
    Driver.objects.filter(pk=driver.pk).update(home_mall=mall)
    client = logged_in(driver.user)

    def pay(n):
        for order in ready_orders([stocks[i % len(stocks)] for i in range(n)]):
            route = route_plan(mall=mall, orders=[order], actor=system)
            for kind in (PayLine.Kind.BASE, PayLine.Kind.PER_STOP):
                PayLine.objects.create(
                    driver=driver,
                    route=route,
                    order=order,
                    kind=kind,
                    amount_cents=500,
                    description=f"{order.number}",
                    created_at=NOON - dt.timedelta(minutes=5),
                )

    pay(2)
    response = assert_flat(lambda: client.get(reverse("driver:earnings")), lambda: pay(8))

    assert len(response.context["today"]["lines"]) == 20
