"""The driver's phone pages at /driver/: every action, and every refusal a driver can meet.

Each driver sees only their own offers, routes, stops and bookings: anything else is a 404.
"""

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from drivers.models import BlockBooking, Driver, Offer, PayLine, ProofOfDelivery, Route, RouteStop
from drivers.services import (
    block_book,
    driver_go_offline,
    driver_review,
    offer_accept,
    offer_expire,
    route_offer,
    route_plan,
)
from orders.models import Order
from orders.notifications import LocmemSmsBackend
from orders.permissions import Actor
from orders.services import order_pick_up, order_return
from retailers import clock
from tests import factories as f

OS = Order.Status
RS = Route.Status
PHONE = re.compile(r"555\D{0,3}0100")  # the shopper's +1 702 555 0100, however written


def jpeg(name="photo.jpg"):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 60, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def not_an_image(name="photo.jpg"):
    return SimpleUploadedFile(name, b"%PDF-1.4 not a photo", content_type="image/jpeg")


def text(response) -> str:
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def field_error(response, name: str, *, form_action: str | None = None) -> str:
    """The error shown in the field block holding the input `name` (in one form, if given)."""
    page = response.content.decode()
    if form_action is not None:
        match = re.search(rf'<form[^>]*action="{re.escape(form_action)}".*?</form>', page, re.S)
        assert match, f"no form posting to {form_action}"
        page = match.group(0)
    for block in re.findall(r'<div class="field[^"]*">(.*?)</div>', page, re.S):
        if f'name="{name}"' in block:
            errors = re.findall(r'<p class="error"[^>]*>(.*?)</p>', block, re.S)
            return html.unescape(" ".join(errors))
    raise AssertionError(f"no field {name!r} on the page")


def refreshed(row):
    row.refresh_from_db()
    return row


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def as_driver(client, driver):
    client.force_login(driver.user)
    return client


@pytest.fixture
def offer_to(mall, place_order, advance, stock, system):
    """A fresh one-order route at the mall offered to a driver (a ready order each time)."""

    def _offer(to, **kwargs):
        order = advance(place_order(stock, **kwargs), OS.READY)
        route = route_plan(mall=mall, orders=[order], actor=system)
        return route_offer(route=route, driver=to, actor=system, expires_in_seconds=120)

    return _offer


@pytest.fixture
def collected(offer_to, system):
    """`who` holds a route and has collected its order: the order's drop-off stop."""

    def _collected(who, **kwargs):
        offer = offer_to(who, **kwargs)
        offer_accept(offer=offer, actor=Actor.driver(who.user))
        stop = RouteStop.objects.select_related("order", "route").get(
            route=offer.route_id, kind="dropoff"
        )
        order_pick_up(order=stop.order, actor=system)
        return refreshed(stop)

    return _collected


@pytest.fixture
def my_stop(collected, driver, stock):
    """`driver` has collected an order with a $5 tip: its drop-off stop."""
    return collected(driver, tips_cents={stock.store_id: 500})


@pytest.fixture
def others_stop(collected, other_driver):
    return collected(other_driver)


# --- Who may open the pages -----------------------------------------------------------------

DRIVER_PAGES = [
    ("get", "driver:home", []),
    ("post", "driver:online", []),
    ("post", "driver:offline", []),
    ("post", "driver:location", []),
    ("get", "driver:offer", [1]),
    ("post", "driver:offer_answer", [1, "accept"]),
    ("post", "driver:offer_answer", [1, "decline"]),
    ("get", "driver:route", []),
    ("get", "driver:route_detail", [1]),
    ("post", "driver:route_arrive", [1]),
    ("get", "driver:stop", [1]),
    ("post", "driver:stop_deliver", [1]),
    ("post", "driver:stop_fail", [1]),
    ("post", "driver:stop_message", [1]),
    ("get", "driver:blocks", []),
    ("post", "driver:block_book", [1]),
    ("post", "driver:block_forfeit", [1]),
    ("get", "driver:earnings", []),
    ("get", "driver:statement", ["2026-11-23"]),
]


@pytest.mark.parametrize(("method", "name", "args"), DRIVER_PAGES)
def test_every_driver_page_sends_anonymous_people_to_log_in(client, db, method, name, args):
    url = reverse(name, args=args)

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize(("method", "name", "args"), DRIVER_PAGES)
def test_every_driver_page_is_a_404_for_someone_with_no_driver_profile(
    client, shopper, method, name, args
):
    client.force_login(shopper.user)

    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == 404


def test_the_application_form_is_open_to_anyone(client, db):
    response = client.get(reverse("driver:apply"))

    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


# --- Applying -------------------------------------------------------------------------------


