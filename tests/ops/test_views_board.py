"""The live board: late and at-risk orders on top, routes, supply against demand, stores."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.services import order_flag_attention
from retailers.services import store_pause
from tests import factories as f


def board(client, mall, **headers):
    return client.get(reverse("ops:board", args=[mall.slug]), headers=headers)


def test_ops_home_redirects_to_the_first_malls_board(ops_client, mall):
    response = ops_client.get(reverse("ops:home"))
    assert response.url == reverse("ops:board", args=[mall.slug])


def test_late_orders_come_first_then_at_risk_then_the_rest(
    ops_client, mall, place_order, stock, system, at
):
    on_time = place_order(stock)
    at.advance(minutes=5)
    flagged = place_order(stock)
    order_flag_attention(order=flagged, actor=system, attention="Promise at risk")
    late = place_order(stock)
    late.promised_by = at.now - dt.timedelta(minutes=20)
    late.save(update_fields=["promised_by"])

    body = board(ops_client, mall).content.decode()

    assert body.index(late.number) < body.index(flagged.number) < body.index(on_time.number)
    assert "Late 20 min" in body
    assert "Promise at risk" in body


def test_an_order_shows_its_age_and_time_left(ops_client, mall, place_order, stock, at):
    order = place_order(stock)
    at.advance(minutes=12)
    left = int((order.promised_by - at.now).total_seconds() // 60)
    body = board(ops_client, mall).content.decode()
    assert "age 12 min" in body
    assert f"{left} min to promise" in body


def test_routes_show_driver_progress_and_stops(ops_client, mall, held_route, driver):
    body = board(ops_client, mall).content.decode()
    assert f"Route {held_route.pk}" in body
    assert str(driver) in body
    assert "0 of 2 stops done" in body  # the pick-up and the drop-off
    assert "ETA 12:30" in body  # noon local + 30 min


def test_paused_and_slow_stores_are_listed(
    ops_client, mall, store, other_store, stock, place_order, at, system
):
    store_pause(store=other_store, actor=system, until=at.now + dt.timedelta(hours=1))
    place_order(stock)
    at.advance(minutes=store.acceptance_minutes + 1)
    body = board(ops_client, mall).content.decode()
    assert "Paused until" in body
    assert "1 waiting to be accepted" in body


def test_supply_against_demand_counts_booked_drivers(ops_client, mall, driver, at):
    from drivers.services import block_book

    block = f.BlockFactory(mall=mall, starts_at=at.now + dt.timedelta(minutes=30))
    block_book(block=block, driver=driver)
    at.advance(minutes=40)  # the block has started
    response = board(ops_client, mall)
    demand = response.context["board"].demand
    assert demand[0].drivers_booked == 1
    assert len(demand) == 3


def test_htmx_gets_only_the_live_part_and_it_polls(ops_client, mall):
    full = board(ops_client, mall)
    part = board(ops_client, mall, **{"HX-Request": "true"})
    assert b"<html" in full.content and b"<html" not in part.content
    assert b'hx-trigger="every' in part.content
    assert "HX-Request" in part["Vary"]


def test_the_boards_query_count_does_not_grow_with_orders(
    ops_client, mall, place_order, stock, ready, driver, system
):
    from drivers.services import route_plan

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert board(ops_client, mall).status_code == 200
        return len(ctx.captured_queries)

    route_plan(mall=mall, orders=[ready()], actor=system)
    place_order(stock)
    few = count()
    for _ in range(4):
        place_order(stock)
    route_plan(mall=mall, orders=[ready(), ready()], actor=system)
    assert count() == few
