"""A shopper on a phone: ZIP → search → two stores in the cart → test card → tracking + PIN."""

import datetime as dt

import pytest

from orders.models import Order
from retailers import clock
from tests import factories as f
from tests.browser.conftest import assert_fits_width, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 10:00 in Las Vegas: stores open, before the same-day cut-off, whatever time CI runs.
MORNING_IN_VEGAS = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_morning():
    with clock.frozen_at(MORNING_IN_VEGAS):
        yield


@pytest.fixture
def vegas(frozen_morning):
    mall = f.MallFactory(name="Fashion Show Las Vegas", slug="fashion-show-las-vegas")
    sephora = f.StoreFactory(
        mall=mall, name="Sephora Fashion Show", retailer=f.RetailerFactory(name="Sephora")
    )
    nike = f.StoreFactory(
        mall=mall, name="Nike Fashion Show", retailer=f.RetailerFactory(name="Nike")
    )
    lipstick = f.StockFactory(
        store=sephora,
        on_hand=8,
        product__retailer=sephora.retailer,
        product__title="Matte Lipstick Pillow Talk",
        product__category="Makeup",
        product__price_cents=3500,
    )
    socks = f.StockFactory(
        store=nike,
        on_hand=8,
        product__retailer=nike.retailer,
        product__title="Everyday Cushioned Socks",
        product__category="Socks",
        product__price_cents=2200,
    )
    from drivers.services import driver_go_online

    driver_go_online(driver=f.DriverFactory(), mall=mall)
    user = f.UserFactory(username="maya", first_name="Maya", email="maya@example.com")
    user.set_password("mallrun")
    user.save()
    f.ShopperFactory(user=user, phone="+17025550134")
    return {"mall": mall, "lipstick": lipstick, "socks": socks}


def test_a_shopper_orders_from_two_stores_and_tracks_it(phone, live_server, vegas):
    page = phone
    page.goto(live_server.url + "/")
    screenshot(page, "shop-1-home")
    page.get_by_label("Delivery ZIP code").fill("89109")
    page.keyboard.press("Enter")
    page.wait_for_url("**/shop/")
    assert page.get_by_text("2 items in stock").is_visible()
    assert_fits_width(page)
    screenshot(page, "shop-2-availability")

    page.get_by_label("Search").fill("lipstick")
    page.wait_for_url("**q=lipstick**")  # live search keeps a real URL
    assert page.get_by_text("1 item in stock").is_visible()
    assert page.get_by_text("Arrives today by").first.is_visible()
    screenshot(page, "shop-3-search")
    page.get_by_role("button", name="Add Matte Lipstick Pillow Talk").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Added Matte Lipstick Pillow Talk").is_visible()

    page.get_by_label("Search").fill("socks")
    page.wait_for_url("**q=socks**")
    page.get_by_role("button", name="Add Everyday Cushioned Socks").click()
    page.wait_for_load_state("networkidle")

    page.get_by_role("link", name="Cart (2)").click()
    assert page.get_by_role("heading", name="Sephora Fashion Show").is_visible()
    assert page.get_by_role("heading", name="Nike Fashion Show").is_visible()
    assert_fits_width(page)
    screenshot(page, "shop-4-cart")

    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Username").fill("maya")
    page.get_by_label("Password").fill("mallrun")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/checkout/")
    page.get_by_label("Street address").fill("3111 Bel Air Dr")
    page.get_by_label("City").fill("Las Vegas")
    page.get_by_label("State").fill("NV")
    page.get_by_label("ZIP code").fill("89109")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Place order").click()
    assert page.get_by_text("Your card was declined.").is_visible()
    assert Order.objects.count() == 0
    assert_fits_width(page)
    screenshot(page, "shop-5-checkout-declined")

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/track/**")
    orders = list(Order.objects.order_by("store__name"))
    assert len(orders) == 2 and len({o.group for o in orders}) == 1
    for order in orders:
        assert page.get_by_text(order.delivery_pin).is_visible()
    assert_fits_width(page)
    screenshot(page, "shop-6-tracking")
