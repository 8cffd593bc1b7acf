"""Ops at 360 px: log in, land on the board, see a late order on top, reassign its route to
another driver with a reason and a confirmation, and watch the board update by polling when
that driver accepts. Screenshots go to docs/screenshots/ops-*.png."""

import datetime as dt

import pytest

from orders.permissions import Actor
from retailers import clock
from tests.browser.conftest import assert_fits_width, screenshot
from tests.browser.test_login_and_homes import log_in, with_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOON = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)  # noon in Las Vegas


@pytest.fixture
def frozen():
    clock.set_source(lambda: NOON)  # global: the live server's thread reads it too
    yield
    clock.set_source(None)


def shot(page, name):
    assert_fits_width(page)
    screenshot(page, f"ops-{name}")


def test_ops_reassign_the_route_of_a_late_order(
    frozen, phone, live_server, settings, ops_user, place_order, stock, driver, other_driver, mall
):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.services import order_accept, order_mark_ready

    settings.MALLRUN_OPS_POLL_SECONDS = 1
    system = Actor.system("tests")
    on_time = place_order(stock)
    order = place_order(stock)
    order_accept(order=order, actor=system)
    order_mark_ready(order=order, actor=system)
    route = route_plan(
        mall=mall, orders=[order], actor=system, planned_arrivals=[NOON + dt.timedelta(minutes=25)]
    )
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=system), actor=Actor.driver(driver.user)
    )
    order.promised_by = NOON - dt.timedelta(minutes=10)  # the promise has passed
    order.save(update_fields=["promised_by"])

    log_in(phone, live_server, with_password(ops_user).username)
    assert phone.get_by_role("heading", name=mall.name).is_visible()
    late = phone.locator(".ops-order").first
    assert order.number in late.inner_text() and "Late 10 min" in late.inner_text()
    assert on_time.number not in late.inner_text()
    assert phone.get_by_role("link", name="Admin").is_visible()
    shot(phone, "1-board")

    card = phone.locator(f"#route-{route.pk}")
    assert str(driver) in card.inner_text()
    card.get_by_role("link", name="Reassign…").click()
    phone.get_by_role("heading", name=f"Reassign route {route.pk}?").wait_for()
    phone.get_by_role("button", name="Reassign").click()  # nothing chosen yet
    assert phone.locator(".error").first.is_visible()
    shot(phone, "2-reassign-errors")
    phone.get_by_label("Give it to").select_option(str(other_driver.pk))
    phone.get_by_label("Reason").fill("Driver stuck in traffic")
    phone.get_by_role("button", name="Reassign").click()

    phone.get_by_text(f"Route {route.pk} offered to the chosen driver.").wait_for()
    card = phone.locator(f"#route-{route.pk}")
    assert "Offered" in card.inner_text() and "no driver" in card.inner_text()

    # The chosen driver accepts on their phone; the board shows it without a reload.
    from drivers.models import Offer

    offer = Offer.objects.get(route=route, driver=other_driver, status="pending")
    offer_accept(offer=offer, actor=Actor.driver(other_driver.user))
    phone.locator(f"#route-{route.pk} .route-driver", has_text=str(other_driver)).wait_for()
    assert "Accepted" in phone.locator(f"#route-{route.pk}").inner_text()
    shot(phone, "3-board-updated")

    phone.get_by_role("link", name="Audit trail here").click()
    phone.get_by_text("route.reassign").first.wait_for()
    assert phone.get_by_text("Driver stuck in traffic").first.is_visible()
    shot(phone, "4-audit")

    phone.goto(f"{live_server.url}/ops/m/{mall.slug}/metrics/")
    phone.get_by_role("heading", name=f"{mall.name}: metrics").wait_for()
    shot(phone, "5-metrics")
