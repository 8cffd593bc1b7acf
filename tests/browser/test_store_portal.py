"""Store staff run an order end to end at 360 px and at tablet width, by the page alone:
a new order appears on the board without a reload (seen and heard), they accept it, tick the
pick list, mark it ready and hand it over with the driver's code; a CSV import with one bad
row shows the row report. Screenshots of each portal page go to docs/screenshots/."""

import pytest

from orders.permissions import Actor
from tests.browser.conftest import assert_fits_width, screenshot
from tests.browser.test_login_and_homes import log_in, with_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": (360, 780), "tablet": (800, 1100)}


@pytest.fixture(params=list(WIDTHS))
def page(request, browser):
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.width_name = "" if request.param == "phone" else "-tablet"
    yield page
    context.close()


def shot(page, name):
    assert_fits_width(page)
    screenshot(page, f"store-{name}{page.width_name}")


def test_an_order_from_the_board_to_the_driver(
    page, live_server, settings, manager, stock, place_order, driver
):
    from drivers.services import offer_accept, route_offer, route_plan

    settings.MALLRUN_BOARD_POLL_SECONDS = 1
    stock.store.pickup_instructions = "Staff door by the fountain, ring twice."
    stock.store.save()
    log_in(page, live_server, with_password(manager).username)
    assert page.get_by_role("heading", name=stock.store.name).is_visible()
    page.get_by_role("button", name="Turn on sound alerts").click()
    beeps_before = page.evaluate("window.mallrunBeeps || 0")

    order = place_order(stock, quantity=2)
    card = page.get_by_role("link", name=order.number)
    card.wait_for()  # arrives by polling, no reload
    alert = page.locator("#new-order-alert")
    assert alert.is_visible() and order.number in alert.inner_text()
    assert page.evaluate("window.mallrunBeeps || 0") > beeps_before
    shot(page, "board")

    card.click()
    page.get_by_label("Ready in (minutes)").fill("12")
    shot(page, "order")
    page.get_by_role("button", name="Accept order").click()
    page.get_by_role("heading", name="Pick list").wait_for()

    page.get_by_role("button", name=f"Tick {order.lines.get().title} as picked").click()
    page.get_by_role("button", name=f"Picked: {order.lines.get().title}").wait_for()  # by htmx
    shot(page, "pick")
    page.get_by_role("link", name="Printable pick list").click()
    assert page.get_by_role("cell", name=order.lines.get().sku).is_visible()
    shot(page, "pick-list")
    page.go_back()

    page.get_by_label("Bags").fill("2")
    page.get_by_role("button", name="Mark ready for the driver").click()
    page.get_by_role("heading", name="Hand over").wait_for()

    route = route_plan(mall=stock.store.mall, orders=[order], actor=Actor.system())
    offer = route_offer(route=route, driver=driver, actor=Actor.system())
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    route.refresh_from_db()

    wrong = "000000" if route.handover_code != "000000" else "111111"
    page.get_by_label("Driver's code").fill(wrong)
    page.get_by_role("button", name="Hand over").click()
    assert page.get_by_text("doesn't match").is_visible()
    shot(page, "handover-wrong-code")
    page.get_by_label("Driver's code").fill(route.handover_code)
    page.get_by_role("button", name="Hand over").click()
    assert page.get_by_text("handed over to the driver").is_visible()
    order.refresh_from_db()
    assert order.status == "picked_up"
    page.get_by_role("link", name="All orders").click()
    assert page.get_by_role("heading", name="Handed over today").is_visible()


def test_a_csv_import_with_a_bad_row_shows_the_report(page, live_server, manager, stock, tmp_path):
    log_in(page, live_server, with_password(manager).username)
    page.get_by_role("link", name="Catalog").click()
    shot(page, "catalog")
    page.get_by_role("link", name=stock.product.title).click()
    shot(page, "product")
    page.get_by_role("link", name="Catalog").first.click()
    page.get_by_role("link", name="Import CSV").click()
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text(
        "sku,title,price,category,quantity\nB-1,Brush,4.00,Hair,3\nB-2,Comb,four,Hair,2\n"
    )
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Preview import").click()
    report = page.locator("table.row-report")
    assert "Price “four”" in report.inner_text()
    assert "3" in report.inner_text()  # the line number
    shot(page, "import-preview")
    page.get_by_label("Skip the 1 bad row and import the rest").check()
    page.get_by_role("button", name="Apply import").click()
    assert page.get_by_text("1 new").is_visible()


def test_manager_pages_look_right(
    page, live_server, manager, associate, stock, place_order, advance
):
    advance(place_order(stock), "delivered")
    advance(place_order(stock), "rejected")
    log_in(page, live_server, with_password(manager).username)
    for link, name in [("Settings", "settings"), ("Staff", "staff"), ("Reports", "reports")]:
        page.get_by_role("link", name=link, exact=True).click()
        page.wait_for_load_state("networkidle")
        shot(page, name)


def test_a_kept_board_page_runs_its_scripts_and_shows_new_orders(
    page, live_server, settings, manager, stock, place_order
):
    """With the shared renders on (as in production), the page frame comes from memory on
    the second visit: its nonce must still let htmx run and the poll must still bring a new
    order in."""
    settings.MALLRUN_BOARD_CACHE_SECONDS = 30
    settings.MALLRUN_BOARD_POLL_SECONDS = 1
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    log_in(page, live_server, with_password(manager).username)
    page.reload()  # the frame kept from the first visit
    assert page.evaluate("typeof window.htmx") == "object"
    order = place_order(stock)
    page.get_by_role("link", name=order.number).wait_for()
    assert refused == []