@pytest.fixture
def application(mall):
    def _application(**changes):
        data = {
            "first_name": "Sam",
            "last_name": "Rivera",
            "email": "sam@example.com",
            "phone": "+1 702 555 0111",
            "password": "a-long-pass-phrase-42",
            "vehicle_type": "car",
            "capacity_bags": "10",
            "plate": "abc123",
            "home_mall": str(mall.pk),
            "licence_photo": jpeg("licence.jpg"),
            "consent": "on",
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    return _application


def test_an_applicant_gets_an_account_and_a_pending_application(client, application, mall):
    now = clock.now()

    with clock.frozen_at(now):
        response = client.post(reverse("driver:apply"), application())

    assert response.status_code == 302
    assert response.url == reverse("driver:home")
    user = get_user_model().objects.get(email="sam@example.com")
    assert (user.username, user.first_name, user.last_name) == ("sam@example.com", "Sam", "Rivera")
    assert user.check_password("a-long-pass-phrase-42")
    applicant = Driver.objects.get(user=user)
    assert applicant.status == Driver.Status.PENDING
    assert applicant.consented_at == now
    assert (applicant.phone, applicant.vehicle_type, applicant.capacity_bags) == (
        "+1 702 555 0111",
        "car",
        10,
    )
    assert (applicant.plate, applicant.home_mall) == ("ABC123", mall)
    assert applicant.licence_photo.storage.exists(applicant.licence_photo.name)
    home = client.get(response.url)  # signed in as the new account
    assert "We're reviewing your application" in text(home)
    assert 'action="/driver/online/"' not in home.content.decode()


def test_it_refuses_an_application_without_consent(client, application):
    response = client.post(reverse("driver:apply"), application(consent=None))

    assert response.status_code == 200
    assert field_error(response, "consent") == "You must agree to apply."
    assert not get_user_model().objects.filter(email="sam@example.com").exists()
    assert not Driver.objects.exists()


def test_it_refuses_a_licence_photo_that_is_not_an_image(client, application):
    response = client.post(
        reverse("driver:apply"), application(licence_photo=not_an_image("licence.jpg"))
    )

    assert response.status_code == 200
    assert "image" in field_error(response, "licence_photo")
    assert not Driver.objects.exists()


@pytest.mark.parametrize("vehicle", ["car", "suv", "van"])
def test_it_refuses_a_car_without_its_plate(client, application, vehicle):
    response = client.post(reverse("driver:apply"), application(vehicle_type=vehicle, plate=""))

    assert response.status_code == 200
    assert field_error(response, "plate") == "Cars, SUVs and vans need their plate."
    assert not Driver.objects.exists()


def test_a_bicycle_needs_no_plate(client, application):
    response = client.post(reverse("driver:apply"), application(vehicle_type="bike", plate=""))

    assert response.status_code == 302
    assert Driver.objects.get().plate == ""


@pytest.mark.parametrize(
    ("username", "email", "typed"),
    [
        ("sam@example.com", "sam@example.com", "sam@example.com"),
        ("sam@example.com", "sam@example.com", "Sam@Example.COM"),
        ("sam", "sam@example.com", "sam@example.com"),  # an account signed up by username
    ],
)
def test_it_refuses_an_email_that_already_has_an_account(
    client, application, username, email, typed
):
    f.UserFactory(username=username, email=email)

    response = client.post(reverse("driver:apply"), application(email=typed))

    assert response.status_code == 200
    assert "An account with this email exists" in field_error(response, "email")
    assert get_user_model().objects.filter(email__iexact=email).count() == 1
    assert not Driver.objects.exists()


def test_a_signed_in_person_applies_with_their_own_account(client, shopper, application, mall):
    client.force_login(shopper.user)
    users = get_user_model().objects.count()

    form = client.get(reverse("driver:apply"))
    response = client.post(
        reverse("driver:apply"),
        application(first_name=None, last_name=None, email=None, password=None),
    )

    assert 'name="email"' not in form.content.decode()
    assert 'name="password"' not in form.content.decode()
    assert response.status_code == 302
    assert get_user_model().objects.count() == users
    applicant = Driver.objects.get(user=shopper.user)
    assert applicant.status == Driver.Status.PENDING
    assert applicant.consented_at is not None


def test_a_driver_opening_the_application_goes_to_their_page(as_driver):
    response = as_driver.get(reverse("driver:apply"))

    assert response.status_code == 302
    assert response.url == reverse("driver:home")


# --- Drivers who may not drive --------------------------------------------------------------

NOT_APPROVED = [
    ("pending", "We're reviewing your application", "Your application is still being reviewed."),
    (
        "rejected",
        "Your application was not approved: Licence expired.",
        "Your application was not approved.",
    ),
    (
        "suspended",
        "Your account is suspended: Licence expired. Contact support.",
        "Your account is suspended. Contact support.",
    ),
]


@pytest.mark.parametrize(("status", "shown", "refusal"), NOT_APPROVED)
def test_a_driver_who_is_not_approved_is_told_why_and_cannot_go_online(
    client, mall, status, shown, refusal
):
    applicant = f.DriverFactory(status=status, status_reason="Licence expired")
    client.force_login(applicant.user)

    home = client.get(reverse("driver:home"))
    response = client.post(reverse("driver:online"), {"mall": mall.pk}, follow=True)

    assert shown in text(home)
    assert 'action="/driver/online/"' not in home.content.decode()
    assert refusal in text(response)
    assert refreshed(applicant).is_online is False


@pytest.mark.parametrize(
    ("status", "label"),
    [("pending", "application pending"), ("rejected", "rejected"), ("suspended", "suspended")],
)
def test_a_driver_who_is_no_longer_approved_cannot_accept_an_offer(
    as_driver, offer_to, driver, status, label
):
    offer = offer_to(driver)
    # Changed under the offer (the review itself withdraws offers: see the next test).
    Driver.objects.filter(pk=driver.pk).update(status=status, is_online=False, online_mall=None)

    response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))

    assert response.url == reverse("driver:home")
    assert messages_of(response) == [f"You can't take routes: {label}."]
    assert refreshed(offer).status == Offer.Status.PENDING
    assert refreshed(offer.route).driver is None


