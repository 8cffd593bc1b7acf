"""axe-core scans every main page of each portal at 360 px: no violation of impact "serious"
or "critical" (issue #11).

axe-core comes from npm (package.json / package-lock.json; `make test` runs `npm ci`). Each
party gets one logged-in browser context and walks its pages; the violations of all pages
are gathered and reported together, so one run shows everything that is wrong. Each page is
scanned as loaded, in the state a person would meet it (results shown, an item in the cart,
an offer waiting, an order on the board).
"""

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse

from orders.permissions import Actor
from retailers import clock
from tests import factories as f
from tests.browser.test_login_and_homes import with_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
MORNING_IN_VEGAS = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)  # 10:00, before cut-off

RUN_AXE = """async (exclude) => {
  const result = await axe.run({exclude}, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.flat().join(" "), summary: n.failureSummary})),
  }));
}"""


@pytest.fixture(scope="session")
def axe_js():
    """Fails (never skips) without axe-core: a fresh clone's `make test` installs it."""
    if not AXE_JS.exists():
        pytest.fail(
            f"axe-core is missing ({AXE_JS.relative_to(AXE_JS.parents[2])}): run "
            "`npm ci --no-audit --no-fund` at the top of the repository (make test does it "
            "when npm is installed; Node.js 20 and npm are needed)."
        )
    return AXE_JS


@pytest.fixture
def morning():
    # Global source: the live server's thread reads it too.
    with clock.frozen_at(MORNING_IN_VEGAS):
        yield


