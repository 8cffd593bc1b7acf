"""The services behind the driver's phone pages: applying, location, giving blocks back,
missed offers, and closing drop-offs (proof, tips, failed deliveries and returns)."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from drivers.models import BlockBooking, Driver, Offer, PayLine, ProofOfDelivery, RouteStop
from drivers.services import (
    DriverError,
    block_book,
    block_forfeit,
    driver_apply,
    driver_go_online,
    driver_locate,
    offer_decline,
    offer_expire,
    route_offer,
    route_plan,
    stop_finish,
    stop_keep_fail_photo,
    stop_record_wrong_pin,
    stop_return_received,
)
from orders.models import Order
from orders.permissions import Actor
from orders.services import OrderError, order_deliver, order_fail_delivery, order_return
from retailers import clock
from tests import factories as f

OS = Order.Status


def jpeg(name="photo.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 60, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def refreshed(row):
    row.refresh_from_db()
    return row


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def on_route(place_order, advance, stock):
    """An order collected by `driver`: (order, route, drop-off stop)."""

    def _make(**kwargs):
        order = advance(place_order(stock, **kwargs), OS.PICKED_UP)
        dropoff = RouteStop.objects.select_related("route").get(order=order, kind="dropoff")
        return order, dropoff.route, dropoff

    return _make


@pytest.fixture
def offer_to(mall, place_order, advance, stock, system):
    """A fresh one-order route offered to a driver."""

    def _offer(driver):
        order = advance(place_order(stock), OS.READY)
        route = route_plan(mall=mall, orders=[order], actor=system)
        return route_offer(route=route, driver=driver, actor=system)

    return _offer


# --- Applying -------------------------------------------------------------------------------


def test_an_application_waits_for_review_with_the_time_of_consent(mall):
    user = f.UserFactory()
    now = clock.now()

    with clock.frozen_at(now):
        applicant = driver_apply(
            user=user,
            phone="+17025550111",
            vehicle_type=Driver.Vehicle.SUV,
            capacity_bags=20,
            plate="nv 123abc",
            home_mall=mall,
            licence_photo=jpeg("licence.jpg"),
            consent=True,
        )

    applicant = refreshed(applicant)
    assert applicant.status == Driver.Status.PENDING
    assert applicant.consented_at == now
    assert (applicant.vehicle_type, applicant.capacity_bags, applicant.home_mall) == (
        "suv",
        20,
        mall,
    )
    assert applicant.plate == "NV 123ABC"
    assert applicant.licence_photo.name.startswith("licences/")
    assert applicant.is_online is False


def test_it_refuses_an_application_without_consent(mall):
    user = f.UserFactory()

    with pytest.raises(DriverError, match="must agree"):
        driver_apply(
            user=user,
            phone="+17025550111",
            vehicle_type="car",
            capacity_bags=10,
            plate="ABC",
            home_mall=mall,
            consent=False,
        )

    assert not Driver.objects.filter(user=user).exists()


def test_it_refuses_a_second_application(driver, mall):
    with pytest.raises(DriverError, match="already applied"):
        driver_apply(
            user=driver.user,
            phone="+17025550111",
            vehicle_type="car",
            capacity_bags=10,
            plate="ABC",
            home_mall=mall,
            consent=True,
        )

    assert refreshed(driver).status == Driver.Status.APPROVED


# --- Location -------------------------------------------------------------------------------


def test_the_phone_position_is_kept_with_its_time(driver):
    now = clock.now()

    with clock.frozen_at(now):
        driver_locate(driver=driver, latitude=36.14, longitude=-115.16)

    driver = refreshed(driver)
    assert (driver.last_latitude, driver.last_longitude, driver.last_located_at) == (
        36.14,
        -115.16,
        now,
    )


@pytest.mark.parametrize(("latitude", "longitude"), [(91, 0), (-90.5, 0), (0, 180.1), (0, -181)])
def test_it_refuses_a_position_off_the_globe(driver, latitude, longitude):
    with pytest.raises(DriverError):
        driver_locate(driver=driver, latitude=latitude, longitude=longitude)

    assert refreshed(driver).last_latitude is None


# --- Giving a block back --------------------------------------------------------------------


@pytest.fixture
def booked(mall, driver):
    """`driver`'s booking of a block starting in 5 hours."""
    block = f.BlockFactory(mall=mall, starts_at=clock.now() + dt.timedelta(hours=5), slots=1)
    return block_book(block=block, driver=driver)


def cutoff_of(booking):
    return booking.block.starts_at - dt.timedelta(
        minutes=settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES
    )


