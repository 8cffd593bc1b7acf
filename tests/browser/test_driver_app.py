"""A driver on a phone: online → offer → accept → code at pick-up → PIN and photo → earnings."""

import pytest
from PIL import Image

from drivers.models import Route
from drivers.services import route_offer, route_plan
from orders.models import Order
from orders.permissions import Actor
from orders.services import order_accept, order_mark_ready, order_pick_up
from tests import factories as f
from tests.browser.conftest import assert_fits_width, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "door.jpg"
    Image.new("RGB", (64, 48), (30, 120, 200)).save(path, "JPEG")
    return path


def test_a_driver_delivers_a_route_from_the_phone(
    phone, live_server, mall, stock, place_order, manager, photo
):
    driver = f.DriverFactory(user=f.UserFactory(username="jordan", first_name="Jordan"))
    driver.user.set_password("mallrun")
    driver.user.save()
    driver.home_mall = mall
    driver.save()
    order = place_order(stock, quantity=1, tips_cents={stock.store_id: 500})

    page = phone
    page.goto(f"{live_server.url}/accounts/login/?next=/driver/")
    page.get_by_label("Username").fill("jordan")
    page.get_by_label("Password").fill("mallrun")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Go online").click()
    assert page.get_by_text(f"Online at {mall.name}").first.is_visible()

    staff = Actor.store_staff(manager)
    order_accept(order=order, actor=staff, prep_minutes=5)
    order_mark_ready(order=order, actor=staff, bags=1)
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    route_offer(route=route, driver=driver, actor=Actor.system(), expires_in_seconds=300)

    page.reload()
    assert page.get_by_text("Expected tips").is_visible()
    assert_fits_width(page)
    screenshot(page, "driver-1-offer")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url("**/driver/route/")
    route.refresh_from_db()
    assert route.driver_id == driver.pk
    code = page.get_by_label("Hand-over code").inner_text()
    assert code == route.handover_code
    assert_fits_width(page)
    screenshot(page, "driver-2-route")

    # Store staff type the code the driver shows.
    order_pick_up(order=order, actor=staff, handover_code=code)
    page.reload()
    page.get_by_role("link", name=order.recipient_name).click()
    page.get_by_label("Customer's 4-digit PIN").fill(
        "0000" if order.delivery_pin != "0000" else "1111"
    )
    page.get_by_label("Photo of the delivery").set_input_files(str(photo))
    page.get_by_role("button", name="Complete delivery").click()
    assert page.get_by_text("That PIN is not right").is_visible()
    screenshot(page, "driver-3-wrong-pin")
    page.get_by_label("Customer's 4-digit PIN").fill(order.delivery_pin)
    page.get_by_label("Photo of the delivery").set_input_files(str(photo))
    page.get_by_role("button", name="Complete delivery").click()
    page.wait_for_url(f"**/driver/routes/{route.pk}/")
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.proof.photo and order.proof.pin_verified
    route.refresh_from_db()
    assert route.status == Route.Status.COMPLETED

    page.get_by_role("link", name="Earnings").click()
    total = route.pay_cents
    assert page.get_by_text(f"${total / 100:,.2f}").first.is_visible()
    assert_fits_width(page)
    screenshot(page, "driver-4-earnings")


def test_an_applicant_signs_up_and_waits_for_approval(phone, live_server, mall, photo):
    page = phone
    page.goto(f"{live_server.url}/driver/apply/")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Rivera")
    page.get_by_label("Email").fill("sam@example.com")
    page.get_by_label("Mobile phone").fill("+1 702 555 0111")
    page.get_by_label("Password").fill("a-long-pass-phrase-42")
    page.get_by_label("Vehicle").select_option("car")
    page.get_by_label("How many shopping bags").fill("10")
    page.get_by_label("Licence plate").fill("abc123")
    page.get_by_label("Mall you want to drive from").select_option(str(mall.pk))
    page.get_by_label("Photo of your driving licence").set_input_files(str(photo))
    page.get_by_role("button", name="Apply").click()
    assert page.get_by_text("You must agree to apply.").is_visible()
    assert_fits_width(page)
    screenshot(page, "driver-apply-error")
    page.get_by_label("Password").fill("a-long-pass-phrase-42")
    page.get_by_label("Photo of your driving licence").set_input_files(str(photo))
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/driver/")
    assert page.get_by_text("We're reviewing your application").is_visible()
    assert page.get_by_role("button", name="Go online").count() == 0
    screenshot(page, "driver-pending")