def test_a_suspended_driver_finds_their_offer_gone(as_driver, offer_to, driver, ops_user):
    offer = offer_to(driver)
    driver_review(driver=driver, actor=Actor.ops(ops_user), status="suspended", reason="Fraud")

    response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))

    assert messages_of(response) == ["This offer is no longer open."]
    assert refreshed(offer.route).driver is None
    assert "Your account is suspended: Fraud." in text(as_driver.get(reverse("driver:home")))


def test_a_driver_who_is_not_approved_cannot_book_a_block(client, mall):
    applicant = f.DriverFactory(status="pending")
    block = f.BlockFactory(mall=mall)
    client.force_login(applicant.user)

    listing = client.get(reverse("driver:blocks"))
    response = client.post(reverse("driver:block_book", args=[block.pk]))

    assert reverse("driver:block_book", args=[block.pk]) not in listing.content.decode()
    assert messages_of(response) == ["Only approved drivers can book blocks."]
    assert not BlockBooking.objects.exists()


# --- Online, offline and location -----------------------------------------------------------


def test_a_driver_goes_online_at_a_mall_with_their_position(as_driver, driver, mall):
    driver_go_offline(driver=driver)

    response = as_driver.post(
        reverse("driver:online"), {"mall": mall.pk, "latitude": "36.13", "longitude": "-115.17"}
    )

    assert response.url == reverse("driver:home")
    assert messages_of(response) == [f"You're online at {mall.name}."]
    driver = refreshed(driver)
    assert (driver.is_online, driver.online_mall) == (True, mall)
    assert (driver.last_latitude, driver.last_longitude) == (36.13, -115.17)
    assert f"Online at {mall.name}" in text(as_driver.get(reverse("driver:home")))


def test_going_online_needs_a_mall(as_driver, driver):
    driver_go_offline(driver=driver)

    response = as_driver.post(reverse("driver:online"), {})

    assert messages_of(response) == ["Choose a mall."]
    assert refreshed(driver).is_online is False


def test_going_offline_withdraws_open_offers(as_driver, driver, offer_to):
    offer = offer_to(driver)

    response = as_driver.post(reverse("driver:offline"))

    assert response.url == reverse("driver:home")
    assert refreshed(driver).is_online is False
    assert refreshed(offer).status == Offer.Status.WITHDRAWN
    home = as_driver.get(reverse("driver:home"))
    assert reverse("driver:offer_answer", args=[offer.pk, "accept"]) not in text(home)
    assert "Go online to get offers." in text(home)


def test_the_phone_sends_its_position(as_driver, driver):
    response = as_driver.post(
        reverse("driver:location"), {"latitude": "36.1", "longitude": "-115.2"}
    )

    assert response.status_code == 204
    driver = refreshed(driver)
    assert (driver.last_latitude, driver.last_longitude) == (36.1, -115.2)
    assert driver.last_located_at is not None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"latitude": "36.1"},
        {"latitude": "north", "longitude": "-115.2"},
        {"latitude": "91", "longitude": "-115.2"},
        {"latitude": "36.1", "longitude": "-180.5"},
        {"latitude": "nan", "longitude": "-115.2"},
        {"latitude": "36.1", "longitude": "inf"},
    ],
)
def test_it_refuses_a_position_that_is_not_one(as_driver, driver, data):
    response = as_driver.post(reverse("driver:location"), data)

    assert response.status_code == 400
    assert refreshed(driver).last_latitude is None


def test_the_position_is_only_posted(as_driver):
    assert as_driver.get(reverse("driver:location")).status_code == 405


# --- Offers ---------------------------------------------------------------------------------


def test_a_driver_sees_only_the_offers_made_to_them(as_driver, driver, other_driver, offer_to):
    mine = offer_to(driver)
    theirs = offer_to(other_driver)

    home = as_driver.get(reverse("driver:home")).content.decode()

    assert reverse("driver:offer_answer", args=[mine.pk, "accept"]) in home
    assert reverse("driver:offer_answer", args=[theirs.pk, "accept"]) not in home