def test_a_block_can_be_given_back_until_just_before_the_cut_off(booked, driver):
    moment = cutoff_of(booked) - dt.timedelta(seconds=1)

    with clock.frozen_at(moment):
        block_forfeit(booking=booked, driver=driver)

    booked = refreshed(booked)
    assert booked.status == BlockBooking.Status.FORFEITED
    assert booked.forfeited_at == moment


@pytest.mark.parametrize("after", [dt.timedelta(0), dt.timedelta(minutes=1)])
def test_it_refuses_giving_a_block_back_from_the_cut_off(booked, driver, after):
    with (
        clock.frozen_at(cutoff_of(booked) + after),
        pytest.raises(DriverError, match="can be given back until"),
    ):
        block_forfeit(booking=booked, driver=driver)

    assert refreshed(booked).status == BlockBooking.Status.BOOKED


def test_it_refuses_giving_back_someone_elses_booking(booked, other_driver):
    with pytest.raises(DriverError, match="not yours"):
        block_forfeit(booking=booked, driver=other_driver)

    assert refreshed(booked).status == BlockBooking.Status.BOOKED


def test_it_refuses_giving_a_block_back_twice(booked, driver):
    block_forfeit(booking=booked, driver=driver)

    with pytest.raises(DriverError, match="already given back"):
        block_forfeit(booking=booked, driver=driver)


def test_a_block_given_back_can_be_booked_by_another_driver(booked, driver, other_driver):
    block_forfeit(booking=booked, driver=driver)

    booking = block_book(block=booked.block, driver=other_driver)

    assert booking.status == BlockBooking.Status.BOOKED


# --- Missed offers --------------------------------------------------------------------------


def expire(offer):
    with clock.frozen_at(offer.expires_at):
        assert offer_expire(offer=offer) is True


def test_three_missed_offers_in_a_row_set_the_driver_offline(offer_to, driver):
    for _ in range(settings.MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE):
        expire(offer_to(driver))

    driver = refreshed(driver)
    assert driver.is_online is False
    assert driver.online_mall is None
    assert "missed 3 offers in a row" in driver.offline_reason


def test_fewer_missed_offers_keep_the_driver_online(offer_to, driver):
    for _ in range(settings.MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE - 1):
        expire(offer_to(driver))

    driver = refreshed(driver)
    assert driver.is_online is True
    assert driver.offline_reason == ""


def test_an_answered_offer_breaks_the_run_of_missed_offers(offer_to, driver):
    expire(offer_to(driver))
    offer_decline(offer=offer_to(driver), actor=Actor.driver(driver.user), reason="Too far")
    expire(offer_to(driver))
    expire(offer_to(driver))

    assert refreshed(driver).is_online is True


def test_withdrawn_offers_do_not_break_the_run(offer_to, driver, system):
    expire(offer_to(driver))
    withdrawn = offer_to(driver)
    Offer.objects.filter(pk=withdrawn.pk).update(status=Offer.Status.WITHDRAWN)
    expire(offer_to(driver))
    expire(offer_to(driver))

    assert refreshed(driver).is_online is False


def test_another_drivers_missed_offers_do_not_count(offer_to, driver, other_driver):
    expire(offer_to(other_driver))
    expire(offer_to(other_driver))
    expire(offer_to(driver))

    assert refreshed(driver).is_online is True
    assert refreshed(other_driver).is_online is True


def test_going_online_again_clears_the_reason(offer_to, driver, mall):
    for _ in range(settings.MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE):
        expire(offer_to(driver))

    driver_go_online(driver=driver, mall=mall)

    driver = refreshed(driver)
    assert driver.is_online is True
    assert driver.offline_reason == ""


# --- Proof of delivery and tips -------------------------------------------------------------


def test_a_delivery_with_pin_and_photo_keeps_the_proof(on_route, driver):
    order, route, dropoff = on_route()

    order_deliver(
        order=order,
        actor=Actor.driver(driver.user),
        pin=order.delivery_pin,
        photo=jpeg("door.jpg"),
        latitude=36.14,
        longitude=-115.15,
    )

    proof = ProofOfDelivery.objects.get(order=order)
    assert proof.driver == driver
    assert proof.pin_verified is True
    assert proof.photo.name.startswith("proofs/")
    assert proof.photo.storage.exists(proof.photo.name)
    assert (proof.latitude, proof.longitude) == (36.14, -115.15)
    assert refreshed(order).status == OS.DELIVERED
    assert refreshed(dropoff).status == RouteStop.Status.DONE


