"""Ops lists: the mall board (whole page and HTMX part) with held routes, online drivers,
paused stores and blocks growing, and the drivers list. The board with more orders and
planned routes, the audit trail and the metrics are covered in tests/ops/."""

import datetime as dt

import pytest
from django.urls import reverse

from drivers.models import Driver
from drivers.services import block_book, driver_go_online
from orders.models import Order
from orders.permissions import Actor
from orders.services import order_pick_up
from retailers.services import store_pause
from tests import factories as f
from tests.queries.counting import NOON, assert_flat


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def busier(mall, ready_orders, held, system, place_order):
    """`busier(n)`: n more stores, each with an order waiting too long (the even ones also
    paused), and n drivers online at the mall, each holding a three-order route (the odd ones
    collected) and booked on a block starting soon."""

    def _busier(n):
        for i in range(n):
            store = f.StoreFactory(mall=mall)
            manager = f.MembershipFactory(store=store).user
            stock = f.StockFactory(store=store, on_hand=50)
            waiting = place_order(stock)  # and too long: a slow store
            Order.objects.filter(pk=waiting.pk).update(placed_at=NOON - dt.timedelta(hours=1))
            driver = driver_go_online(driver=f.DriverFactory(), mall=mall)
            orders = ready_orders([stock] * 3)
            held(driver, orders)
            if i % 2:
                for order in orders:
                    order_pick_up(order=order, actor=system)
            else:
                store_pause(
                    store=store,
                    actor=Actor.store_staff(manager),
                    until=NOON + dt.timedelta(hours=1),
                    reason="Stocktake",
                )
            block = f.BlockFactory(mall=mall, starts_at=NOON + dt.timedelta(minutes=30))
            block_book(block=block, driver=driver)

    return _busier


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_board_does_not_query_per_route_driver_or_store(ops_client, mall, busier, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    busier(2)

    response = assert_flat(
        lambda: ops_client.get(reverse("ops:board", args=[mall.slug]), **headers),
        lambda: busier(8),
    )

    board = response.context["board"]
    assert (len(board.routes), len(board.online_drivers)) == (10, 10)
    assert [row["slow"] for row in board.stores] == [1] * 10
    assert sum(row["paused"] for row in board.stores) == 5
    assert sum(hour.drivers_booked for hour in board.demand) >= 10


@pytest.mark.parametrize("status", ["pending", "approved", "suspended", "all"])
def test_the_drivers_list_does_not_query_per_driver(ops_client, mall, status):
    other_mall = f.MallFactory()

    def apply(n):
        for i in range(n):
            driver = f.DriverFactory(
                status=Driver.Status.PENDING if status == "all" else status,
                home_mall=[mall, other_mall][i % 2],
            )
            if driver.status == Driver.Status.APPROVED:
                driver_go_online(driver=driver, mall=mall)

    apply(3)
    response = assert_flat(
        lambda: ops_client.get(reverse("ops:drivers"), {"status": status}), lambda: apply(12)
    )

    assert len(response.context["drivers"]) == 15
