"""Offers: who can be offered a route, and how accepting, declining and expiry end an offer.

Two drivers accepting at the very same time is the lead's concurrency test; here the second
driver answers after the first.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied

from drivers.models import Block, BlockBooking, Driver, Offer, Route
from drivers.services import (
    RouteError,
    driver_go_online,
    offer_accept,
    offer_decline,
    offer_expire,
    route_offer,
    route_plan,
)
from orders.models import Order
from orders.permissions import Actor
from retailers import clock
from tests import factories as f

RS = Route.Status
OFS = Offer.Status


@pytest.fixture
def ops(ops_user):
    return Actor.ops(ops_user)


@pytest.fixture
def make_route(mall, ops, place_order, advance):
    """A planned route through `count` new ready orders of `stock_row`."""

    def _make(stock_row, count=1):
        orders = [advance(place_order(stock_row), Order.Status.READY) for _ in range(count)]
        return route_plan(mall=mall, orders=orders, actor=ops)

    return _make


@pytest.fixture
def route(make_route, stock):
    return make_route(stock)


def status_of(row):
    row.refresh_from_db()
    return row.status


# --- Offering -------------------------------------------------------------------------------


def test_offering_a_route_shows_the_driver_its_pay_and_a_deadline(route, driver, ops):
    now = clock.now()
    with clock.frozen_at(now):
        offer = route_offer(route=route, driver=driver, actor=ops)

    assert offer.status == OFS.PENDING
    assert offer.pay_cents == route.pay_cents > 0
    assert offer.expires_at == now + dt.timedelta(seconds=settings.MALLRUN_OFFER_SECONDS)
    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.OFFERED, None)
    event = route.events.last()
    assert (event.from_status, event.to_status) == ("planned", "offered")


def test_an_offer_can_be_given_a_shorter_deadline(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops, expires_in_seconds=10)

    assert (offer.expires_at - offer.created_at).total_seconds() == 10


def test_a_route_can_be_offered_to_several_drivers_at_once(route, driver, other_driver, ops):
    route_offer(route=route, driver=driver, actor=ops)
    route_offer(route=route, driver=other_driver, actor=ops)

    assert status_of(route) == RS.OFFERED
    assert route.offers.filter(status=OFS.PENDING).count() == 2
    assert route.events.filter(to_status=RS.OFFERED).count() == 1


def test_it_refuses_a_second_open_offer_to_the_same_driver(route, driver, ops):
    route_offer(route=route, driver=driver, actor=ops)

    with pytest.raises(RouteError, match="already has an open offer"):
        route_offer(route=route, driver=driver, actor=ops)

    assert route.offers.count() == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Driver.Status.PENDING, "Driver is application pending."),
        (Driver.Status.SUSPENDED, "Driver is suspended."),
        (Driver.Status.REJECTED, "Driver is rejected."),
    ],
)
def test_it_refuses_a_driver_who_is_not_approved(route, ops, status, message):
    applicant = f.DriverFactory(status=status)

    with pytest.raises(RouteError, match=message):
        route_offer(route=route, driver=applicant, actor=ops)

    assert route.offers.count() == 0
    assert status_of(route) == RS.PLANNED


def test_it_refuses_a_driver_who_is_offline(route, ops):
    offline = f.DriverFactory()

    with pytest.raises(RouteError, match="not online or on a block at this mall"):
        route_offer(route=route, driver=offline, actor=ops)

    assert status_of(route) == RS.PLANNED


def test_it_refuses_a_driver_online_at_another_mall(route, ops):
    elsewhere = driver_go_online(driver=f.DriverFactory(), mall=f.MallFactory())

    with pytest.raises(RouteError, match="not online or on a block at this mall"):
        route_offer(route=route, driver=elsewhere, actor=ops)


def test_a_driver_on_a_block_at_the_mall_can_be_offered_a_route(route, mall, ops):
    on_block = f.DriverFactory()
    now = clock.now()
    block = Block.objects.create(
        mall=mall, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=2)
    )
    BlockBooking.objects.create(block=block, driver=on_block, booked_at=now)

    offer = route_offer(route=route, driver=on_block, actor=ops)

    assert offer.driver == on_block


def test_it_refuses_a_driver_on_a_block_that_has_not_started(route, mall, ops):
    booked = f.DriverFactory()
    block = f.BlockFactory(mall=mall)
    BlockBooking.objects.create(block=block, driver=booked, booked_at=clock.now())

    with pytest.raises(RouteError, match="not online or on a block"):
        route_offer(route=route, driver=booked, actor=ops)


def test_it_refuses_a_driver_already_on_a_route(make_route, stock, driver, ops):
    first, second = make_route(stock), make_route(stock)
    offer_accept(
        offer=route_offer(route=first, driver=driver, actor=ops), actor=Actor.driver(driver.user)
    )

    with pytest.raises(RouteError, match="already on a route"):
        route_offer(route=second, driver=driver, actor=ops)

    assert status_of(second) == RS.PLANNED


def test_it_refuses_a_vehicle_too_small_for_the_bags(make_route, stock, mall, ops):
    scooter = driver_go_online(
        driver=f.DriverFactory(vehicle_type=Driver.Vehicle.SCOOTER, capacity_bags=2), mall=mall
    )
    route = make_route(stock, count=3)

    with pytest.raises(RouteError, match="needs 3 bags; the vehicle takes 2"):
        route_offer(route=route, driver=scooter, actor=ops)

    assert status_of(route) == RS.PLANNED


def test_a_vehicle_that_just_fits_the_bags_can_be_offered_the_route(make_route, stock, mall, ops):
    scooter = driver_go_online(driver=f.DriverFactory(capacity_bags=2), mall=mall)
    route = make_route(stock, count=2)

    assert route_offer(route=route, driver=scooter, actor=ops).driver == scooter


@pytest.mark.parametrize("who", ["driver", "manager", "shopper", "api"])
def test_it_refuses_anyone_but_ops_offering_a_route(route, driver, manager, shopper, store, who):
    actor = {
        "driver": Actor.driver(driver.user),
        "manager": Actor.store_staff(manager),
        "shopper": Actor.shopper(shopper.user),
        "api": Actor.api("key", retailer_id=store.retailer_id),
    }[who]

    with pytest.raises(PermissionDenied):
        route_offer(route=route, driver=driver, actor=actor)

    assert route.offers.count() == 0
    assert status_of(route) == RS.PLANNED


def test_the_system_may_offer_a_route(route, driver, system):
    assert route_offer(route=route, driver=driver, actor=system).status == OFS.PENDING


def test_it_refuses_to_offer_a_route_a_driver_already_took(route, driver, other_driver, ops):
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=ops), actor=Actor.driver(driver.user)
    )

    with pytest.raises(RouteError, match="is accepted; it can't be offered"):
        route_offer(route=route, driver=other_driver, actor=ops)


# --- Accepting ------------------------------------------------------------------------------


def test_the_offered_driver_takes_the_route(route, driver, other_driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)
    others = route_offer(route=route, driver=other_driver, actor=ops)

    taken = offer_accept(offer=offer, actor=Actor.driver(driver.user))

    assert taken == route
    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.ACCEPTED, driver)
    assert route.accepted_at is not None
    assert status_of(offer) == OFS.ACCEPTED
    assert offer.responded_at == route.accepted_at
    assert status_of(others) == OFS.WITHDRAWN
    assert set(route.pay_lines.values_list("driver", flat=True)) == {driver.pk}
    driver.refresh_from_db()
    assert driver.idle_since is None


def test_a_second_driver_accepting_after_is_told_another_driver_took_it(
    route, driver, other_driver, ops
):
    first = route_offer(route=route, driver=driver, actor=ops)
    second = route_offer(route=route, driver=other_driver, actor=ops)
    offer_accept(offer=first, actor=Actor.driver(driver.user))

    with pytest.raises(RouteError, match="Another driver took this route first."):
        offer_accept(offer=second, actor=Actor.driver(other_driver.user))

    assert status_of(second) == OFS.WITHDRAWN
    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.ACCEPTED, driver)
    assert route.offers.filter(status=OFS.ACCEPTED).get() == first


def test_it_refuses_a_driver_accepting_someone_elses_offer(route, driver, other_driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with pytest.raises(PermissionDenied, match="another driver"):
        offer_accept(offer=offer, actor=Actor.driver(other_driver.user))

    assert status_of(offer) == OFS.PENDING
    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.OFFERED, None)


@pytest.mark.parametrize("who", ["ops", "manager"])
def test_it_refuses_anyone_but_the_driver_accepting_for_them(
    route, driver, ops_user, manager, ops, who
):
    offer = route_offer(route=route, driver=driver, actor=ops)
    actor = {"ops": Actor.ops(ops_user), "manager": Actor.store_staff(manager)}[who]

    with pytest.raises(PermissionDenied):
        offer_accept(offer=offer, actor=actor)

    assert status_of(offer) == OFS.PENDING


def test_an_expired_offer_cannot_be_accepted_and_is_closed(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with clock.frozen_at(offer.expires_at), pytest.raises(RouteError, match="expired"):
        offer_accept(offer=offer, actor=Actor.driver(driver.user))

    offer.refresh_from_db()
    assert offer.status == OFS.EXPIRED
    assert offer.responded_at == offer.expires_at
    route.refresh_from_db()
    assert (route.status, route.driver) == (RS.PLANNED, None)


def test_an_offer_can_be_accepted_until_its_last_moment(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with clock.frozen_at(offer.expires_at - dt.timedelta(microseconds=1)):
        offer_accept(offer=offer, actor=Actor.driver(driver.user))

    assert status_of(route) == RS.ACCEPTED


def test_an_expired_offer_leaves_other_open_offers_standing(route, driver, other_driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops, expires_in_seconds=10)
    later = route_offer(route=route, driver=other_driver, actor=ops, expires_in_seconds=60)

    with clock.frozen_at(offer.expires_at), pytest.raises(RouteError, match="expired"):
        offer_accept(offer=offer, actor=Actor.driver(driver.user))

    assert status_of(route) == RS.OFFERED
    with clock.frozen_at(offer.expires_at):
        offer_accept(offer=later, actor=Actor.driver(other_driver.user))
    assert status_of(route) == RS.ACCEPTED


@pytest.mark.parametrize("closed", [OFS.DECLINED, OFS.EXPIRED, OFS.ACCEPTED])
def test_it_refuses_to_accept_an_offer_that_is_no_longer_open(route, driver, ops, closed):
    offer = route_offer(route=route, driver=driver, actor=ops)
    Offer.objects.filter(pk=offer.pk).update(status=closed)

    with pytest.raises(RouteError, match="no longer open"):
        offer_accept(offer=offer, actor=Actor.driver(driver.user))


def test_it_refuses_a_driver_taking_a_second_route(make_route, stock, driver, ops):
    first, second = make_route(stock), make_route(stock)
    offer_one = route_offer(route=first, driver=driver, actor=ops)
    offer_two = route_offer(route=second, driver=driver, actor=ops)
    offer_accept(offer=offer_one, actor=Actor.driver(driver.user))

    with pytest.raises(RouteError, match="Finish your current route"):
        offer_accept(offer=offer_two, actor=Actor.driver(driver.user))

    assert status_of(offer_two) == OFS.PENDING
    second.refresh_from_db()
    assert (second.status, second.driver) == (RS.OFFERED, None)


def test_it_refuses_a_driver_suspended_since_the_offer(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)
    Driver.objects.filter(pk=driver.pk).update(
        status=Driver.Status.SUSPENDED, is_online=False, online_mall=None
    )

    with pytest.raises(RouteError, match="can't take routes: suspended"):
        offer_accept(offer=offer, actor=Actor.driver(driver.user))

    assert status_of(route) == RS.OFFERED


# --- Declining and expiry ---------------------------------------------------------------------


def test_declining_the_only_open_offer_sends_the_route_back_to_planning(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    offer_decline(offer=offer, actor=Actor.driver(driver.user), reason="Too far")

    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (OFS.DECLINED, "Too far")
    assert offer.responded_at is not None
    assert status_of(route) == RS.PLANNED
    assert route.events.last().note == "Offer declined: Too far"


def test_declining_leaves_the_route_offered_while_another_offer_is_open(
    route, driver, other_driver, ops
):
    offer = route_offer(route=route, driver=driver, actor=ops)
    route_offer(route=route, driver=other_driver, actor=ops)

    offer_decline(offer=offer, actor=Actor.driver(driver.user))

    assert status_of(route) == RS.OFFERED


def test_a_declined_route_can_be_offered_again(route, driver, ops):
    offer_decline(
        offer=route_offer(route=route, driver=driver, actor=ops), actor=Actor.driver(driver.user)
    )

    again = route_offer(route=route, driver=driver, actor=ops)

    assert again.status == OFS.PENDING
    assert status_of(route) == RS.OFFERED


def test_it_refuses_a_driver_declining_someone_elses_offer(route, driver, other_driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with pytest.raises(PermissionDenied):
        offer_decline(offer=offer, actor=Actor.driver(other_driver.user))

    assert status_of(offer) == OFS.PENDING
    assert status_of(route) == RS.OFFERED


def test_it_refuses_to_decline_an_offer_that_is_no_longer_open(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)
    offer_accept(offer=offer, actor=Actor.driver(driver.user))

    with pytest.raises(RouteError, match="no longer open"):
        offer_decline(offer=offer, actor=Actor.driver(driver.user))

    assert status_of(offer) == OFS.ACCEPTED
    assert status_of(route) == RS.ACCEPTED


def test_an_offer_does_not_expire_before_its_time(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with clock.frozen_at(offer.expires_at - dt.timedelta(seconds=1)):
        assert offer_expire(offer=offer) is False

    assert status_of(offer) == OFS.PENDING
    assert status_of(route) == RS.OFFERED


def test_an_offer_expires_when_due_and_the_route_goes_back_to_planning(route, driver, ops):
    offer = route_offer(route=route, driver=driver, actor=ops)

    with clock.frozen_at(offer.expires_at):
        assert offer_expire(offer=offer) is True

    assert status_of(offer) == OFS.EXPIRED
    assert status_of(route) == RS.PLANNED
    event = route.events.last()
    assert (event.actor_kind, event.actor_label) == ("system", "offer-expiry")


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_answered_offer_does_not_expire(route, driver, ops, answer):
    offer = route_offer(route=route, driver=driver, actor=ops)
    as_driver = Actor.driver(driver.user)
    if answer == "accept":
        offer_accept(offer=offer, actor=as_driver)
    else:
        offer_decline(offer=offer, actor=as_driver)
    offer.refresh_from_db()
    answered = offer.status

    with clock.frozen_at(offer.expires_at + dt.timedelta(minutes=5)):
        assert offer_expire(offer=offer) is False

    assert status_of(offer) == answered