def test_an_offer_shows_its_pay_stores_drop_offs_and_countdown(
    as_driver, driver, offer_to, stock, store
):
    offer = offer_to(driver, tips_cents={stock.store_id: 350})
    pay = {line.kind: line.amount_cents for line in offer.route.pay_lines.all()}

    with clock.frozen_at(offer.expires_at - dt.timedelta(seconds=30)):
        response = as_driver.get(reverse("driver:offer", args=[offer.pk]))

    card = response.context["card"]
    assert card["total"] == offer.pay_cents == sum(pay.values())
    assert card["pay"]["base"] == pay["base"]
    assert (card["tips"], card["dropoffs"], card["pickups"]) == (350, 1, [store])
    assert card["seconds_left"] == 30
    page = text(response)
    assert f"${offer.pay_cents / 100:,.2f}" in page
    assert "Expected tips" in page and "$3.50" in page
    assert f"Pick up at: {store.name}" in page
    assert 'data-countdown="30"' in page


def test_another_drivers_offer_is_a_404(as_driver, other_driver, offer_to):
    theirs = offer_to(other_driver)

    page = as_driver.get(reverse("driver:offer", args=[theirs.pk]))
    accept = as_driver.post(reverse("driver:offer_answer", args=[theirs.pk, "accept"]))
    decline = as_driver.post(
        reverse("driver:offer_answer", args=[theirs.pk, "decline"]), {"reason": "Too far"}
    )

    assert (page.status_code, accept.status_code, decline.status_code) == (404, 404, 404)
    theirs = refreshed(theirs)
    assert theirs.status == Offer.Status.PENDING
    assert refreshed(theirs.route).driver is None


def test_an_unknown_answer_is_a_404(as_driver, driver, offer_to):
    offer = offer_to(driver)

    response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "maybe"]))

    assert response.status_code == 404
    assert refreshed(offer).status == Offer.Status.PENDING


def test_accepting_an_offer_gives_the_driver_the_route(as_driver, driver, offer_to):
    offer = offer_to(driver)

    response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))

    assert response.url == reverse("driver:route")
    route = refreshed(offer.route)
    assert (route.driver, route.status) == (driver, RS.ACCEPTED)
    assert refreshed(offer).status == Offer.Status.ACCEPTED
    page = as_driver.get(response.url)
    assert route.handover_code in text(page)
    assert "The route is yours. Head to the mall." in text(page)


def test_an_expired_offer_is_refused_even_while_the_page_still_shows_it(
    as_driver, driver, offer_to
):
    offer = offer_to(driver)
    shown = as_driver.get(reverse("driver:offer", args=[offer.pk]))
    assert reverse("driver:offer_answer", args=[offer.pk, "accept"]) in text(shown)

    with clock.frozen_at(offer.expires_at + dt.timedelta(seconds=1)):
        response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))
        home = as_driver.get(response.url)

    assert response.url == reverse("driver:home")
    assert "This offer expired." in text(home)
    assert refreshed(offer).status == Offer.Status.EXPIRED
    route = refreshed(offer.route)
    assert (route.driver, route.status) == (None, RS.PLANNED)
    assert reverse("driver:offer_answer", args=[offer.pk, "accept"]) not in text(home)


def test_an_offer_is_refused_at_the_moment_it_expires(as_driver, driver, offer_to):
    offer = offer_to(driver)

    with clock.frozen_at(offer.expires_at):
        response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))

    assert messages_of(response) == ["This offer expired."]
    assert refreshed(offer.route).driver is None


def test_an_answered_offer_page_says_so(as_driver, driver, offer_to):
    offer = offer_to(driver)
    as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "decline"]), {"reason": "Other"})

    response = as_driver.get(reverse("driver:offer", args=[offer.pk]))

    assert "This offer is declined." in text(response)
    assert reverse("driver:offer_answer", args=[offer.pk, "accept"]) not in text(response)


def test_declining_an_offer_keeps_the_reason(as_driver, driver, offer_to):
    offer = offer_to(driver)

    response = as_driver.post(
        reverse("driver:offer_answer", args=[offer.pk, "decline"]), {"reason": "Pay too low"}
    )

    assert response.url == reverse("driver:home")
    assert messages_of(response) == ["Offer declined."]
    offer = refreshed(offer)
    assert (offer.status, offer.decline_reason) == (Offer.Status.DECLINED, "Pay too low")
    assert refreshed(offer.route).status == RS.PLANNED


def test_it_refuses_answering_an_offer_twice(as_driver, driver, offer_to):
    offer = offer_to(driver)
    as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "decline"]), {"reason": "Other"})

    response = as_driver.post(reverse("driver:offer_answer", args=[offer.pk, "accept"]))

    assert messages_of(response)[-1] == "This offer is no longer open."
    assert refreshed(offer.route).driver is None


def test_missed_offers_set_the_driver_offline_and_going_online_clears_it(
    as_driver, driver, offer_to, mall
):
    for _ in range(settings.MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE):
        offer = offer_to(driver)
        with clock.frozen_at(offer.expires_at):
            assert offer_expire(offer=offer)

    home = text(as_driver.get(reverse("driver:home")))
    assert refreshed(driver).is_online is False
    assert "You missed 3 offers in a row, so we set you offline." in home
    assert "Go online" in home

    as_driver.post(reverse("driver:online"), {"mall": mall.pk})

    assert refreshed(driver).offline_reason == ""
    assert "You missed" not in text(as_driver.get(reverse("driver:home")))