def test_it_refuses_a_wrong_pin_and_changes_nothing(on_route, driver):
    order, route, dropoff = on_route()
    wrong = "0000" if order.delivery_pin != "0000" else "1111"

    with pytest.raises(OrderError, match="PIN is not right"):
        order_deliver(order=order, actor=Actor.driver(driver.user), pin=wrong, photo=jpeg())

    assert refreshed(order).status == OS.PICKED_UP
    assert not ProofOfDelivery.objects.filter(order=order).exists()
    assert refreshed(dropoff).status == RouteStop.Status.PENDING


def test_it_refuses_a_driver_delivering_without_any_proof(on_route, driver):
    order, route, dropoff = on_route()

    with pytest.raises(OrderError, match="PIN or take a photo"):
        order_deliver(order=order, actor=Actor.driver(driver.user))

    assert refreshed(order).status == OS.PICKED_UP


def test_wrong_pins_are_counted_on_the_drop_off(on_route):
    order, route, dropoff = on_route()

    assert stop_record_wrong_pin(route=route, order=order) == 1
    assert stop_record_wrong_pin(route=route, order=order) == 2

    assert refreshed(dropoff).wrong_pin_attempts == 2


def test_the_driver_earns_the_tip_when_the_order_is_delivered(on_route, driver, stock):
    order, route, dropoff = on_route(tips_cents={stock.store_id: 500})

    order_deliver(order=order, actor=Actor.driver(driver.user), pin=order.delivery_pin)

    tip = PayLine.objects.get(route=route, kind=PayLine.Kind.TIP)
    assert (tip.driver, tip.order, tip.amount_cents, tip.description) == (
        driver,
        order,
        500,
        order.number,
    )


def test_no_tip_line_for_an_order_without_a_tip(on_route, driver):
    order, route, dropoff = on_route()

    order_deliver(order=order, actor=Actor.driver(driver.user), pin=order.delivery_pin)

    assert not PayLine.objects.filter(route=route, kind=PayLine.Kind.TIP).exists()


def test_no_tip_for_a_failed_delivery(on_route, driver, stock):
    order, route, dropoff = on_route(tips_cents={stock.store_id: 500})

    order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason="Refused")

    assert not PayLine.objects.filter(kind=PayLine.Kind.TIP).exists()


# --- Failed deliveries and returns ----------------------------------------------------------


def test_a_failed_delivery_adds_a_return_to_store_stop_at_the_end(on_route, driver, store):
    order, route, dropoff = on_route()
    last = route.stops.order_by("-sequence").first().sequence

    order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason="Refused by customer")

    dropoff = refreshed(dropoff)
    assert dropoff.status == RouteStop.Status.FAILED
    assert dropoff.fail_reason == "Refused by customer"
    assert dropoff.completed_at is not None
    back = RouteStop.objects.get(route=route, kind=RouteStop.Kind.RETURN)
    assert (back.sequence, back.store, back.order, back.status) == (
        last + 1,
        store,
        order,
        RouteStop.Status.PENDING,
    )


def test_the_photo_of_a_failed_door_is_kept_on_the_stop(on_route):
    order, route, dropoff = on_route()

    stop_keep_fail_photo(stop=dropoff, photo=jpeg("door.jpg"))

    dropoff = refreshed(dropoff)
    assert dropoff.fail_photo.name.startswith("failed/")
    assert dropoff.fail_photo.storage.exists(dropoff.fail_photo.name)


def test_the_store_receiving_the_return_closes_the_stop_and_restocks(
    on_route, driver, manager, stock
):
    order, route, dropoff = on_route()
    on_hand = refreshed(stock).on_hand
    order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason="Nobody home")

    order_return(order=order, actor=Actor.store_staff(manager))

    back = RouteStop.objects.get(route=route, kind=RouteStop.Kind.RETURN)
    assert back.status == RouteStop.Status.DONE
    assert back.completed_at is not None
    assert refreshed(route).status == "completed"
    assert refreshed(stock).on_hand == on_hand + 1


def test_receiving_a_return_without_a_route_is_a_no_op(on_route):
    order, route, dropoff = on_route()

    stop_return_received(route=None, order=order)

    assert refreshed(dropoff).status == RouteStop.Status.PENDING


def test_a_delivered_stop_is_done_without_a_return(on_route):
    order, route, dropoff = on_route()

    stop_finish(route=route, order=order, failed=False)

    assert refreshed(dropoff).status == RouteStop.Status.DONE
    assert not route.stops.filter(kind=RouteStop.Kind.RETURN).exists()
