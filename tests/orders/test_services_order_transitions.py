"""Every move of the order life: who may make it, from which state, and what it writes.

Each allowed move (a key of ORDER_TRANSITIONS) is made once by every actor kind allowed to
make it; every other actor kind and every move that does not exist is refused, and a refused
move leaves the order exactly as it was.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from drivers.services import offer_accept, route_for_order, route_offer, route_plan
from orders.models import ActorKind, Order
from orders.permissions import ORDER_TRANSITIONS, Actor
from orders.services import (
    CartItem,
    InvalidTransition,
    OrderError,
    checkout_place,
    order_accept,
    order_cancel,
    order_deliver,
    order_fail_delivery,
    order_mark_ready,
    order_pick_up,
    order_reject,
    order_return,
)
from retailers import clock

S = Order.Status
ALL_KINDS = sorted(ActorKind.values)
ALLOWED = sorted(
    (from_, to, kind) for (from_, to), kinds in ORDER_TRANSITIONS.items() for kind in kinds
)
REFUSED = sorted(
    (from_, to, kind)
    for (from_, to), kinds in ORDER_TRANSITIONS.items()
    for kind in ALL_KINDS
    if kind not in kinds
)
MISSING = sorted(
    (from_, to)
    for from_ in S.values
    for to in S.values
    if to != S.PLACED and (from_, to) not in ORDER_TRANSITIONS
)


def move(order, to, actor):
    """Ask the service that owns the move to `to`, with what a real caller would give it."""
    match to:
        case S.ACCEPTED:
            return order_accept(order=order, actor=actor, prep_minutes=20)
        case S.REJECTED:
            return order_reject(order=order, actor=actor, reason="Out of stock")
        case S.READY:
            return order_mark_ready(order=order, actor=actor, bags=2)
        case S.PICKED_UP:
            route = route_for_order(order)
            needs_code = actor.kind in (ActorKind.STORE, ActorKind.API)
            code = route.handover_code if route is not None and needs_code else None
            return order_pick_up(order=order, actor=actor, handover_code=code)
        case S.DELIVERED:
            return order_deliver(order=order, actor=actor, pin=order.delivery_pin)
        case S.DELIVERY_FAILED:
            return order_fail_delivery(order=order, actor=actor, reason="Nobody home")
        case S.RETURNED:
            return order_return(order=order, actor=actor)
        case S.CANCELLED:
            return order_cancel(order=order, actor=actor, reason="Changed my mind")
    raise AssertionError(f"no service moves an order to {to}")


@pytest.fixture
def actors(shopper, manager, driver, ops_user, store, system):
    """One actor of each kind, each with every right its kind can have on our order."""
    return {
        ActorKind.SHOPPER: Actor.shopper(shopper.user),
        ActorKind.STORE: Actor.store_staff(manager),
        ActorKind.DRIVER: Actor.driver(driver.user),
        ActorKind.OPS: Actor.ops(ops_user),
        ActorKind.API: Actor.api("sephora-key", retailer_id=store.retailer_id),
        ActorKind.SYSTEM: system,
    }


@pytest.fixture
def order(place_order, stock):
    return place_order(stock, quantity=2)


@pytest.fixture
def hand_to_driver(driver, system):
    """Plan a route through a ready order and let `driver` take it; returns the route."""

    def _hand(order):
        route = route_plan(mall=order.store.mall, orders=[order], actor=system)
        offer = route_offer(route=route, driver=driver, actor=system)
        return offer_accept(offer=offer, actor=Actor.driver(driver.user))

    return _hand


def snapshot(order):
    order.refresh_from_db()
    return (order.status, order.status_reason, order.updated_at, order.events.count())


@pytest.mark.parametrize(("from_status", "to_status", "kind"), ALLOWED)
def test_it_makes_each_allowed_move_for_each_allowed_actor_kind(
    order, advance, hand_to_driver, actors, from_status, to_status, kind
):
    order = advance(order, from_status)
    if to_status == S.PICKED_UP:
        hand_to_driver(order)
    actor = actors[kind]

    move(order, to_status, actor)

    order.refresh_from_db()
    assert order.status == to_status
    event = order.events.last()
    assert (event.from_status, event.to_status) == (from_status, to_status)
    assert event.actor_kind == kind
    assert event.actor_user == actor.user
    assert event.actor_label == actor.label


@pytest.mark.parametrize(("from_status", "to_status", "kind"), REFUSED)
def test_it_refuses_a_move_to_an_actor_kind_not_allowed_to_make_it(
    order, advance, hand_to_driver, actors, from_status, to_status, kind
):
    order = advance(order, from_status)
    if to_status == S.PICKED_UP:
        hand_to_driver(order)
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        move(order, to_status, actors[kind])

    assert snapshot(order) == before


@pytest.mark.parametrize(("from_status", "to_status"), MISSING)
def test_it_refuses_a_move_the_order_life_does_not_have(
    order, advance, system, from_status, to_status
):
    order = advance(order, from_status)
    before = snapshot(order)

    with pytest.raises(InvalidTransition):
        move(order, to_status, system)

    assert snapshot(order) == before


def test_every_move_of_the_order_life_is_in_the_transition_table():
    assert set(ORDER_TRANSITIONS) == {
        (S.PLACED, S.ACCEPTED),
        (S.PLACED, S.REJECTED),
        (S.ACCEPTED, S.READY),
        (S.READY, S.PICKED_UP),
        (S.PICKED_UP, S.DELIVERED),
        (S.PICKED_UP, S.DELIVERY_FAILED),
        (S.DELIVERY_FAILED, S.RETURNED),
        (S.PLACED, S.CANCELLED),
        (S.ACCEPTED, S.CANCELLED),
        (S.READY, S.CANCELLED),
    }


# --- Wrong state, by name -----------------------------------------------------------------


def test_it_refuses_to_accept_a_delivered_order(order, advance, manager):
    order = advance(order, S.DELIVERED)
    before = snapshot(order)

    with pytest.raises(InvalidTransition, match="is delivered; it can't be moved to accepted"):
        order_accept(order=order, actor=Actor.store_staff(manager))

    assert snapshot(order) == before


@pytest.mark.parametrize("status", [S.PICKED_UP, S.DELIVERY_FAILED])
def test_it_refuses_to_cancel_an_order_the_driver_has(order, advance, shopper, ops_user, status):
    order = advance(order, status)
    before = snapshot(order)

    for actor in (Actor.shopper(shopper.user), Actor.ops(ops_user)):
        with pytest.raises(InvalidTransition, match="already with the driver"):
            order_cancel(order=order, actor=actor, reason="Too late")

    assert snapshot(order) == before


@pytest.mark.parametrize("status", [S.DELIVERED, S.RETURNED, S.REJECTED, S.CANCELLED])
def test_it_refuses_to_cancel_a_finished_order(order, advance, ops_user, status):
    order = advance(order, status)
    before = snapshot(order)

    with pytest.raises(InvalidTransition):
        order_cancel(order=order, actor=Actor.ops(ops_user), reason="Clean-up")

    assert snapshot(order) == before


def test_it_refuses_to_mark_a_placed_order_ready_before_the_store_accepts_it(order, manager):
    before = snapshot(order)

    with pytest.raises(InvalidTransition):
        order_mark_ready(order=order, actor=Actor.store_staff(manager))

    assert snapshot(order) == before


def test_it_refuses_a_stale_copy_of_an_order_that_moved_on(order, manager, system):
    stale = Order.objects.get(pk=order.pk)
    order_reject(order=order, actor=system, reason="Closed early")

    with pytest.raises(InvalidTransition):
        order_accept(order=stale, actor=Actor.store_staff(manager))

    order.refresh_from_db()
    assert order.status == S.REJECTED


# --- Wrong actor, by name -----------------------------------------------------------------


def test_it_refuses_a_shopper_accepting_their_own_order(order, shopper):
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_accept(order=order, actor=Actor.shopper(shopper.user))

    assert snapshot(order) == before


@pytest.mark.parametrize(
    "act",
    [
        lambda o, a: order_accept(order=o, actor=a),
        lambda o, a: order_reject(order=o, actor=a, reason="Not ours"),
        lambda o, a: order_cancel(order=o, actor=a, reason="Not ours"),
    ],
    ids=["accept", "reject", "cancel"],
)
def test_it_refuses_another_stores_staff(order, other_staff, act):
    before = snapshot(order)

    with pytest.raises(PermissionDenied, match="not yours"):
        act(order, Actor.store_staff(other_staff))

    assert snapshot(order) == before


def test_it_refuses_another_stores_staff_marking_ready(order, advance, other_staff):
    order = advance(order, S.ACCEPTED)
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_mark_ready(order=order, actor=Actor.store_staff(other_staff))

    assert snapshot(order) == before


def test_it_lets_an_associate_run_the_stores_orders(order, associate):
    staff = Actor.store_staff(associate)

    order_accept(order=order, actor=staff)
    order_mark_ready(order=order, actor=staff)

    order.refresh_from_db()
    assert order.status == S.READY


def test_it_refuses_another_shopper_cancelling(order, other_shopper):
    before = snapshot(order)

    with pytest.raises(PermissionDenied, match="not yours"):
        order_cancel(order=order, actor=Actor.shopper(other_shopper.user), reason="Mine now")

    assert snapshot(order) == before


def test_it_refuses_a_shopper_cancelling_an_order_placed_for_nobody(
    stock, shopper, address, system
):
    (order,) = checkout_place(
        actor=system,
        address=address,
        recipient_name="Walk-in",
        items=[CartItem(stock.store_id, stock.product_id, 1)],
    )

    with pytest.raises(PermissionDenied):
        order_cancel(order=order, actor=Actor.shopper(shopper.user), reason="Not mine")


@pytest.mark.parametrize(
    "act",
    [
        lambda o, a: order_deliver(order=o, actor=a, pin=o.delivery_pin),
        lambda o, a: order_fail_delivery(order=o, actor=a, reason="Nobody home"),
    ],
    ids=["deliver", "fail"],
)
def test_it_refuses_a_driver_who_does_not_hold_the_route(order, advance, other_driver, act):
    order = advance(order, S.PICKED_UP)
    before = snapshot(order)

    with pytest.raises(PermissionDenied, match="not yours"):
        act(order, Actor.driver(other_driver.user))

    assert snapshot(order) == before


def test_it_refuses_a_user_who_is_not_a_driver_acting_as_one(order, advance, shopper):
    order = advance(order, S.PICKED_UP)
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_deliver(order=order, actor=Actor.driver(shopper.user), pin=order.delivery_pin)

    assert snapshot(order) == before


@pytest.mark.parametrize(
    "act",
    [
        lambda o, a: order_accept(order=o, actor=a),
        lambda o, a: order_reject(order=o, actor=a, reason="Not ours"),
        lambda o, a: order_cancel(order=o, actor=a, reason="Not ours"),
    ],
    ids=["accept", "reject", "cancel"],
)
def test_it_refuses_an_api_key_of_another_retailer(order, other_store, act):
    before = snapshot(order)

    with pytest.raises(PermissionDenied, match="not yours"):
        act(order, Actor.api("nike-key", retailer_id=other_store.retailer_id))

    assert snapshot(order) == before


def test_it_lets_a_partner_key_cancel_the_partners_own_order(place_order, stock):
    order = place_order(stock, partner="shopmall", channel=Order.Channel.API)

    order_cancel(order=order, actor=Actor.api("shopmall-key", partner="shopmall"), reason="Oops")

    order.refresh_from_db()
    assert order.status == S.CANCELLED


@pytest.mark.parametrize("partner", ["othermall", ""])
def test_it_refuses_a_partner_key_on_another_partners_order(place_order, stock, partner):
    order = place_order(stock, partner="shopmall", channel=Order.Channel.API)
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_cancel(order=order, actor=Actor.api("key", partner=partner), reason="Oops")

    assert snapshot(order) == before


def test_it_refuses_an_ops_actor_whose_user_is_not_staff(order, other_shopper):
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_accept(order=order, actor=Actor.ops(other_shopper.user))

    assert snapshot(order) == before


def test_it_refuses_a_driver_accepting_an_order(order, driver):
    before = snapshot(order)

    with pytest.raises(PermissionDenied):
        order_accept(order=order, actor=Actor.driver(driver.user))

    assert snapshot(order) == before


# --- What each move writes and checks -------------------------------------------------------


def test_accepting_sets_the_prep_time_and_ready_by(order, manager):
    now = clock.now()
    with clock.frozen_at(now):
        order_accept(order=order, actor=Actor.store_staff(manager), prep_minutes=25)

    order.refresh_from_db()
    assert order.prep_minutes == 25
    assert order.ready_by == now + dt.timedelta(minutes=25)
    event = order.events.last()
    assert event.created_at == now
    assert event.note == "Ready in about 25 min"


def test_accepting_without_a_prep_time_uses_the_stores(order, manager, store):
    order_accept(order=order, actor=Actor.store_staff(manager))

    order.refresh_from_db()
    assert order.prep_minutes == store.prep_minutes


@pytest.mark.parametrize("minutes", [0, 241])
def test_it_refuses_a_prep_time_out_of_range(order, manager, minutes):
    before = snapshot(order)

    with pytest.raises(OrderError, match="between 1 and 240"):
        order_accept(order=order, actor=Actor.store_staff(manager), prep_minutes=minutes)

    assert snapshot(order) == before


@pytest.mark.parametrize("bags", [0, 51])
def test_it_refuses_a_bag_count_out_of_range(order, advance, manager, bags):
    order = advance(order, S.ACCEPTED)
    before = snapshot(order)

    with pytest.raises(OrderError, match="between 1 and 50"):
        order_mark_ready(order=order, actor=Actor.store_staff(manager), bags=bags)

    assert snapshot(order) == before


def test_marking_ready_records_the_time_and_bags(order, advance, manager):
    order = advance(order, S.ACCEPTED)

    order_mark_ready(order=order, actor=Actor.store_staff(manager), bags=3)

    order.refresh_from_db()
    assert order.bags == 3
    assert order.ready_at is not None


@pytest.mark.parametrize(
    "act",
    [
        lambda o, a: order_reject(order=o, actor=a, reason="  "),
        lambda o, a: order_cancel(order=o, actor=a, reason=""),
    ],
    ids=["reject", "cancel"],
)
def test_it_refuses_a_rejection_or_cancellation_without_a_reason(order, manager, act):
    before = snapshot(order)

    with pytest.raises(OrderError, match="Say why"):
        act(order, Actor.store_staff(manager))

    assert snapshot(order) == before


def test_a_rejection_keeps_its_reason(order, manager):
    order_reject(order=order, actor=Actor.store_staff(manager), reason="  Sold out in store ")

    order.refresh_from_db()
    assert order.status_reason == "Sold out in store"
    assert order.events.last().note == "Sold out in store"


def test_it_refuses_a_delivery_failure_without_a_reason(order, advance, driver):
    order = advance(order, S.PICKED_UP)
    before = snapshot(order)

    with pytest.raises(OrderError, match="Say why"):
        order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason=" ")

    assert snapshot(order) == before


def test_it_refuses_a_pick_up_before_a_driver_holds_the_order(order, advance, manager, system):
    order = advance(order, S.READY)
    route_plan(mall=order.store.mall, orders=[order], actor=system)
    before = snapshot(order)

    with pytest.raises(OrderError, match="No driver holds this order"):
        order_pick_up(order=order, actor=Actor.store_staff(manager), handover_code="123456")

    assert snapshot(order) == before


def test_it_refuses_a_pick_up_of_an_order_on_no_route(order, advance, ops_user):
    order = advance(order, S.READY)
    before = snapshot(order)

    with pytest.raises(OrderError, match="No driver holds this order"):
        order_pick_up(order=order, actor=Actor.ops(ops_user))

    assert snapshot(order) == before


@pytest.mark.parametrize("code", [None, "", "000000x"])
def test_it_refuses_store_staff_a_pick_up_without_the_drivers_code(
    order, advance, hand_to_driver, manager, code
):
    order = advance(order, S.READY)
    hand_to_driver(order)
    before = snapshot(order)

    with pytest.raises(OrderError, match="code doesn't match"):
        order_pick_up(order=order, actor=Actor.store_staff(manager), handover_code=code)

    assert snapshot(order) == before


def test_a_pick_up_records_the_time(order, advance):
    order = advance(order, S.PICKED_UP)

    assert order.picked_up_at is not None


def test_it_refuses_a_driver_delivering_without_a_pin_or_photo(order, advance, driver):
    order = advance(order, S.PICKED_UP)
    before = snapshot(order)

    with pytest.raises(OrderError, match="PIN or take a photo"):
        order_deliver(order=order, actor=Actor.driver(driver.user))

    assert snapshot(order) == before


def test_it_refuses_a_wrong_pin(order, advance, driver):
    order = advance(order, S.PICKED_UP)
    wrong = f"{(int(order.delivery_pin) + 1) % 10_000:04d}"
    before = snapshot(order)

    with pytest.raises(OrderError, match="PIN is not right"):
        order_deliver(order=order, actor=Actor.driver(driver.user), pin=wrong)

    assert snapshot(order) == before
    assert not hasattr(Order.objects.get(pk=order.pk), "proof")


def test_a_delivery_with_the_pin_leaves_a_proof_from_the_driver(order, advance, driver):
    order = advance(order, S.PICKED_UP)

    order_deliver(
        order=order,
        actor=Actor.driver(driver.user),
        pin=order.delivery_pin,
        latitude=36.14,
        longitude=-115.15,
        recipient_name="Alice",
    )

    order.refresh_from_db()
    assert order.delivered_at is not None
    assert order.proof.driver == driver
    assert order.proof.pin_verified
    assert (order.proof.latitude, order.proof.recipient_name) == (36.14, "Alice")