def test_the_home_page_does_not_query_more_for_more_offers(
    as_driver, driver, offer_to, django_assert_max_num_queries
):
    offer_to(driver)
    with CaptureQueriesContext(connection) as one:
        as_driver.get(reverse("driver:home"))
    for _ in range(4):
        offer_to(driver)

    with django_assert_max_num_queries(len(one)):
        response = as_driver.get(reverse("driver:home"))

    assert len(response.context["offers"]) == 5


# --- Route ----------------------------------------------------------------------------------


def test_the_route_shows_pick_ups_with_the_code_then_drop_offs(as_driver, driver, offer_to, store):
    offer = offer_to(driver)
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    order = offer.route.stops.get(kind="dropoff").order

    response = as_driver.get(reverse("driver:route"))

    page = text(response)
    assert offer.route.handover_code in page
    assert store.name in page and store.location_in_mall in page
    assert f"{order.number} · 1 bag" in page
    assert page.index(store.name) < page.index(order.recipient_name)
    assert order.address.one_line in page


def test_without_a_route_the_route_page_goes_home(as_driver):
    response = as_driver.get(reverse("driver:route"))

    assert response.url == reverse("driver:home")
    assert messages_of(response) == ["You have no route right now."]


def test_arriving_at_the_mall_starts_the_pick_up(as_driver, driver, offer_to):
    offer = offer_to(driver)
    route = offer_accept(offer=offer, actor=Actor.driver(driver.user))

    response = as_driver.post(reverse("driver:route_arrive", args=[route.pk]))

    assert response.url == reverse("driver:route")
    assert refreshed(route).status == RS.PICKING_UP


def test_another_drivers_route_is_a_404(as_driver, others_stop):
    route = others_stop.route

    page = as_driver.get(reverse("driver:route_detail", args=[route.pk]))
    arrive = as_driver.post(reverse("driver:route_arrive", args=[route.pk]))

    assert (page.status_code, arrive.status_code) == (404, 404)


def test_a_past_route_of_the_driver_can_be_opened(as_driver, my_stop):
    order = my_stop.order
    as_driver.post(
        reverse("driver:stop_deliver", args=[my_stop.pk]),
        {"pin": order.delivery_pin, "photo": jpeg()},
    )
    assert refreshed(my_stop.route).status == RS.COMPLETED

    response = as_driver.get(reverse("driver:route_detail", args=[my_stop.route_id]))

    assert response.status_code == 200
    assert response.context["route"] == my_stop.route


# --- Stops: the door --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "driver:stop"),
        ("post", "driver:stop_deliver"),
        ("post", "driver:stop_fail"),
        ("post", "driver:stop_message"),
    ],
)
def test_another_drivers_stop_is_a_404(as_driver, others_stop, method, name):
    order = others_stop.order
    data = {"pin": order.delivery_pin, "photo": jpeg(), "message": "outside"}
    data |= {"reason": "Refused by the customer"} if name == "driver:stop_fail" else {}

    response = getattr(as_driver, method)(reverse(name, args=[others_stop.pk]), data)

    assert response.status_code == 404
    assert refreshed(order).status == OS.PICKED_UP
    assert LocmemSmsBackend.outbox == []


def test_a_pick_up_stop_has_no_door_page(as_driver, my_stop):
    pickup = my_stop.route.stops.get(kind="pickup")

    assert as_driver.get(reverse("driver:stop", args=[pickup.pk])).status_code == 404


def test_the_door_page_has_navigation_and_proof_forms(as_driver, my_stop):
    order = my_stop.order

    page = text(as_driver.get(reverse("driver:stop", args=[my_stop.pk])))

    assert order.address.one_line in page
    lat, lng = order.address.latitude, order.address.longitude
    assert f"destination={lat},{lng}" in page
    assert f'href="geo:{lat},{lng}"' in page
    assert 'capture="environment"' in page
    assert reverse("driver:stop_deliver", args=[my_stop.pk]) in page


@pytest.mark.parametrize(
    ("missing", "error"),
    [("pin", "This field is required."), ("photo", "This field is required.")],
)
def test_delivering_needs_both_the_pin_and_a_photo(as_driver, my_stop, missing, error):
    order = my_stop.order
    data = {"pin": order.delivery_pin, "photo": jpeg()}
    del data[missing]
    url = reverse("driver:stop_deliver", args=[my_stop.pk])

    response = as_driver.post(url, data)

    assert response.status_code == 400
    assert field_error(response, missing, form_action=url) == error
    assert refreshed(order).status == OS.PICKED_UP
    assert not ProofOfDelivery.objects.filter(order=order).exists()


