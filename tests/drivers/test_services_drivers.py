"""Drivers: review by ops, going online and offline, and booking blocks."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from drivers.models import BlockBooking, Driver, Offer, Route
from drivers.services import (
    DriverError,
    block_book,
    driver_go_offline,
    driver_go_online,
    driver_review,
    offer_accept,
    route_offer,
    route_plan,
)
from orders.models import Order
from orders.permissions import Actor
from orders.services import order_pick_up
from retailers import clock
from tests import factories as f

DS = Driver.Status


@pytest.fixture
def ops(ops_user):
    return Actor.ops(ops_user)


@pytest.fixture
def offered_route(mall, ops, place_order, advance, stock, driver):
    """A route offered to `driver` only; returns (route, offer)."""
    order = advance(place_order(stock), Order.Status.READY)
    route = route_plan(mall=mall, orders=[order], actor=ops)
    return route, route_offer(route=route, driver=driver, actor=ops)


def refreshed(row):
    row.refresh_from_db()
    return row


# --- Going online and offline ---------------------------------------------------------------


def test_an_approved_driver_goes_online_at_a_mall(mall):
    driver = f.DriverFactory()
    now = clock.now()

    with clock.frozen_at(now):
        driver_go_online(driver=driver, mall=mall, latitude=36.13, longitude=-115.17)

    driver = refreshed(driver)
    assert (driver.is_online, driver.online_mall) == (True, mall)
    assert driver.idle_since == now
    assert (driver.last_latitude, driver.last_longitude, driver.last_located_at) == (
        36.13,
        -115.17,
        now,
    )


def test_going_online_again_keeps_the_time_the_driver_became_idle(mall):
    driver = f.DriverFactory()
    start = clock.now()
    with clock.frozen_at(start):
        driver_go_online(driver=driver, mall=mall)

    with clock.frozen_at(start + dt.timedelta(minutes=30)):
        driver_go_online(driver=driver, mall=mall)

    assert refreshed(driver).idle_since == start


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (DS.PENDING, "Your application is still being reviewed."),
        (DS.REJECTED, "Your application was not approved."),
        (DS.SUSPENDED, "Your account is suspended. Contact support."),
    ],
)
def test_it_refuses_to_put_a_driver_who_is_not_approved_online(mall, status, message):
    driver = f.DriverFactory(status=status)

    with pytest.raises(DriverError) as refused:
        driver_go_online(driver=driver, mall=mall)

    assert str(refused.value) == message
    driver = refreshed(driver)
    assert (driver.is_online, driver.online_mall) == (False, None)


def test_the_database_refuses_an_online_driver_who_is_not_approved(mall):
    driver = f.DriverFactory(status=DS.PENDING)

    with pytest.raises(IntegrityError), transaction.atomic():
        Driver.objects.filter(pk=driver.pk).update(is_online=True, online_mall=mall)


def test_going_offline_withdraws_the_drivers_open_offers(offered_route, driver):
    route, offer = offered_route

    driver_go_offline(driver=driver)

    driver = refreshed(driver)
    assert (driver.is_online, driver.online_mall) == (False, None)
    offer = refreshed(offer)
    assert offer.status == Offer.Status.WITHDRAWN
    assert offer.responded_at is not None


# --- Review by ops ----------------------------------------------------------------------------


def test_ops_approve_an_applicant(ops, mall):
    applicant = f.DriverFactory(status=DS.PENDING)

    driver_review(driver=applicant, actor=ops, status=DS.APPROVED)

    assert refreshed(applicant).status == DS.APPROVED
    driver_go_online(driver=applicant, mall=mall)
    assert refreshed(applicant).is_online


def test_suspending_a_driver_takes_them_offline_and_withdraws_their_offers(
    offered_route, driver, ops
):
    route, offer = offered_route

    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Late three times")

    driver = refreshed(driver)
    assert (driver.status, driver.status_reason) == (DS.SUSPENDED, "Late three times")
    assert (driver.is_online, driver.online_mall) == (False, None)
    assert refreshed(offer).status == Offer.Status.WITHDRAWN


def test_a_suspended_driver_cannot_go_back_online(driver, ops, mall):
    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Complaints")

    with pytest.raises(DriverError, match="suspended"):
        driver_go_online(driver=driver, mall=mall)


def test_suspension_leaves_other_drivers_offers_alone(offered_route, other_driver, driver, ops):
    route, offer = offered_route
    theirs = route_offer(route=route, driver=other_driver, actor=ops)

    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Complaints")

    assert refreshed(theirs).status == Offer.Status.PENDING
    assert refreshed(route).status == Route.Status.OFFERED


def test_suspending_the_only_offered_driver_sends_the_route_back_to_planning(
    offered_route, driver, ops
):
    route, offer = offered_route

    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Complaints")

    assert refreshed(route).status == Route.Status.PLANNED


def test_the_only_offered_driver_going_offline_sends_the_route_back_to_planning(
    offered_route, driver
):
    route, offer = offered_route

    driver_go_offline(driver=driver)

    assert refreshed(route).status == Route.Status.PLANNED


def test_suspending_a_driver_hands_back_a_route_with_nothing_collected(offered_route, driver, ops):
    route, offer = offered_route
    offer_accept(offer=offer, actor=Actor.driver(driver.user))

    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Complaints")

    route = refreshed(route)
    assert (route.status, route.driver) == (Route.Status.PLANNED, None)


def test_suspending_a_driver_leaves_a_route_with_goods_on_board_with_them(
    offered_route, driver, ops, system
):
    route, offer = offered_route
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    order_pick_up(order=route.stops.get(kind="dropoff").order, actor=system)

    driver_review(driver=driver, actor=ops, status=DS.SUSPENDED, reason="Complaints")

    route = refreshed(route)
    assert (route.status, route.driver) == (Route.Status.DELIVERING, driver)


@pytest.mark.parametrize("status", [DS.REJECTED, DS.SUSPENDED])
def test_it_refuses_to_reject_or_suspend_without_a_reason(driver, ops, status):
    with pytest.raises(DriverError, match="Say why"):
        driver_review(driver=driver, actor=ops, status=status, reason=" ")

    assert refreshed(driver).status == DS.APPROVED


def test_it_refuses_an_unknown_driver_status(driver, ops):
    with pytest.raises(DriverError, match="Unknown driver status"):
        driver_review(driver=driver, actor=ops, status="banned", reason="x")


@pytest.mark.parametrize("who", ["driver", "manager"])
def test_it_refuses_anyone_but_ops_reviewing_drivers(driver, manager, who):
    applicant = f.DriverFactory(status=DS.PENDING)
    actor = {"driver": Actor.driver(driver.user), "manager": Actor.store_staff(manager)}[who]

    with pytest.raises(PermissionDenied):
        driver_review(driver=applicant, actor=actor, status=DS.APPROVED)

    assert refreshed(applicant).status == DS.PENDING


# --- Blocks -----------------------------------------------------------------------------------


@pytest.fixture
def block(mall):
    return f.BlockFactory(mall=mall, slots=2)


def test_an_approved_driver_books_a_block(block, driver):
    now = clock.now()
    with clock.frozen_at(now):
        booking = block_book(block=block, driver=driver)

    assert (booking.block, booking.driver, booking.status) == (block, driver, "booked")
    assert booking.booked_at == now


def test_it_refuses_a_full_block(block, driver):
    for _ in range(block.slots):
        block_book(block=block, driver=f.DriverFactory())

    with pytest.raises(DriverError, match="This block is full."):
        block_book(block=block, driver=driver)

    assert block.bookings.count() == block.slots


def test_a_forfeited_booking_frees_its_slot(block, driver):
    first = block_book(block=block, driver=f.DriverFactory())
    block_book(block=block, driver=f.DriverFactory())
    BlockBooking.objects.filter(pk=first.pk).update(status=BlockBooking.Status.FORFEITED)

    assert block_book(block=block, driver=driver).status == "booked"


def test_it_refuses_booking_the_same_block_twice(block, driver):
    block_book(block=block, driver=driver)

    with pytest.raises(DriverError, match="already booked this block"):
        block_book(block=block, driver=driver)

    assert block.bookings.count() == 1


def test_it_refuses_an_overlapping_booking(block, driver, mall):
    block_book(block=block, driver=driver)
    overlapping = f.BlockFactory(
        mall=f.MallFactory(),
        starts_at=block.starts_at + dt.timedelta(hours=1),
        ends_at=block.ends_at + dt.timedelta(hours=1),
    )

    with pytest.raises(DriverError, match="already have a block at that time"):
        block_book(block=overlapping, driver=driver)

    assert overlapping.bookings.count() == 0


def test_back_to_back_blocks_do_not_overlap(block, driver, mall):
    block_book(block=block, driver=driver)
    next_block = f.BlockFactory(
        mall=mall, starts_at=block.ends_at, ends_at=block.ends_at + dt.timedelta(hours=2)
    )

    assert block_book(block=next_block, driver=driver).block == next_block


@pytest.mark.parametrize("status", [DS.PENDING, DS.REJECTED, DS.SUSPENDED])
def test_it_refuses_a_driver_who_is_not_approved_booking_a_block(block, status):
    driver = f.DriverFactory(status=status)

    with pytest.raises(DriverError, match="Only approved drivers"):
        block_book(block=block, driver=driver)

    assert block.bookings.count() == 0


@pytest.mark.parametrize("minutes_after_start", [0, 30])
def test_it_refuses_a_block_that_has_started(block, driver, minutes_after_start):
    with (
        clock.frozen_at(block.starts_at + dt.timedelta(minutes=minutes_after_start)),
        pytest.raises(DriverError, match="already started"),
    ):
        block_book(block=block, driver=driver)

    assert block.bookings.count() == 0