class Scanner:
    """One phone-sized context for one party; `scan` records what axe finds on a page."""

    def __init__(self, browser, live_server, axe_js):
        # The app's CSP allows only its own scripts with a nonce; axe is injected inline.
        self.context = browser.new_context(
            viewport={"width": 360, "height": 780}, device_scale_factor=1, bypass_csp=True
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.base = live_server.url
        self.axe_js = str(axe_js)
        self.found: list[tuple[str, str, dict]] = []
        self.pages: list[str] = []

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"

    def submit(self, button: str, *, expect_errors: bool = False) -> None:
        """Press a form's button and wait for the page the server sends back."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()
        if expect_errors:  # the form came back with its errors shown
            assert self.page.locator(".error, .errorlist").first.is_visible(), (
                f"{button}: no error shown"
            )

    def scan(self, name: str, exclude: tuple[str, ...] = ()) -> None:
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=self.axe_js)
        path = page.url.removeprefix(self.base)
        self.pages.append(name)
        for violation in page.evaluate(RUN_AXE, list(exclude)):
            self.found.append((name, path, violation))

    def visit(self, name: str, path: str) -> None:
        self.goto(path)
        self.scan(name)

    def log_in(self, username: str) -> None:
        self.goto(reverse("login"))
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill("mallrun")
        self.page.keyboard.press("Enter")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)

    def assert_no_serious_violations(self) -> None:
        blocking = [item for item in self.found if item[2]["impact"] in BLOCKING]
        lines = []
        for name, path, v in blocking:
            lines.append(f"{name} ({path}): {v['id']} [{v['impact']}] {v['help']}")
            for node in v["nodes"][:6]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}  -- {summary[:200]}")
            if len(v["nodes"]) > 6:
                lines.append(f"    … and {len(v['nodes']) - 6} more")
        assert self.pages  # the walk did scan pages
        if blocking:
            pytest.fail(
                f"{len(blocking)} serious/critical accessibility violation(s) on "
                f"{len({b[0] for b in blocking})} of {len(self.pages)} pages:\n" + "\n".join(lines),
                pytrace=False,
            )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def scanner(browser, live_server, axe_js):
    scanner = Scanner(browser, live_server, axe_js)
    yield scanner
    scanner.close()


def test_shopper_pages(morning, scanner, shopper, stock, other_stock, driver, place_order):
    with_password(shopper.user)
    tracked = place_order(stock)
    s = scanner
    s.visit("log in", reverse("login"))
    s.visit("sign up", reverse("shop:signup"))
    s.visit("home", reverse("shop:home"))
    s.page.get_by_label("Delivery ZIP code").fill("89109")
    s.page.keyboard.press("Enter")
    s.page.wait_for_url("**/shop/")
    s.page.get_by_text("2 items in stock").wait_for()
    s.scan("availability with results")
    s.visit("product", reverse("shop:product", args=[stock.product.pk]))
    s.submit("Add to cart")
    s.visit("cart with an item", reverse("shop:cart"))

    s.log_in(shopper.user.username)
    s.visit("checkout", reverse("shop:checkout"))
    s.submit("Place order", expect_errors=True)  # empty form: the errors
    s.scan("checkout with errors")
    s.visit("tracking", reverse("shop:track", args=[tracked.group]))
    s.visit("my orders", reverse("orders:mine"))
    s.visit("order detail", reverse("orders:detail", args=[tracked.number]))
    s.assert_no_serious_violations()


def test_store_portal_pages(morning, scanner, manager, stock, place_order, advance):
    from orders.models import WebhookEndpoint

    store = stock.store
    slug = store.slug
    placed = place_order(stock)
    accepted = advance(place_order(stock), "accepted")
    ready = advance(place_order(stock), "ready")
    advance(place_order(stock), "delivered")
    advance(place_order(stock), "rejected")
    endpoint = WebhookEndpoint.objects.create(
        retailer=store.retailer, url="https://example.com/hooks", secret="whsec_dGVzdHNlY3JldA=="
    )

    s = scanner
    s.log_in(with_password(manager).username)
    s.visit("board", reverse("store:board", args=[slug]))
    s.visit("order: new", reverse("store:order", args=[slug, placed.number]))
    s.visit("order: pick list", reverse("store:order", args=[slug, accepted.number]))
    s.page.get_by_role("button", name=f"Tick {stock.product.title} as picked").click()
    s.page.get_by_role("button", name=f"Picked: {stock.product.title}").wait_for()  # by htmx
    s.scan("order: pick list, a line picked")
    s.visit("order: hand-over", reverse("store:order", args=[slug, ready.number]))
    s.visit("printable pick list", reverse("store:pick_list", args=[slug, accepted.number]))
    s.visit("catalog", reverse("store:catalog", args=[slug]))
    s.visit("product edit", reverse("store:product", args=[slug, stock.product.pk]))
    s.submit("Adjust stock", expect_errors=True)  # nothing filled in
    s.scan("stock change with errors")
    s.visit("new product", reverse("store:product_new", args=[slug]))
    s.visit("catalog import", reverse("store:catalog_import", args=[slug]))
    s.visit("settings", reverse("store:settings", args=[slug]))
    s.visit("staff", reverse("store:staff", args=[slug]))
    s.visit("reports", reverse("store:reports", args=[slug]))
    s.visit("integrations", reverse("store:integrations", args=[slug]))
    s.visit("webhook endpoint", reverse("store:endpoint", args=[slug, endpoint.pk]))
    s.assert_no_serious_violations()


def test_driver_pages(morning, scanner, mall, driver, stock, place_order, advance, system):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.services import order_pick_up

    past = advance(place_order(stock, tips_cents={stock.store_id: 300}), "delivered")
    order = advance(place_order(stock), "ready")
    route = route_plan(mall=mall, orders=[order], actor=system)
    offer = route_offer(route=route, driver=driver, actor=system, expires_in_seconds=600)
    f.BlockFactory(mall=mall)

    s = scanner
    s.visit("apply", reverse("driver:apply"))
    s.submit("Apply", expect_errors=True)  # empty form: the errors
    s.scan("apply with errors")
    s.log_in(with_password(driver.user).username)
    s.visit("home with an offer", reverse("driver:home"))
    s.visit("offer", reverse("driver:offer", args=[offer.pk]))
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    route.refresh_from_db()
    s.visit("route: to the mall", reverse("driver:route"))
    order_pick_up(order=order, actor=system, handover_code=route.handover_code)
    s.visit("route: delivering", reverse("driver:route"))
    dropoff = route.stops.get(kind="dropoff")
    s.visit("drop-off", reverse("driver:stop", args=[dropoff.pk]))
    s.visit("past route", reverse("driver:route_detail", args=[past.route_stops.first().route_id]))
    s.visit("blocks", reverse("driver:blocks"))
    s.visit("earnings", reverse("driver:earnings"))
    s.assert_no_serious_violations()


def test_ops_pages(morning, scanner, ops_user, mall, stock, place_order, advance, driver, system):
    from drivers.services import route_plan

    applicant = f.DriverFactory(status="pending", home_mall=mall)
    late = advance(place_order(stock), "ready")
    late.promised_by = MORNING_IN_VEGAS - dt.timedelta(minutes=10)
    late.save(update_fields=["promised_by"])
    route = route_plan(mall=mall, orders=[late], actor=system)
    place_order(stock)
    advance(place_order(stock), "delivered")

    s = scanner
    s.log_in(with_password(ops_user).username)
    s.visit("board", reverse("ops:board", args=[mall.slug]))
    s.visit("order intervention: cancel", reverse("ops:order_cancel", args=[late.number]))
    s.submit("Cancel the order", expect_errors=True)  # no reason: the errors
    s.scan("cancel with errors")
    s.visit("route intervention: reassign", reverse("ops:route_reassign", args=[route.pk]))
    s.visit("route intervention: boost", reverse("ops:route_boost", args=[route.pk]))
    s.visit("drivers", reverse("ops:drivers"))
    s.visit("driver review", reverse("ops:driver_review", args=[applicant.pk]))
    s.visit("audit", reverse("ops:audit"))
    s.visit("metrics", reverse("ops:metrics", args=[mall.slug]))
    s.assert_no_serious_violations()


def test_api_docs_page(scanner):
    """Our page around the vendored Swagger UI (drf-spectacular-sidecar) is checked; the UI
    it renders into #swagger-ui is left out: its own contrast and nested-control findings
    are upstream's (swagger-api/swagger-ui), not something our templates can fix."""
    s = scanner
    s.goto(reverse("api:docs"))
    s.page.get_by_role("heading", name="Mallrun API").wait_for()
    s.scan("API docs", exclude=("#swagger-ui",))
    s.assert_no_serious_violations()