def test_it_refuses_a_delivery_photo_that_is_not_an_image(as_driver, my_stop):
    order = my_stop.order
    url = reverse("driver:stop_deliver", args=[my_stop.pk])

    response = as_driver.post(url, {"pin": order.delivery_pin, "photo": not_an_image()})

    assert response.status_code == 400
    assert "image" in field_error(response, "photo", form_action=url)
    assert refreshed(order).status == OS.PICKED_UP


def test_a_wrong_pin_is_refused_and_counted(as_driver, my_stop):
    order = my_stop.order
    wrong = "0000" if order.delivery_pin != "0000" else "1111"
    url = reverse("driver:stop_deliver", args=[my_stop.pk])

    first = as_driver.post(url, {"pin": wrong, "photo": jpeg()})
    second = as_driver.post(url, {"pin": wrong, "photo": jpeg()})

    assert first.status_code == second.status_code == 400
    assert "That PIN is not right" in field_error(first, "pin", form_action=url)
    assert "(attempt 1)" in field_error(first, "pin", form_action=url)
    assert "(attempt 2)" in field_error(second, "pin", form_action=url)
    assert "Wrong PIN entered 2 times." in text(second)
    assert refreshed(my_stop).wrong_pin_attempts == 2
    assert refreshed(order).status == OS.PICKED_UP
    assert not ProofOfDelivery.objects.filter(order=order).exists()


def test_a_pin_that_is_not_four_digits_is_refused_without_counting(as_driver, my_stop):
    url = reverse("driver:stop_deliver", args=[my_stop.pk])

    response = as_driver.post(url, {"pin": "12a4", "photo": jpeg()})

    assert field_error(response, "pin", form_action=url) == "The PIN is 4 digits."
    assert refreshed(my_stop).wrong_pin_attempts == 0


def test_the_right_pin_and_a_photo_deliver_the_order(as_driver, my_stop, driver):
    order = my_stop.order

    response = as_driver.post(
        reverse("driver:stop_deliver", args=[my_stop.pk]),
        {"pin": order.delivery_pin, "photo": jpeg("door.jpg"), "latitude": "36.14"},
    )

    assert response.url == reverse("driver:route_detail", args=[my_stop.route_id])
    assert messages_of(response) == [f"Delivered {order.number}. Nice work."]
    assert refreshed(order).status == OS.DELIVERED
    proof = ProofOfDelivery.objects.get(order=order)
    assert (proof.driver, proof.pin_verified) == (driver, True)
    assert proof.photo.storage.exists(proof.photo.name)
    assert refreshed(my_stop).status == RouteStop.Status.DONE
    tip = PayLine.objects.get(route=my_stop.route, kind=PayLine.Kind.TIP)
    assert (tip.driver, tip.order, tip.amount_cents) == (driver, order, 500)
    assert refreshed(my_stop.route).status == RS.COMPLETED


def test_delivering_twice_is_refused(as_driver, my_stop):
    order = my_stop.order
    url = reverse("driver:stop_deliver", args=[my_stop.pk])
    as_driver.post(url, {"pin": order.delivery_pin, "photo": jpeg()})

    again = as_driver.post(url, {"pin": order.delivery_pin, "photo": jpeg()})

    assert again.status_code == 400
    assert ProofOfDelivery.objects.filter(order=order).count() == 1
    assert PayLine.objects.filter(kind=PayLine.Kind.TIP).count() == 1


def test_a_failed_delivery_brings_the_order_back_to_the_store(as_driver, my_stop, manager, stock):
    order = my_stop.order
    on_hand = refreshed(stock).on_hand

    response = as_driver.post(
        reverse("driver:stop_fail", args=[my_stop.pk]),
        {"reason": "No answer after waiting", "photo": jpeg("door.jpg")},
    )

    assert response.url == reverse("driver:route_detail", args=[my_stop.route_id])
    assert refreshed(order).status == OS.DELIVERY_FAILED
    dropoff = refreshed(my_stop)
    assert (dropoff.status, dropoff.fail_reason) == ("failed", "No answer after waiting")
    assert dropoff.fail_photo.storage.exists(dropoff.fail_photo.name)
    back = RouteStop.objects.get(route=my_stop.route, kind=RouteStop.Kind.RETURN)
    assert (back.order, back.store, back.status) == (order, order.store, "pending")
    page = text(as_driver.get(response.url))
    assert "Bring back to the store" in page
    assert refreshed(my_stop.route).status == RS.DELIVERING

    order_return(order=order, actor=Actor.store_staff(manager))

    assert refreshed(back).status == RouteStop.Status.DONE
    assert refreshed(my_stop.route).status == RS.COMPLETED
    assert refreshed(order).status == OS.RETURNED
    assert refreshed(stock).on_hand == on_hand + 1
    assert not PayLine.objects.filter(kind=PayLine.Kind.TIP).exists()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"reason": "No answer after waiting"}, "photo", "This field is required."),
        ({"reason": "Felt like it", "photo": "jpeg"}, "reason", "Select a valid choice."),
    ],
)
def test_a_failed_delivery_needs_a_reason_and_a_photo(as_driver, my_stop, data, field, error):
    url = reverse("driver:stop_fail", args=[my_stop.pk])
    data = {k: jpeg() if v == "jpeg" else v for k, v in data.items()}

    response = as_driver.post(url, data)

    assert response.status_code == 400
    assert field_error(response, field, form_action=url).startswith(error)
    assert refreshed(my_stop.order).status == OS.PICKED_UP
    assert not RouteStop.objects.filter(kind=RouteStop.Kind.RETURN).exists()


