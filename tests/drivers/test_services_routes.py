"""Routes: planning, dropping, cancelling, and moving along as their orders move."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied

from drivers.models import Offer, PayLine, Route, RouteEvent, RouteStop
from drivers.services import (
    RouteError,
    offer_accept,
    route_arrive_at_mall,
    route_cancel,
    route_offer,
    route_plan,
    route_release,
)
from orders.models import Order
from orders.permissions import Actor
from orders.services import (
    order_cancel,
    order_deliver,
    order_fail_delivery,
    order_pick_up,
    order_return,
)
from retailers import clock
from retailers.geo import road_km
from tests import factories as f

OS = Order.Status
RS = Route.Status


@pytest.fixture
def ready_order(place_order, advance):
    """A new order of `stock_row`, accepted and packed."""

    def _ready(stock_row, quantity=1):
        return advance(place_order(stock_row, quantity=quantity), OS.READY)

    return _ready


@pytest.fixture
def ops(ops_user):
    return Actor.ops(ops_user)


@pytest.fixture
def taken_route(mall, ops, driver):
    """Plan a route through `orders`, offer it to `driver` and let them take it."""

    def _take(*orders):
        route = route_plan(mall=mall, orders=list(orders), actor=ops)
        offer = route_offer(route=route, driver=driver, actor=ops)
        return offer_accept(offer=offer, actor=Actor.driver(driver.user))

    return _take


def status_of(row):
    row.refresh_from_db()
    return row.status


def stops(route):
    return [
        (s.sequence, s.kind, s.store_id, s.order_id, s.status)
        for s in route.stops.order_by("sequence")
    ]


# --- Planning -----------------------------------------------------------------------------


def test_a_route_picks_up_at_each_store_first_then_drops_off_in_the_given_order(
    mall, ops, ready_order, stock, other_stock
):
    a, b, c = ready_order(stock), ready_order(other_stock), ready_order(stock)

    route = route_plan(mall=mall, orders=[b, a, c], actor=ops)

    assert route.status == RS.PLANNED
    assert route.driver is None
    assert stops(route) == [
        (1, "pickup", other_stock.store_id, None, "pending"),
        (2, "pickup", stock.store_id, None, "pending"),
        (3, "dropoff", None, b.pk, "pending"),
        (4, "dropoff", None, a.pk, "pending"),
        (5, "dropoff", None, c.pk, "pending"),
    ]
    event = route.events.get()
    assert (event.from_status, event.to_status, event.actor_kind) == ("", "planned", "ops")


def test_an_accepted_order_can_be_routed_before_it_is_ready(mall, ops, place_order, advance, stock):
    order = advance(place_order(stock), OS.ACCEPTED)

    route = route_plan(mall=mall, orders=[order], actor=ops)

    assert route.stops.filter(kind="dropoff", order=order).exists()


def test_a_route_writes_its_pay_before_anyone_is_offered_it(
    mall, ops, ready_order, stock, other_stock
):
    a, b = ready_order(stock), ready_order(other_stock)
    km = road_km(mall.latitude, mall.longitude, a.address.latitude, a.address.longitude)
    km += road_km(a.address.latitude, a.address.longitude, b.address.latitude, b.address.longitude)

    route = route_plan(mall=mall, orders=[a, b], actor=ops)

    lines = {line.kind: line for line in route.pay_lines.all()}
    assert set(lines) == {PayLine.Kind.BASE, PayLine.Kind.PER_STOP, PayLine.Kind.PER_KM}
    assert lines["base"].amount_cents == mall.pay_base_cents
    assert lines["per_stop"].amount_cents == 2 * mall.pay_per_stop_cents
    assert lines["per_km"].amount_cents == round(mall.pay_per_km_cents * km)
    assert all(line.driver_id is None for line in lines.values())
    assert route.pay_cents == sum(line.amount_cents for line in lines.values())
    assert route.planned_km == Decimal(f"{km:.2f}")
    assert route.planned_minutes >= 2 * settings.MALLRUN_STOP_MINUTES


def test_a_route_keeps_the_planned_arrival_of_each_drop_off(mall, ops, ready_order, stock):
    order = ready_order(stock)
    eta = clock.now()

    route = route_plan(mall=mall, orders=[order], actor=ops, planned_arrivals=[eta])

    assert route.stops.get(kind="dropoff").planned_arrival == eta


def test_it_refuses_an_order_the_store_has_not_accepted(mall, ops, place_order, stock):
    order = place_order(stock)

    with pytest.raises(RouteError, match="is placed; it can't be routed"):
        route_plan(mall=mall, orders=[order], actor=ops)

    assert Route.objects.count() == 0


@pytest.mark.parametrize("status", [OS.PICKED_UP, OS.DELIVERED, OS.CANCELLED, OS.REJECTED])
def test_it_refuses_an_order_that_is_past_routing(mall, ops, place_order, advance, stock, status):
    order = advance(place_order(stock), status)
    routes = Route.objects.count()

    with pytest.raises(RouteError, match="can't be routed"):
        route_plan(mall=mall, orders=[order], actor=ops)

    assert Route.objects.count() == routes


def test_it_refuses_an_order_from_another_mall(mall, ops, ready_order, stock):
    elsewhere = ready_order(f.StockFactory(store=f.StoreFactory()))
    ours = ready_order(stock)

    with pytest.raises(RouteError, match=f"is not from {mall.name}"):
        route_plan(mall=mall, orders=[ours, elsewhere], actor=ops)

    assert Route.objects.count() == 0


def test_it_refuses_an_order_already_on_another_live_route(mall, ops, ready_order, stock):
    a, b = ready_order(stock), ready_order(stock)
    first = route_plan(mall=mall, orders=[a], actor=ops)

    with pytest.raises(RouteError, match="already on another route"):
        route_plan(mall=mall, orders=[b, a], actor=ops)

    assert list(Route.objects.all()) == [first]
    assert RouteStop.objects.filter(order=b).count() == 0
    assert PayLine.objects.exclude(route=first).count() == 0


def test_an_order_can_be_routed_again_once_its_route_is_cancelled(mall, ops, ready_order, stock):
    order = ready_order(stock)
    first = route_plan(mall=mall, orders=[order], actor=ops)
    route_cancel(route=first, actor=ops, reason="Re-plan")

    second = route_plan(mall=mall, orders=[order], actor=ops)

    assert second.stops.get(kind="dropoff").order == order


def test_it_refuses_an_empty_route(mall, ops):
    with pytest.raises(RouteError, match="at least one order"):
        route_plan(mall=mall, orders=[], actor=ops)


@pytest.mark.parametrize("who", ["manager", "driver", "shopper"])
def test_it_refuses_anyone_but_ops_planning_a_route(
    mall, ready_order, stock, manager, driver, shopper, who
):
    user = {"manager": manager, "driver": driver.user, "shopper": shopper.user}[who]
    actor = {
        "manager": Actor.store_staff,
        "driver": Actor.driver,
        "shopper": Actor.shopper,
    }[who](user)

    with pytest.raises(PermissionDenied):
        route_plan(mall=mall, orders=[ready_order(stock)], actor=actor)

    assert Route.objects.count() == 0


def test_the_system_may_plan_a_route(mall, system, ready_order, stock):
    route = route_plan(mall=mall, orders=[ready_order(stock)], actor=system, policy="greedy")

    assert route.policy == "greedy"


# --- Dropping and cancelling -----------------------------------------------------------------


def test_a_driver_who_drops_a_route_sends_it_back_to_planning(
    ready_order, stock, taken_route, driver
):
    route = taken_route(ready_order(stock))

    route_release(route=route, actor=Actor.driver(driver.user), reason="Flat tyre")

    route.refresh_from_db()
    assert route.status == RS.PLANNED
    assert (route.driver, route.accepted_at) == (None, None)
    assert not route.pay_lines.filter(driver__isnull=False).exists()
    assert route.offers.get().status == Offer.Status.WITHDRAWN
    event = route.events.last()
    assert (event.from_status, event.to_status, event.note) == ("accepted", "planned", "Flat tyre")


def test_a_dropped_route_can_go_to_another_driver(
    ready_order, stock, taken_route, driver, other_driver, ops
):
    route = taken_route(ready_order(stock))
    route_release(route=route, actor=Actor.driver(driver.user), reason="Flat tyre")

    offer = route_offer(route=route, driver=other_driver, actor=ops)
    offer_accept(offer=offer, actor=Actor.driver(other_driver.user))

    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.ACCEPTED, other_driver)
    assert set(route.pay_lines.values_list("driver", flat=True)) == {other_driver.pk}


def test_a_driver_at_the_mall_can_still_drop_the_route_before_collecting(
    ready_order, stock, taken_route, driver
):
    route = taken_route(ready_order(stock))
    route_arrive_at_mall(route=route, actor=Actor.driver(driver.user))

    route_release(route=route, actor=Actor.driver(driver.user), reason="Store is closed")

    assert status_of(route) == RS.PLANNED


def test_it_refuses_to_drop_a_route_once_an_order_was_collected(
    ready_order, stock, other_stock, taken_route, driver, system
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)
    order_pick_up(order=a, actor=system)

    with pytest.raises(RouteError, match="already collected"):
        route_release(route=route, actor=Actor.driver(driver.user), reason="Done for today")

    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.PICKING_UP, driver)


def test_it_refuses_another_driver_dropping_the_route(
    ready_order, stock, taken_route, driver, other_driver
):
    route = taken_route(ready_order(stock))

    with pytest.raises(PermissionDenied):
        route_release(route=route, actor=Actor.driver(other_driver.user), reason="Mine now")

    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.ACCEPTED, driver)


def test_it_refuses_to_drop_a_route_without_a_reason(ready_order, stock, taken_route, driver):
    route = taken_route(ready_order(stock))

    with pytest.raises(RouteError, match="Say why"):
        route_release(route=route, actor=Actor.driver(driver.user), reason=" ")

    assert status_of(route) == RS.ACCEPTED


def test_ops_may_take_a_route_off_its_driver(ready_order, stock, taken_route, ops):
    route = taken_route(ready_order(stock))

    route_release(route=route, actor=ops, reason="Driver unreachable")

    assert status_of(route) == RS.PLANNED


def test_it_refuses_to_drop_a_route_nobody_holds(mall, ops, ready_order, stock):
    route = route_plan(mall=mall, orders=[ready_order(stock)], actor=ops)

    with pytest.raises(RouteError, match="is planned; it can't be planned"):
        route_release(route=route, actor=ops, reason="Nothing to drop")


@pytest.mark.parametrize("stage", ["planned", "offered", "accepted", "picking_up"])
def test_ops_can_cancel_a_route_before_pick_up(
    mall, ops, ready_order, stock, other_stock, driver, other_driver, stage
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = route_plan(mall=mall, orders=[a, b], actor=ops)
    if stage != "planned":
        offer = route_offer(route=route, driver=driver, actor=ops)
        route_offer(route=route, driver=other_driver, actor=ops)
    if stage in ("accepted", "picking_up"):
        route = offer_accept(offer=offer, actor=Actor.driver(driver.user))
    if stage == "picking_up":
        route_arrive_at_mall(route=route, actor=Actor.driver(driver.user))

    route_cancel(route=route, actor=ops, reason="Re-plan")

    route.refresh_from_db()
    assert route.status == RS.CANCELLED
    assert route.completed_at is not None
    assert set(route.stops.values_list("status", flat=True)) == {"cancelled"}
    assert not route.offers.filter(status=Offer.Status.PENDING).exists()
    assert (status_of(a), status_of(b)) == (OS.READY, OS.READY)


def test_it_refuses_to_cancel_a_route_after_pick_up(
    ready_order, stock, other_stock, taken_route, ops, system
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)
    order_pick_up(order=a, actor=system)

    with pytest.raises(RouteError, match="already collected"):
        route_cancel(route=route, actor=ops, reason="Re-plan")

    assert status_of(route) == RS.PICKING_UP
    assert not route.stops.filter(status="cancelled").exists()


def test_it_refuses_anyone_but_ops_cancelling_a_route(ready_order, stock, taken_route, driver):
    route = taken_route(ready_order(stock))

    with pytest.raises(PermissionDenied):
        route_cancel(route=route, actor=Actor.driver(driver.user), reason="Don't want it")

    assert status_of(route) == RS.ACCEPTED


def test_it_refuses_to_cancel_a_route_without_a_reason(mall, ops, ready_order, stock):
    route = route_plan(mall=mall, orders=[ready_order(stock)], actor=ops)

    with pytest.raises(RouteError, match="Say why"):
        route_cancel(route=route, actor=ops, reason="")

    assert status_of(route) == RS.PLANNED


def test_cancelling_the_only_order_of_a_route_cancels_the_route(
    ready_order, stock, taken_route, shopper
):
    order = ready_order(stock)
    route = taken_route(order)

    order_cancel(order=order, actor=Actor.shopper(shopper.user), reason="Not needed")

    route.refresh_from_db()
    assert route.status == RS.CANCELLED
    assert set(route.stops.values_list("status", flat=True)) == {"cancelled"}
    assert f"Order {order.number} was cancelled" in route.events.last().note


def test_cancelling_one_order_takes_only_its_stops_off_the_route(
    ready_order, stock, other_stock, taken_route, shopper
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)

    order_cancel(order=a, actor=Actor.shopper(shopper.user), reason="Not needed")

    route.refresh_from_db()
    assert route.status == RS.ACCEPTED
    assert stops(route) == [
        (1, "pickup", stock.store_id, None, "cancelled"),
        (2, "pickup", other_stock.store_id, None, "pending"),
        (3, "dropoff", None, a.pk, "cancelled"),
        (4, "dropoff", None, b.pk, "pending"),
    ]


def test_a_stores_pick_up_stays_while_another_of_its_orders_is_on_the_route(
    ready_order, stock, taken_route, shopper
):
    a, b = ready_order(stock), ready_order(stock)
    route = taken_route(a, b)

    order_cancel(order=a, actor=Actor.shopper(shopper.user), reason="Not needed")

    assert route.stops.get(kind="pickup").status == "pending"


# --- Moving along with its orders ------------------------------------------------------------


def test_a_route_moves_along_as_its_orders_are_collected_and_delivered(
    ready_order, stock, other_stock, taken_route, driver, manager, system
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)
    as_driver = Actor.driver(driver.user)
    assert status_of(route) == RS.ACCEPTED

    order_pick_up(order=a, actor=Actor.store_staff(manager), handover_code=route.handover_code)
    assert status_of(route) == RS.PICKING_UP

    order_pick_up(order=b, actor=system)
    assert status_of(route) == RS.DELIVERING
    assert set(route.stops.filter(kind="pickup").values_list("status", flat=True)) == {"done"}

    a.refresh_from_db()
    order_deliver(order=a, actor=as_driver, pin=a.delivery_pin)
    assert status_of(route) == RS.DELIVERING
    assert route.stops.get(order=a).status == "done"

    b.refresh_from_db()
    order_deliver(order=b, actor=as_driver, pin=b.delivery_pin)
    route.refresh_from_db()
    assert route.status == RS.COMPLETED
    assert route.completed_at is not None
    driver.refresh_from_db()
    assert driver.idle_since == route.completed_at
    assert list(route.events.values_list("to_status", flat=True)) == [
        "planned",
        "offered",
        "accepted",
        "picking_up",
        "delivering",
        "completed",
    ]


def test_arriving_at_the_mall_starts_the_pick_up(ready_order, stock, taken_route, driver):
    route = taken_route(ready_order(stock))

    route_arrive_at_mall(route=route, actor=Actor.driver(driver.user))

    assert status_of(route) == RS.PICKING_UP


def test_it_refuses_another_driver_arriving_for_the_route(
    ready_order, stock, taken_route, other_driver
):
    route = taken_route(ready_order(stock))

    with pytest.raises(PermissionDenied):
        route_arrive_at_mall(route=route, actor=Actor.driver(other_driver.user))

    assert status_of(route) == RS.ACCEPTED


def test_a_failed_delivery_keeps_the_route_open_until_the_order_is_returned(
    ready_order, stock, taken_route, driver, manager, system
):
    order = ready_order(stock)
    route = taken_route(order)
    order_pick_up(order=order, actor=system)

    order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason="Nobody home")

    assert status_of(route) == RS.DELIVERING
    assert route.stops.get(order=order, kind="dropoff").status == "failed"
    assert route.stops.get(order=order, kind="return").status == "pending"

    order_return(order=order, actor=Actor.store_staff(manager))

    assert status_of(route) == RS.COMPLETED


def test_a_route_with_one_delivered_and_one_failed_order_completes_on_the_return(
    ready_order, stock, other_stock, taken_route, driver, system
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)
    order_pick_up(order=a, actor=system)
    order_pick_up(order=b, actor=system)
    as_driver = Actor.driver(driver.user)

    a.refresh_from_db()
    order_deliver(order=a, actor=as_driver, pin=a.delivery_pin)
    order_fail_delivery(order=b, actor=as_driver, reason="Wrong address")
    assert status_of(route) == RS.DELIVERING

    order_return(order=b, actor=system)
    assert status_of(route) == RS.COMPLETED


def test_cancelling_the_last_uncollected_order_sends_the_route_out(
    ready_order, stock, other_stock, taken_route, shopper, system
):
    a, b = ready_order(stock), ready_order(other_stock)
    route = taken_route(a, b)
    order_pick_up(order=a, actor=system)
    assert status_of(route) == RS.PICKING_UP

    order_cancel(order=b, actor=Actor.shopper(shopper.user), reason="Not needed")

    assert status_of(route) == RS.DELIVERING


def test_route_events_name_the_driver(ready_order, stock, taken_route, driver):
    route = taken_route(ready_order(stock))

    accepted = RouteEvent.objects.get(route=route, to_status=RS.ACCEPTED)

    assert accepted.driver == driver
    assert accepted.actor_kind == "driver"
    assert accepted.actor_user == driver.user


def test_a_driver_who_dropped_a_route_cannot_act_on_it_through_an_old_copy(
    ready_order, stock, taken_route, driver, other_driver, ops
):
    route = taken_route(ready_order(stock))
    stale = Route.objects.get(pk=route.pk)  # loaded while the route was still theirs
    route_release(route=route, actor=Actor.driver(driver.user), reason="Flat tyre")
    offer = route_offer(route=route, driver=other_driver, actor=ops)
    offer_accept(offer=offer, actor=Actor.driver(other_driver.user))

    with pytest.raises(PermissionDenied):
        route_arrive_at_mall(route=stale, actor=Actor.driver(driver.user))
    with pytest.raises(PermissionDenied):
        route_release(route=stale, actor=Actor.driver(driver.user), reason="Changed my mind")

    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.ACCEPTED, other_driver)
