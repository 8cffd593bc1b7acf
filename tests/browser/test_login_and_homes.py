"""Each party logs in through the form at 360 px, by keyboard, and lands on its own home."""

import pytest

from orders.permissions import Actor
from tests.browser.conftest import assert_fits_width, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("mallrun")
    page.keyboard.press("Enter")  # submit by keyboard, as people on a counter tablet do
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state("networkidle")


def with_password(user):
    user.set_password("mallrun")
    user.save()
    return user


def test_shopper_logs_in_and_sees_their_order(phone, live_server, shopper, place_order, stock):
    order = place_order(stock)
    log_in(phone, live_server, with_password(shopper.user).username)
    assert phone.get_by_role("heading", name="Your orders").is_visible()
    phone.get_by_role("link", name=order.number).click()
    assert phone.get_by_text(order.delivery_pin).is_visible()
    assert_fits_width(phone)
    screenshot(phone, "shopper-order")


def test_store_manager_logs_in_to_their_store(phone, live_server, manager, place_order, stock):
    order = place_order(stock)
    log_in(phone, live_server, with_password(manager).username)
    assert phone.get_by_role("heading", name=stock.store.name).is_visible()
    assert phone.get_by_role("link", name=order.number).is_visible()
    assert_fits_width(phone)
    screenshot(phone, "store-home")


def test_driver_logs_in_and_sees_an_offer(phone, live_server, driver, place_order, stock, mall):
    from drivers.services import route_offer, route_plan
    from orders.services import order_accept

    order = place_order(stock)
    order_accept(order=order, actor=Actor.system())
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    route_offer(route=route, driver=driver, actor=Actor.system(), expires_in_seconds=600)
    log_in(phone, live_server, with_password(driver.user).username)
    assert phone.get_by_role("button", name="Accept").is_visible()
    assert phone.get_by_text("Pick up at: Sephora").is_visible()
    assert_fits_width(phone)
    screenshot(phone, "driver-home")


def test_a_wrong_password_is_told_on_the_form(phone, live_server, shopper):
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("Username").fill("alice")
    phone.get_by_label("Password").fill("wrong")
    phone.get_by_role("button", name="Log in").click()
    assert phone.get_by_role("alert").is_visible()
    assert_fits_width(phone)
    screenshot(phone, "login-error")