def test_the_stop_page_gives_each_input_its_own_id(as_driver, my_stop):
    page = as_driver.get(reverse("driver:stop", args=[my_stop.pk])).content.decode()

    ids = re.findall(r'\sid="([^"]+)"', page)

    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_the_driver_texts_the_customer_without_seeing_their_number(as_driver, my_stop, driver):
    order = my_stop.order
    url = reverse("driver:stop_message", args=[my_stop.pk])

    response = as_driver.post(url, {"message": "outside"})

    assert response.url == reverse("driver:stop", args=[my_stop.pk])
    assert messages_of(response) == ["Message sent."]
    [sms] = LocmemSmsBackend.outbox
    assert sms.to == order.recipient_phone == "+17025550100"
    assert sms.body == f"{driver.user.first_name} (Mallrun driver): I'm outside with your order."
    for page in (
        as_driver.get(reverse("driver:stop", args=[my_stop.pk])),
        as_driver.get(reverse("driver:route")),
        as_driver.get(reverse("driver:home")),
    ):
        assert page.status_code == 200
        assert not PHONE.search(text(page))


def test_the_driver_can_see_no_number_on_the_offer_either(as_driver, driver, offer_to):
    offer = offer_to(driver)

    page = as_driver.get(reverse("driver:offer", args=[offer.pk]))

    assert not PHONE.search(text(page))


def test_it_sends_no_text_without_a_known_message(as_driver, my_stop):
    response = as_driver.post(
        reverse("driver:stop_message", args=[my_stop.pk]), {"message": "call me at 555"}
    )

    assert messages_of(response) == ["Choose a message."]
    assert LocmemSmsBackend.outbox == []


def test_it_sends_no_text_once_the_order_is_delivered(as_driver, my_stop):
    order = my_stop.order
    as_driver.post(
        reverse("driver:stop_deliver", args=[my_stop.pk]),
        {"pin": order.delivery_pin, "photo": jpeg()},
    )

    response = as_driver.post(
        reverse("driver:stop_message", args=[my_stop.pk]), {"message": "outside"}
    )

    assert messages_of(response)[-1] == "This order is finished: texts can no longer be sent."
    assert LocmemSmsBackend.outbox == []


# --- Blocks ---------------------------------------------------------------------------------


def test_the_block_list_shows_open_blocks_with_their_slots(as_driver, mall, other_driver):
    now = clock.now()
    soon = f.BlockFactory(mall=mall, starts_at=now + dt.timedelta(hours=3), slots=3)
    full = f.BlockFactory(mall=mall, starts_at=now + dt.timedelta(days=1), slots=1)
    block_book(block=soon, driver=other_driver)
    block_book(block=full, driver=other_driver)
    started = f.BlockFactory(mall=mall, starts_at=now - dt.timedelta(minutes=5))
    later = f.BlockFactory(mall=mall, starts_at=now + dt.timedelta(days=8))

    response = as_driver.get(reverse("driver:blocks"))

    assert [b.pk for b in response.context["blocks"]] == [soon.pk, full.pk]
    page = text(response)
    assert "at least $60.00 · 1 of 3 slots booked" in page
    assert "1 of 1 slot booked" in page and "Full" in page
    assert reverse("driver:block_book", args=[soon.pk]) in page
    for absent in (full, started, later):
        assert reverse("driver:block_book", args=[absent.pk]) not in page


def test_a_driver_books_a_block(as_driver, driver, mall):
    block = f.BlockFactory(mall=mall)

    response = as_driver.post(reverse("driver:block_book", args=[block.pk]))

    assert response.url == reverse("driver:blocks")
    assert messages_of(response) == [f"Booked {block}."]
    booking = BlockBooking.objects.get(block=block)
    assert (booking.driver, booking.status) == (driver, "booked")
    page = text(as_driver.get(reverse("driver:blocks")))
    assert reverse("driver:block_forfeit", args=[booking.pk]) in page


def test_it_refuses_a_full_block(as_driver, driver, other_driver, mall):
    block = f.BlockFactory(mall=mall, slots=1)
    block_book(block=block, driver=other_driver)

    response = as_driver.post(reverse("driver:block_book", args=[block.pk]))

    assert messages_of(response) == ["This block is full."]
    assert not BlockBooking.objects.filter(driver=driver).exists()


def test_it_refuses_an_overlapping_block(as_driver, driver, mall):
    first = f.BlockFactory(mall=mall, starts_at=clock.now() + dt.timedelta(hours=3))
    block_book(block=first, driver=driver)
    overlapping = f.BlockFactory(
        mall=f.MallFactory(), starts_at=first.starts_at + dt.timedelta(hours=2)
    )

    response = as_driver.post(reverse("driver:block_book", args=[overlapping.pk]))

    assert messages_of(response) == ["You already have a block at that time."]
    assert not BlockBooking.objects.filter(block=overlapping).exists()


def test_an_unknown_block_is_a_404(as_driver):
    assert as_driver.post(reverse("driver:block_book", args=[999999])).status_code == 404


def test_a_driver_gives_a_block_back_before_the_cut_off(as_driver, driver, mall):
    cutoff = dt.timedelta(minutes=settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES)
    block = f.BlockFactory(mall=mall, starts_at=clock.now() + cutoff + dt.timedelta(minutes=10))
    booking = block_book(block=block, driver=driver)

    response = as_driver.post(reverse("driver:block_forfeit", args=[booking.pk]))

    assert messages_of(response) == ["Block given back."]
    assert refreshed(booking).status == BlockBooking.Status.FORFEITED


def test_it_refuses_giving_a_block_back_after_the_cut_off(as_driver, driver, mall):
    cutoff = dt.timedelta(minutes=settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES)
    block = f.BlockFactory(mall=mall, starts_at=clock.now() + dt.timedelta(hours=5))
    booking = block_book(block=block, driver=driver)

    with clock.frozen_at(block.starts_at - cutoff + dt.timedelta(minutes=1)):
        response = as_driver.post(reverse("driver:block_forfeit", args=[booking.pk]), follow=True)

    hours = settings.MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES / 60
    assert f"Blocks can be given back until {hours:g} h before they start." in text(response)
    assert refreshed(booking).status == BlockBooking.Status.BOOKED


def test_another_drivers_booking_is_a_404(as_driver, other_driver, mall):
    booking = block_book(block=f.BlockFactory(mall=mall), driver=other_driver)

    response = as_driver.post(reverse("driver:block_forfeit", args=[booking.pk]))

    assert response.status_code == 404
    assert refreshed(booking).status == BlockBooking.Status.BOOKED


# --- Earnings -------------------------------------------------------------------------------

# Wednesday 25 November 2026, 06:30 UTC is Tuesday 24 November, 22:30 in Las Vegas: the
# driver's day and week are Las Vegas ones (week from Monday 23 November, 08:00 UTC).
NOW = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def pay(driver, mall, other_driver):
    """Pay lines either side of the mall's day and week boundaries."""
    Driver.objects.filter(pk=driver.pk).update(home_mall=mall)

    def line(who, at, cents, kind=PayLine.Kind.BASE, description=""):
        return PayLine.objects.create(
            driver=who, kind=kind, amount_cents=cents, created_at=at, description=description
        )

    return {
        # Tuesday 21:00 local (Wednesday in UTC): today.
        "evening": line(driver, dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC), 1000),
        # Tuesday 01:00 local: today (though not today by UTC's clock, already Wednesday).
        "night": line(
            driver, dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC), 250, PayLine.Kind.TIP, "T-1"
        ),
        # Monday 01:00 local: this week, not today.
        "monday": line(driver, dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), 700),
        # Sunday 23:00 local (Monday in UTC): last week.
        "sunday": line(driver, dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC), 4000),
        "theirs": line(other_driver, dt.datetime(2026, 11, 25, 5, 0, tzinfo=dt.UTC), 9900),
    }


def test_earnings_count_today_and_this_week_in_the_malls_time_zone(as_driver, pay):
    with clock.frozen_at(NOW):
        response = as_driver.get(reverse("driver:earnings"))

    assert response.context["today"]["total"] == 1000 + 250
    assert response.context["week"]["total"] == 1000 + 250 + 700
    assert list(response.context["week"]["lines"]) == [pay["monday"], pay["night"], pay["evening"]]
    page = text(response)
    assert "$12.50" in page and "$19.50" in page
    assert "$99.00" not in page and "$40.00" not in page
    assert reverse("driver:statement", args=["2026-11-23"]) in page


def test_the_weekly_statement_lists_the_pay_lines_and_the_total(as_driver, pay):
    with clock.frozen_at(NOW):
        response = as_driver.get(reverse("driver:statement", args=["2026-11-25"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="mallrun-pay-2026-11-23.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["date", "route", "kind", "description", "amount"],
        ["2026-11-23", "", "Base", "", "7.00"],
        ["2026-11-24", "", "Tip", "T-1", "2.50"],
        ["2026-11-24", "", "Base", "", "10.00"],  # the mall's date, not UTC's
        ["", "", "Total", "", "19.50"],
    ]


def test_last_weeks_statement_has_last_weeks_lines(as_driver, pay):
    response = as_driver.get(reverse("driver:statement", args=["2026-11-16"]))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1:] == [["2026-11-22", "", "Base", "", "40.00"], ["", "", "Total", "", "40.00"]]


@pytest.mark.parametrize("week", ["last-week", "2026-02-30", "2026-13-01", "soon"])
def test_a_statement_for_a_week_that_is_not_one_is_a_404(as_driver, week):
    assert as_driver.get(reverse("driver:statement", args=[week])).status_code == 404
