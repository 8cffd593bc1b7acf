"""The permission matrix: every URL of every portal and of the API, requested as every party.

Each row of MATRIX names a URL pattern, the method, the objects that fill its arguments and
who gets through. Everyone else gets the row's refusal: a redirect to log in (a 401 from the
API), or a 403/404. `test_every_url_pattern_has_a_row` walks the root resolver, so a URL
added later without a row here makes the suite fail.

The objects in the URLs belong to the allowed party: store A's order, the shopper's tracking
page, the driver's offer and route, retailer A's webhook endpoint. So "other_staff gets 404"
means staff of store B asked for store A's order, "other_driver gets 404" means another driver
asked for this driver's route, and so on. `test_own_portal_with_another_partys_object` then
puts the other party's object into a URL the party may otherwise use (store A's slug with
store B's order number, retailer A's key with store B's id).

A refused or log-in-required request must change nothing: it may run no INSERT, UPDATE or
DELETE at all (the session and a key's last-used time aside). Each request runs in a savepoint
that is rolled back, so an allowed POST (an empty form gets a 400 or a redirect with a message;
that is "through the permission check") does not change what the next request sees.

Parties: anonymous, the shopper and another shopper, an associate and a manager of store A,
staff of store B (another retailer), the driver and another driver, ops (is_staff), and API
keys: retailer A's, retailer B's, a partner's and a partner's test-mode key (all scopes), and
one retailer A key per scope; and each driver's app token, which stands for its driver on the
driver endpoints. Portal pages know nothing of Bearer headers: a key there is anonymous.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from drivers.models import Offer, Route, RouteStop
from drivers.services import block_book, route_offer, route_plan
from orders.api.auth import api_key_create, driver_token_create
from orders.cart import cart_add
from orders.models import ApiScope, Cart, Order
from orders.permissions import Actor
from orders.quotes import quote_create
from orders.services import CartItem, checkout_place, order_accept, order_mark_ready
from orders.webhooks import webhook_endpoint_create, webhook_send_test
from retailers import clock
from retailers.models import Stock, StoreClosure, StoreMembership
from retailers.sandbox import TEST_ADDRESS, ensure_sandbox
from tests import factories as f

# Tuesday 11:00 in Las Vegas: stores open, before the same-day cut-off; offers never expire
# while the clock stands still.
NOW = dt.datetime(2026, 11, 24, 19, 0, tzinfo=dt.UTC)
SANDBOX_ADDRESS = {
    k: TEST_ADDRESS[k] for k in ("city", "state", "zip_code", "latitude", "longitude")
}

# --- Parties --------------------------------------------------------------------------------

ANON = "anonymous"
SESSION_PARTIES = (
    ANON,
    "shopper",
    "other_shopper",
    "associate",
    "manager",
    "other_staff",
    "driver",
    "other_driver",
    "ops",
)
FULL_KEYS = ("key_a", "key_b", "key_partner", "key_test")
SCOPE_KEYS = tuple(f"key[{scope}]" for scope in ApiScope.values)
KEY_PARTIES = FULL_KEYS + SCOPE_KEYS
# The driver app's sign-in (Bearer mrd_…): on the driver endpoints a token stands for its driver.
TOKEN_OF = {"driver_token": "driver", "other_driver_token": "other_driver"}
TOKEN_PARTIES = tuple(TOKEN_OF)
BEARER_PARTIES = KEY_PARTIES + TOKEN_PARTIES
PARTIES = SESSION_PARTIES + BEARER_PARTIES

EVERYONE = frozenset(PARTIES)
SIGNED_IN = frozenset(SESSION_PARTIES) - {ANON}
MEMBERS_A = frozenset({"manager", "associate"})
DRIVERS = frozenset({"driver", "other_driver"})


def keys(scope: str, reach: tuple[str, ...] = FULL_KEYS) -> frozenset[str]:
    """Keys with `scope` that reach the object: the full keys in `reach`, plus retailer A's
    single-scope key when retailer A's key reaches it."""
    single = {f"key[{scope}]"} if "key_a" in reach else set()
    return frozenset(reach) | single


# --- Outcomes ---------------------------------------------------------------------------------

OK = "allowed"  # 2xx, or a redirect that is not to a login page; a POST: not 401/403/404/405
LOGIN = "login"  # to the login page (the admin's for the admin), 401 from the API
REFUSED = "refused"  # 403 or 404
UNCHANGED = "unchanged"  # answered (no 4xx) but nothing changed: not found in one's own cart


def surface(name: str) -> str:
    if name.startswith("admin:"):
        return "admin"
    if name in ("api:schema", "api:docs", "api:redoc", "api:not_found", "api:driver_tokens"):
        return "open-api"
    if name.startswith("api:driver_"):
        return "driver-api"  # the driver's session or a driver token
    if name.startswith("api:"):
        return "key-api"
    return "portal"


@dataclass(frozen=True)
class Row:
    name: str
    method: str = "GET"
    kwargs: Callable[[Scenario], dict] = lambda s: {}
    allow: frozenset[str] = frozenset()
    anon: str = LOGIN  # anonymous visitors (and Bearer parties on portal pages)
    others: str = REFUSED  # signed-in parties (keys on the key API) not in `allow`
    data: Callable[[Scenario], dict] | dict | None = None
    query: dict | None = None
    override: dict[str, str] = field(default_factory=dict)

    def expected(self, party: str) -> str:
        if party in self.override:
            return self.override[party]
        if party in self.allow:
            return OK
        where = surface(self.name)
        if where == "key-api":
            return self.others if party in KEY_PARTIES else LOGIN
        if where == "driver-api":
            if party in TOKEN_OF:
                return self.expected(TOKEN_OF[party])
            return LOGIN if party == ANON or party in KEY_PARTIES else self.others
        if where == "open-api":
            return self.anon
        if party == ANON or party in BEARER_PARTIES:
            return self.anon
        return self.others

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


def store_a(**more) -> Callable:
    return lambda s: {"slug": s.store.slug, **{k: v(s) for k, v in more.items()}}


def order_a(**more) -> Callable:
    return store_a(number=lambda s: s.order_a.number, **more)


def api_store_a(**more) -> Callable:
    return lambda s: {"store_id": s.store.pk, **{k: v(s) for k, v in more.items()}}


def api_order_a(**more) -> Callable:
    return api_store_a(number=lambda s: s.order_a.number, **more)


REASON = {"reason": "Checked by the permission matrix"}

STOREFRONT = [
    Row("shop:home", allow=EVERYONE),
    Row("shop:availability", query={"zip": "89109"}, allow=EVERYONE),
    Row("shop:product", kwargs=lambda s: {"pk": s.product_a.pk}, allow=EVERYONE),
    Row("shop:cart", allow=EVERYONE),
    Row("shop:cart_add", "POST", allow=EVERYONE),
    # Another person's cart line is simply not in one's own cart: a message, nothing changes.
    Row(
        "shop:cart_update",
        "POST",
        kwargs=lambda s: {"line_id": s.cart_line.pk},
        data={"quantity": 0},
        allow=frozenset({"shopper"}),
        anon=UNCHANGED,
        others=UNCHANGED,
    ),
    Row("shop:checkout", allow=SIGNED_IN),
    Row("shop:checkout", "POST", allow=SIGNED_IN),
    Row("shop:track", kwargs=lambda s: {"group": s.order_a.group}, allow=frozenset({"shopper"})),
    Row(
        "shop:cancel",
        "POST",
        kwargs=lambda s: {"number": s.order_a.number},
        allow=frozenset({"shopper"}),
    ),
    Row(
        "shop:proof",
        kwargs=lambda s: {"number": s.order_done.number},
        allow=frozenset({"shopper"}),
    ),
    Row("shop:signup", allow=EVERYONE),
    Row("home", allow=SIGNED_IN),
    Row("login", allow=EVERYONE),
    Row("logout", "POST", allow=EVERYONE),
    Row("password_reset", allow=EVERYONE),
    Row("password_reset_done", allow=EVERYONE),
    Row(
        "password_reset_confirm",
        kwargs=lambda s: {"uidb64": "MQ", "token": "not-a-token"},
        allow=EVERYONE,
    ),
    Row("password_reset_complete", allow=EVERYONE),
    Row("health", allow=EVERYONE),
    Row("health_web", allow=EVERYONE),
    Row("orders:mine", allow=SIGNED_IN),
    Row(
        "orders:detail",
        kwargs=lambda s: {"number": s.order_a.number},
        # the shopper is sent on to the tracking page; the driver holds the order's route
        allow=MEMBERS_A | {"shopper", "driver", "ops"},
    ),
]

MANAGER = frozenset({"manager"})
STORE_PORTAL = [
    Row("store:home", allow=MEMBERS_A | {"other_staff"}),  # each lands on their own store
    Row("store:board", kwargs=store_a(), allow=MEMBERS_A),
    Row("store:order", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:pick_list", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:order_accept", "POST", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:order_reject", "POST", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:order_ready", "POST", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:order_handover", "POST", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:order_return", "POST", kwargs=order_a(), allow=MEMBERS_A),
    Row("store:line_pick", "POST", kwargs=order_a(line_id=lambda s: s.line_a.pk), allow=MEMBERS_A),
    Row(
        "store:line_unavailable",
        "POST",
        kwargs=order_a(line_id=lambda s: s.line_a.pk),
        allow=MEMBERS_A,
    ),
    # Catalog, settings, staff, reports and integrations: managers only (associates get 403).
    Row("store:catalog", kwargs=store_a(), allow=MANAGER),
    Row("store:product_new", kwargs=store_a(), allow=MANAGER),
    Row("store:product_new", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:catalog_export", kwargs=store_a(), allow=MANAGER),
    Row("store:catalog_import", kwargs=store_a(), allow=MANAGER),
    Row("store:catalog_import", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:product", kwargs=store_a(pk=lambda s: s.product_a.pk), allow=MANAGER),
    Row("store:product", "POST", kwargs=store_a(pk=lambda s: s.product_a.pk), allow=MANAGER),
    Row("store:stock_adjust", "POST", kwargs=store_a(pk=lambda s: s.product_a.pk), allow=MANAGER),
    Row("store:settings", kwargs=store_a(), allow=MANAGER),
    Row("store:settings", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:pause", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:resume", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:closure_add", "POST", kwargs=store_a(), allow=MANAGER),
    Row(
        "store:closure_remove",
        "POST",
        kwargs=store_a(pk=lambda s: s.closure_a.pk),
        allow=MANAGER,
    ),
    Row("store:staff", kwargs=store_a(), allow=MANAGER),
    Row("store:staff_add", "POST", kwargs=store_a(), allow=MANAGER),
    Row(
        "store:staff_change",
        "POST",
        kwargs=store_a(pk=lambda s: s.associate_membership.pk),
        allow=MANAGER,
    ),
    Row(
        "store:staff_remove",
        "POST",
        kwargs=store_a(pk=lambda s: s.associate_membership.pk),
        allow=MANAGER,
    ),
    Row("store:reports", kwargs=store_a(), allow=MANAGER),
    Row("store:integrations", kwargs=store_a(), allow=MANAGER),
    Row("store:key_create", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:key_revoke", "POST", kwargs=store_a(pk=lambda s: s.key_a.pk), allow=MANAGER),
    Row("store:endpoint_create", "POST", kwargs=store_a(), allow=MANAGER),
    Row("store:endpoint", kwargs=store_a(pk=lambda s: s.endpoint_a.pk), allow=MANAGER),
    Row(
        "store:endpoint_rotate",
        "POST",
        kwargs=store_a(pk=lambda s: s.endpoint_a.pk),
        allow=MANAGER,
    ),
    Row(
        "store:endpoint_test",
        "POST",
        kwargs=store_a(pk=lambda s: s.endpoint_a.pk),
        allow=MANAGER,
    ),
    Row(
        "store:delivery_redeliver",
        "POST",
        kwargs=store_a(pk=lambda s: s.delivery_a.pk),
        allow=MANAGER,
    ),
]

DRIVER = frozenset({"driver"})
DRIVER_PORTAL = [
    Row("driver:home", allow=DRIVERS),
    Row("driver:apply", allow=EVERYONE),  # drivers are sent to their home page
    Row("driver:apply", "POST", allow=EVERYONE),
    Row("driver:online", "POST", allow=DRIVERS),
    Row("driver:offline", "POST", allow=DRIVERS),
    Row("driver:location", "POST", allow=DRIVERS),
    Row("driver:offer", kwargs=lambda s: {"pk": s.offer_1.pk}, allow=DRIVER),
    Row(
        "driver:offer_answer",
        "POST",
        kwargs=lambda s: {"pk": s.offer_1.pk, "answer": "decline"},
        allow=DRIVER,
    ),
    Row("driver:route", allow=DRIVERS),  # a driver without a route is sent home
    Row("driver:route_detail", kwargs=lambda s: {"pk": s.route_1.pk}, allow=DRIVER),
    Row("driver:route_arrive", "POST", kwargs=lambda s: {"pk": s.route_1.pk}, allow=DRIVER),
    Row("driver:stop", kwargs=lambda s: {"pk": s.stop_1.pk}, allow=DRIVER),
    Row("driver:stop_deliver", "POST", kwargs=lambda s: {"pk": s.stop_1.pk}, allow=DRIVER),
    Row("driver:stop_fail", "POST", kwargs=lambda s: {"pk": s.stop_1.pk}, allow=DRIVER),
    Row("driver:stop_message", "POST", kwargs=lambda s: {"pk": s.stop_1.pk}, allow=DRIVER),
    Row("driver:blocks", allow=DRIVERS),
    Row("driver:block_book", "POST", kwargs=lambda s: {"pk": s.block.pk}, allow=DRIVERS),
    Row("driver:block_forfeit", "POST", kwargs=lambda s: {"pk": s.booking_1.pk}, allow=DRIVER),
    Row("driver:earnings", allow=DRIVERS),
    Row("driver:statement", kwargs=lambda s: {"week": "2026-11-23"}, allow=DRIVERS),
]

OPS = frozenset({"ops"})


def ops_rows(name: str, kwargs: Callable = lambda s: {}, *, confirm: bool = False) -> list[Row]:
    """Ops pages: 404 for everyone else, anonymous visitors included (no login prompt)."""
    rows = [Row(name, kwargs=kwargs, allow=OPS, anon=REFUSED)]
    if confirm:
        rows.append(Row(name, "POST", kwargs=kwargs, allow=OPS, anon=REFUSED))
    return rows


OPS_BOARD = [
    *ops_rows("ops:home"),
    *ops_rows("ops:board", lambda s: {"slug": s.mall.slug}),
    *ops_rows("ops:metrics", lambda s: {"slug": s.mall.slug}),
    *ops_rows("ops:redispatch", lambda s: {"slug": s.mall.slug}, confirm=True),
    *ops_rows("ops:order_cancel", lambda s: {"number": s.order_a.number}, confirm=True),
    *ops_rows("ops:route_reassign", lambda s: {"pk": s.route_1.pk}, confirm=True),
    *ops_rows("ops:route_boost", lambda s: {"pk": s.route_1.pk}, confirm=True),
    *ops_rows("ops:store_pause", lambda s: {"pk": s.store.pk}, confirm=True),
    *ops_rows("ops:store_resume", lambda s: {"pk": s.store.pk}, confirm=True),
    *ops_rows("ops:drivers"),
    *ops_rows("ops:driver_review", lambda s: {"pk": s.driver.pk}, confirm=True),
    *ops_rows("ops:audit"),
    # Licences and delivery photos (private storage): ops only, 404 for everyone else.
    *ops_rows("private_media", lambda s: {"path": s.order_done.proof.photo.name}),
]

A_ONLY = ("key_a",)
A_AND_PARTNER = ("key_a", "key_partner")  # order_p: the partner placed it at store A
API = [
    Row("api:schema", allow=EVERYONE, anon=OK),
    Row("api:docs", allow=EVERYONE, anon=OK),
    Row("api:redoc", allow=EVERYONE, anon=OK),
    Row("api:availability", query={"zip_code": "89109"}, allow=keys(ApiScope.AVAILABILITY_READ)),
    Row("api:quotes", "POST", allow=keys(ApiScope.QUOTES_WRITE)),
    Row("api:orders", allow=keys(ApiScope.ORDERS_READ)),
    Row("api:orders", "POST", allow=keys(ApiScope.ORDERS_WRITE)),
    Row(
        "api:order",
        kwargs=lambda s: {"number": s.order_p.number},
        allow=keys(ApiScope.ORDERS_READ, A_AND_PARTNER),
    ),
    Row(
        "api:order_cancel",
        "POST",
        kwargs=lambda s: {"number": s.order_p.number},
        data=REASON,
        allow=keys(ApiScope.ORDERS_WRITE, A_AND_PARTNER),
    ),
    Row("api:inventory", "PUT", kwargs=api_store_a(), allow=keys(ApiScope.INVENTORY_WRITE, A_ONLY)),
    Row("api:store_orders", kwargs=api_store_a(), allow=keys(ApiScope.STORE_ORDERS_WRITE, A_ONLY)),
    *(
        Row(
            f"api:store_order_{action}",
            "POST",
            kwargs=api_order_a(),
            data=body,
            allow=keys(ApiScope.STORE_ORDERS_WRITE, A_ONLY),
        )
        for action, body in [
            ("accept", {}),
            ("reject", REASON),
            ("ready", {}),
            ("hand_over", {"handover_code": "000000"}),
            ("return", REASON),
        ]
    ),
    Row(
        "api:store_order_line_unavailable",
        "POST",
        kwargs=api_order_a(line_id=lambda s: s.line_a.pk),
        allow=keys(ApiScope.STORE_ORDERS_WRITE, A_ONLY),
    ),
    # Live keys don't reach the sandbox; the test-mode key reaches its own test orders.
    Row(
        "api:sandbox_advance",
        "POST",
        kwargs=lambda s: {"number": s.order_t.number},
        allow=frozenset({"key_test"}),
    ),
    Row("api:driver_tokens", "POST", allow=EVERYONE, anon=OK),
    # Signing the app out takes the token itself; a session is not a token.
    Row(
        "api:driver_token_current",
        "DELETE",
        allow=frozenset(TOKEN_PARTIES),
        override=dict.fromkeys(SESSION_PARTIES, LOGIN),
    ),
    Row("api:driver_offers", allow=DRIVERS),
    Row("api:driver_offer_accept", "POST", kwargs=lambda s: {"pk": s.offer_1.pk}, allow=DRIVER),
    Row("api:driver_offer_decline", "POST", kwargs=lambda s: {"pk": s.offer_1.pk}, allow=DRIVER),
    Row("api:driver_routes", allow=DRIVERS),
    Row("api:driver_route", kwargs=lambda s: {"pk": s.route_1.pk}, allow=DRIVER),
    Row("api:driver_route_arrive", "POST", kwargs=lambda s: {"pk": s.route_1.pk}, allow=DRIVER),
    Row("api:driver_stop_deliver", "POST", kwargs=lambda s: {"pk": s.stop_1.pk}, allow=DRIVER),
    Row(
        "api:driver_stop_fail",
        "POST",
        kwargs=lambda s: {"pk": s.stop_1.pk},
        data=REASON,
        allow=DRIVER,
    ),
    Row("api:webhook_endpoints", allow=keys(ApiScope.WEBHOOKS_WRITE)),
    Row("api:webhook_endpoints", "POST", allow=keys(ApiScope.WEBHOOKS_WRITE)),
    *(
        Row(
            name,
            "POST",
            kwargs=lambda s: {"pk": s.endpoint_a.pk},
            allow=keys(ApiScope.WEBHOOKS_WRITE, A_ONLY),
        )
        for name in (
            "api:webhook_endpoint_test",
            "api:webhook_endpoint_rotate",
            "api:webhook_endpoint_enable",
        )
    ),
    Row("api:webhook_deliveries", allow=keys(ApiScope.WEBHOOKS_WRITE)),
    Row(
        "api:webhook_redeliver",
        "POST",
        kwargs=lambda s: {"pk": s.delivery_a.pk},
        allow=keys(ApiScope.WEBHOOKS_WRITE, A_ONLY),
    ),
    # Any other path under /api/v1/: a problem-body 404 for everyone.
    Row("api:not_found", anon=REFUSED),
]

# The admin has hundreds of patterns; a few stand for all of them, with Django's rule that
# anyone who is not staff is sent to the admin's login. Staff without a model permission
# (our ops user has none) see the index but get 403 on that model's pages.
ADMIN_NOT_OPS = {"ops": REFUSED}
ADMIN = [
    Row("admin:index", allow=OPS, others=LOGIN),
    Row("admin:orders_order_changelist", others=LOGIN, override=ADMIN_NOT_OPS),
    Row(
        "admin:orders_order_change",
        kwargs=lambda s: {"object_id": s.order_a.pk},
        others=LOGIN,
        override=ADMIN_NOT_OPS,
    ),
]

MATRIX: list[Row] = [*STOREFRONT, *STORE_PORTAL, *DRIVER_PORTAL, *OPS_BOARD, *API, *ADMIN]

# Patterns that `reverse` can't build with kwargs (the API's catch-all).
RAW_PATHS = {"api:not_found": "/api/v1/no-such-endpoint/"}


# --- The scenario -------------------------------------------------------------------------------


class Scenario:
    """The named actors of tests/conftest.py plus one object of every kind, each belonging to
    a known party. Attributes are set by the `scenario` fixture."""

    users: dict
    raw_keys: dict


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def scenario(
    frozen,
    mall,
    store,
    other_store,
    stock,
    other_stock,
    shopper,
    other_shopper,
    address,
    manager,
    associate,
    other_staff,
    ops_user,
    driver,
    other_driver,
    place_order,
    advance,
    system,
):
    s = Scenario()
    s.mall, s.store, s.other_store, s.driver = mall, store, other_store, driver
    s.product_a, s.product_b = stock.product, other_stock.product

    # The shopper's delivered order, with a door photo only they may see; then the order the
    # driver is carrying now (route_1, offer_1, stop_1).
    s.order_done = advance(place_order(stock), "delivered")
    s.order_done.proof.photo.save("door.jpg", ContentFile(b"\xff\xd8\xff door"), save=True)
    s.order_a = advance(place_order(stock), "picked_up")
    s.line_a = s.order_a.lines.get()
    s.route_1 = Route.objects.get(driver=driver, status__in=Route.HELD_STATUSES)
    s.offer_1 = s.route_1.offers.get(driver=driver)
    s.stop_1 = s.route_1.stops.get(kind=RouteStop.Kind.DROPOFF, order=s.order_a)

    # Another shopper's order at store B, offered to the other driver (route_2, offer_2).
    (s.order_b,) = checkout_place(
        actor=Actor.shopper(other_shopper.user),
        shopper=other_shopper,
        address=f.AddressFactory(shopper=other_shopper),
        recipient_name="Bob Shopper",
        items=[CartItem(other_stock.store_id, other_stock.product_id, 1)],
    )
    order_accept(order=s.order_b, actor=system)
    order_mark_ready(order=s.order_b, actor=system)
    s.line_b = s.order_b.lines.get()
    s.route_2 = route_plan(mall=mall, orders=[s.order_b], actor=system)
    s.offer_2 = route_offer(route=s.route_2, driver=other_driver, actor=system)
    s.stop_2 = s.route_2.stops.get(kind=RouteStop.Kind.DROPOFF)
    assert s.offer_2.status == Offer.Status.PENDING

    # A partner's order at store A, and the same partner's order in the sandbox mall (made
    # here, so the test-mode key's first request has nothing to set up).
    def partner_order(stock_row, test_mode=False, **address) -> Order:
        (order,) = checkout_place(
            actor=Actor.api("acme", partner="acme"),
            address=f.AddressFactory(shopper=None, **address),
            recipient_name="Pat Partner",
            items=[CartItem(stock_row.store_id, stock_row.product_id, 1)],
            channel=Order.Channel.API,
            partner="acme",
            test_mode=test_mode,
        )
        return order

    s.order_p = partner_order(stock)
    s.sandbox_store = ensure_sandbox()
    sandbox_stock = Stock.objects.filter(store=s.sandbox_store).first()
    s.order_t = partner_order(sandbox_stock, test_mode=True, **SANDBOX_ADDRESS)

    every_scope = list(ApiScope.values)
    s.key_a, raw_a = api_key_create(name="A", scopes=every_scope, retailer=store.retailer)
    s.key_b, raw_b = api_key_create(name="B", scopes=every_scope, retailer=other_store.retailer)
    _, raw_partner = api_key_create(name="acme", scopes=every_scope, partner="acme")
    _, raw_test = api_key_create(
        name="acme sandbox", scopes=every_scope, partner="acme", test_mode=True
    )
    s.raw_keys = {"key_a": raw_a, "key_b": raw_b, "key_partner": raw_partner, "key_test": raw_test}
    for scope in ApiScope.values:
        _, s.raw_keys[f"key[{scope}]"] = api_key_create(
            name=scope, scopes=[scope], retailer=store.retailer
        )
    _, s.raw_keys["driver_token"] = driver_token_create(driver=driver, name="Dan's phone")
    _, s.raw_keys["other_driver_token"] = driver_token_create(driver=other_driver, name="Erin's")

    s.endpoint_a = webhook_endpoint_create(
        url="https://a.example.com/hooks", retailer=store.retailer
    )
    s.endpoint_b = webhook_endpoint_create(
        url="https://b.example.com/hooks", retailer=other_store.retailer
    )
    s.delivery_a = webhook_send_test(endpoint=s.endpoint_a)
    s.delivery_b = webhook_send_test(endpoint=s.endpoint_b)

    christmas = dt.date(2026, 12, 25)
    s.closure_a = StoreClosure.objects.create(store=store, starts_on=christmas, ends_on=christmas)
    s.closure_b = StoreClosure.objects.create(
        store=other_store, starts_on=christmas, ends_on=christmas
    )
    s.associate_membership = StoreMembership.objects.get(user=associate, store=store)
    s.other_membership = StoreMembership.objects.get(user=other_staff, store=other_store)

    s.block = f.BlockFactory(mall=mall, slots=3)
    s.booking_1 = block_book(block=s.block, driver=driver)
    s.booking_2 = block_book(block=s.block, driver=other_driver)

    s.quote_b = quote_create(
        store=other_store, latitude=36.14, longitude=-115.15, items=[[s.product_b.pk, 1]]
    )
    s.cart_line = cart_add(cart=Cart.objects.create(user=shopper.user), stock=stock, quantity=1)

    s.users = {
        "shopper": shopper.user,
        "other_shopper": other_shopper.user,
        "associate": associate,
        "manager": manager,
        "other_staff": other_staff,
        "driver": driver.user,
        "other_driver": other_driver.user,
        "ops": ops_user,
    }
    yield s
    s.order_done.proof.photo.delete(save=False)


# --- Requests and verdicts -------------------------------------------------------------------


class Caller:
    """One party's client. Each request starts from the party's own session cookie (a logout
    or a login in an earlier request is rolled back with its savepoint)."""

    def __init__(self, party: str, s: Scenario, **client_kwargs):
        self.client = Client(**client_kwargs)
        self.headers = {}
        if party in BEARER_PARTIES:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {s.raw_keys[party]}"
        elif party != ANON:
            self.client.force_login(s.users[party])
        self.cookies = {name: morsel.value for name, morsel in self.client.cookies.items()}

    def request(self, method: str, path: str, *, data=None, query=None, api: bool = False):
        self.client.cookies = SimpleCookie(self.cookies)
        if method == "GET":
            return self.client.get(path, query or {}, **self.headers)
        if api:
            body = json.dumps(data or {})
            return self.client.generic(
                method, path, body, content_type="application/json", **self.headers
            )
        return self.client.post(path, data or {}, **self.headers)


# Bookkeeping that any request may write: the session, when a key or token was last used,
# and the API throttle's count of requests in this window (refused ones count too).
BOOKKEEPING = re.compile(
    r'^(INSERT INTO|UPDATE|DELETE FROM) "(django_session|orders_websession)"'
    r'|^UPDATE "orders_(apikey|drivertoken)" SET "last_used_at" = [^,]+ WHERE'
    r"""|^INSERT INTO "orders_sharedcounter" \("key", "count", "expires_at"\) VALUES \('throttle_"""
)


@contextmanager
def writes() -> Iterator[list[str]]:
    """The INSERT, UPDATE and DELETE statements run inside the block, bookkeeping left out.
    A refused request must run none: nothing it could change is left to chance."""
    found: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        yield found
    for query in queries.captured_queries:
        sql = query["sql"].lstrip()
        verb = sql.split(None, 1)[0].upper() if sql else ""
        if verb in ("INSERT", "UPDATE", "DELETE") and not BOOKKEEPING.match(sql):
            found.append(sql[:160])


def is_login_redirect(response, login_path: str) -> bool:
    if response.status_code not in (301, 302, 303):
        return False
    location = urlsplit(response["Location"])
    return location.path == login_path and "next=" in location.query


def verdict(expected: str, row: Row, response) -> str | None:
    """None when the response is what `expected` means on this row's surface, else why not."""
    code = response.status_code
    login_path = reverse("admin:login") if row.name.startswith("admin:") else reverse("login")
    to_login = is_login_redirect(response, login_path)
    where = surface(row.name)
    if expected == OK:
        if to_login:
            return "was sent to log in"
        if row.method == "GET":
            ok = 200 <= code < 300 or code in (301, 302, 303)
        else:
            ok = code not in (401, 403, 404, 405)
    elif expected == LOGIN:
        ok = to_login if where in ("portal", "admin") else code == 401
    elif expected == REFUSED:
        ok = code in (403, 404)
    else:  # UNCHANGED
        ok = code < 400 and not to_login
    if ok:
        return None
    where_to = f" → {response['Location']}" if code in (301, 302, 303) else ""
    return f"got {code}{where_to}"


def path_for(row: Row, s: Scenario) -> str:
    if row.name in RAW_PATHS:
        return RAW_PATHS[row.name]
    return reverse(row.name, kwargs=row.kwargs(s))


def run(caller: Caller, row: Row, s: Scenario, expected: str):
    """Make the request in a savepoint that is rolled back; the list of what went wrong."""
    path = path_for(row, s)
    data = row.data(s) if callable(row.data) else row.data
    problems = []
    with transaction.atomic(), writes() as written:
        response = caller.request(
            row.method, path, data=data, query=row.query, api=row.name.startswith("api:")
        )
        transaction.set_rollback(True)
    why = verdict(expected, row, response)
    if why:
        problems.append(f"{row.method} {path} ({row.name}): expected {expected}, {why}")
    if expected != OK and written:
        problems.append(f"{row.method} {path} ({row.name}): as {expected}, wrote {written}")
    return problems, response


# --- Tests ------------------------------------------------------------------------------------


def _walk(patterns, namespace: str = "", prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            label = f"{namespace}{p.name}" if p.name else f"<unnamed {prefix}{p.pattern}>"
            yield namespace, label


def test_every_url_pattern_has_a_row():
    walked = list(_walk(get_resolver().url_patterns))
    assert walked, "the resolver gave no patterns"
    # Files under STATIC_URL and MEDIA_URL are public; they are routed only with DEBUG on.
    files = tuple(
        f"<unnamed {caret}{url.strip('/')}/"
        for url in (settings.STATIC_URL, settings.MEDIA_URL)
        for caret in ("", "^")
    )
    names = {label for _, label in walked if not label.startswith(files)}
    admin = {label for namespace, label in walked if namespace.startswith("admin:")}
    covered = {row.name for row in MATRIX}
    assert {row.name for row in ADMIN} <= admin, "the representative admin URLs must exist"
    missing = sorted(names - admin - covered)
    assert not missing, f"URL patterns without a row in the permission matrix: {missing}"
    stale = sorted(covered - names)
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"


def test_every_admin_changelist_sends_non_staff_to_the_admin_login(scenario):
    """The admin rule, over every registered model: not staff → the admin's login; staff
    without the model's permission (our ops user has none) → 403."""
    changelists = [
        Row(label, others=LOGIN, override={"ops": REFUSED})
        for namespace, label in _walk(get_resolver().url_patterns)
        if namespace == "admin:" and label.endswith("_changelist")
    ]
    assert len(changelists) > 20
    problems = []
    for party in (ANON, "shopper", "manager", "driver", "key_a", "ops"):
        caller = Caller(party, scenario)
        for row in changelists:
            problems += run(caller, row, scenario, row.expected(party))[0]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("party", PARTIES)
def test_permission_matrix(party, scenario):
    caller = Caller(party, scenario)
    problems = []
    for row in MATRIX:
        found, _ = run(caller, row, scenario, row.expected(party))
        problems += found
    assert not problems, f"as {party}:\n" + "\n".join(problems)


def test_the_matrix_says_something_about_each_party():
    """Guard against a matrix that allows everyone: every party is refused somewhere and
    allowed somewhere."""
    for party in PARTIES:
        outcomes = {row.expected(party) for row in MATRIX}
        assert OK in outcomes, party
        assert outcomes & {REFUSED, LOGIN}, party


# The party's own portal (store A's slug, its own driver pages, retailer A's key) with the
# other party's object in the URL: 404 and nothing changed.
def _store_a_with(**objects) -> Callable:
    return lambda s: {"slug": s.store.slug, **{k: v(s) for k, v in objects.items()}}


ORDER_B = lambda s: s.order_b.number  # noqa: E731
ORDER_TO = {
    "address": {"line1": "1 Main St", "city": "Las Vegas", "state": "NV", "zip_code": "89109"},
    "recipient": {"name": "Pat Partner"},
}
NEAR_SANDBOX = {"zip_code": TEST_ADDRESS["zip_code"]}
ORDER_BODY = {**ORDER_TO, "items": [{"sku": "ANY-1", "quantity": 1}]}
CROSS: dict[str, list[Row]] = {
    "manager": [
        Row("store:order", kwargs=_store_a_with(number=ORDER_B)),
        Row("store:pick_list", kwargs=_store_a_with(number=ORDER_B)),
        Row("store:order_accept", "POST", kwargs=_store_a_with(number=ORDER_B)),
        Row("store:order_reject", "POST", kwargs=_store_a_with(number=ORDER_B)),
        Row(
            "store:line_pick",
            "POST",
            kwargs=_store_a_with(number=lambda s: s.order_a.number, line_id=lambda s: s.line_b.pk),
        ),
        Row(
            "store:line_unavailable",
            "POST",
            kwargs=_store_a_with(number=ORDER_B, line_id=lambda s: s.line_b.pk),
        ),
        Row("store:product", kwargs=_store_a_with(pk=lambda s: s.product_b.pk)),
        Row("store:stock_adjust", "POST", kwargs=_store_a_with(pk=lambda s: s.product_b.pk)),
        Row("store:closure_remove", "POST", kwargs=_store_a_with(pk=lambda s: s.closure_b.pk)),
        Row("store:staff_change", "POST", kwargs=_store_a_with(pk=lambda s: s.other_membership.pk)),
        Row("store:staff_remove", "POST", kwargs=_store_a_with(pk=lambda s: s.other_membership.pk)),
        Row("store:key_revoke", "POST", kwargs=_store_a_with(pk=lambda s: s.key_b.pk)),
        Row("store:endpoint", kwargs=_store_a_with(pk=lambda s: s.endpoint_b.pk)),
        Row("store:endpoint_rotate", "POST", kwargs=_store_a_with(pk=lambda s: s.endpoint_b.pk)),
        Row("store:endpoint_test", "POST", kwargs=_store_a_with(pk=lambda s: s.endpoint_b.pk)),
        Row("store:delivery_redeliver", "POST", kwargs=_store_a_with(pk=lambda s: s.delivery_b.pk)),
        Row("orders:detail", kwargs=lambda s: {"number": s.order_b.number}),
    ],
    "shopper": [
        Row("shop:track", kwargs=lambda s: {"group": s.order_b.group}),
        Row("shop:cancel", "POST", kwargs=lambda s: {"number": s.order_b.number}),
        Row("shop:proof", kwargs=lambda s: {"number": s.order_b.number}),
        Row("orders:detail", kwargs=lambda s: {"number": s.order_b.number}),
    ],
    "driver": [
        Row("driver:offer", kwargs=lambda s: {"pk": s.offer_2.pk}),
        Row(
            "driver:offer_answer",
            "POST",
            kwargs=lambda s: {"pk": s.offer_2.pk, "answer": "accept"},
        ),
        Row("driver:route_detail", kwargs=lambda s: {"pk": s.route_2.pk}),
        Row("driver:route_arrive", "POST", kwargs=lambda s: {"pk": s.route_2.pk}),
        Row("driver:stop", kwargs=lambda s: {"pk": s.stop_2.pk}),
        Row("driver:stop_deliver", "POST", kwargs=lambda s: {"pk": s.stop_2.pk}),
        Row("driver:stop_message", "POST", kwargs=lambda s: {"pk": s.stop_2.pk}),
        Row("driver:block_forfeit", "POST", kwargs=lambda s: {"pk": s.booking_2.pk}),
        Row("orders:detail", kwargs=lambda s: {"number": s.order_b.number}),
        Row("api:driver_offer_accept", "POST", kwargs=lambda s: {"pk": s.offer_2.pk}),
        Row("api:driver_offer_decline", "POST", kwargs=lambda s: {"pk": s.offer_2.pk}),
        Row("api:driver_route", kwargs=lambda s: {"pk": s.route_2.pk}),
        Row("api:driver_route_arrive", "POST", kwargs=lambda s: {"pk": s.route_2.pk}),
        Row("api:driver_stop_deliver", "POST", kwargs=lambda s: {"pk": s.stop_2.pk}),
        Row("api:driver_stop_fail", "POST", kwargs=lambda s: {"pk": s.stop_2.pk}, data=REASON),
    ],
    "key_a": [
        # Retailer A's key can't quote or place orders at retailer B's store.
        Row(
            "api:quotes",
            "POST",
            data=lambda s: {
                "store_id": s.other_store.pk,
                "zip_code": "89109",
                "items": [{"product_id": s.product_b.pk, "quantity": 1}],
            },
        ),
        Row("api:orders", "POST", data=lambda s: {**ORDER_BODY, "store_id": s.other_store.pk}),
        Row("api:orders", "POST", data=lambda s: {**ORDER_TO, "quote_id": str(s.quote_b.pk)}),
        Row("api:order", kwargs=lambda s: {"number": s.order_b.number}),
        Row("api:order_cancel", "POST", kwargs=lambda s: {"number": s.order_b.number}, data=REASON),
        Row("api:inventory", "PUT", kwargs=lambda s: {"store_id": s.other_store.pk}),
        Row("api:store_orders", kwargs=lambda s: {"store_id": s.other_store.pk}),
        Row(
            "api:store_order_reject",
            "POST",
            kwargs=lambda s: {"store_id": s.store.pk, "number": s.order_b.number},
            data=REASON,
        ),
        Row(
            "api:store_order_reject",
            "POST",
            kwargs=lambda s: {"store_id": s.other_store.pk, "number": s.order_b.number},
            data=REASON,
        ),
        Row(
            "api:store_order_line_unavailable",
            "POST",
            kwargs=lambda s: {
                "store_id": s.store.pk,
                "number": s.order_a.number,
                "line_id": s.line_b.pk,
            },
        ),
        Row("api:webhook_endpoint_rotate", "POST", kwargs=lambda s: {"pk": s.endpoint_b.pk}),
        Row("api:webhook_redeliver", "POST", kwargs=lambda s: {"pk": s.delivery_b.pk}),
    ],
    "key_partner": [
        # Live keys never reach the sandbox mall; test-mode keys reach nothing else.
        Row("api:quotes", "POST", data=lambda s: {"store_id": s.sandbox_store.pk, **NEAR_SANDBOX}),
        Row("api:order", kwargs=lambda s: {"number": s.order_a.number}),
        Row("api:order_cancel", "POST", kwargs=lambda s: {"number": s.order_a.number}, data=REASON),
        Row("api:sandbox_advance", "POST", kwargs=lambda s: {"number": s.order_p.number}),
    ],
    "key_test": [
        Row("api:quotes", "POST", data=lambda s: {"store_id": s.store.pk, "zip_code": "89109"}),
        Row("api:orders", "POST", data=lambda s: {**ORDER_BODY, "store_id": s.store.pk}),
        Row("api:order", kwargs=lambda s: {"number": s.order_p.number}),
        Row("api:order_cancel", "POST", kwargs=lambda s: {"number": s.order_p.number}, data=REASON),
    ],
}


@pytest.mark.parametrize("party", list(CROSS))
def test_own_portal_with_another_partys_object(party, scenario):
    caller = Caller(party, scenario)
    problems = []
    for row in CROSS[party]:
        found, response = run(caller, row, scenario, REFUSED)
        problems += found
        if not found:
            assert response.status_code == 404, f"{row}: {response.status_code}"
    assert not problems, f"as {party}:\n" + "\n".join(problems)


# Pages that answer htmx with a fragment (boards, tracking, audit) or that tell a poll to stop
# (286) must not hand a fragment to someone the full page refuses.
@pytest.mark.parametrize("party", [ANON, "shopper", "other_staff", "other_driver"])
def test_htmx_requests_are_refused_like_the_page(party, scenario):
    caller = Caller(party, scenario)
    caller.headers["HTTP_HX_REQUEST"] = "true"
    problems = []
    for row in MATRIX:
        if row.method != "GET" or surface(row.name) != "portal" or row.expected(party) == OK:
            continue
        path = path_for(row, scenario)
        response = caller.request("GET", path, query=row.query)
        stopped = response.status_code == 286 and not response.content
        if verdict(row.expected(party), row, response) and not stopped:
            problems.append(f"{path}: {response.status_code} {response.content[:80]!r}")
    assert not problems, f"htmx as {party}:\n" + "\n".join(problems)


# --- Lists: a party's list pages hold only its own rows ---------------------------------------


def _ids(response, key: str = "id") -> set:
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return {item[key] for item in (body["results"] if isinstance(body, dict) else body)}


def test_lists_show_only_the_partys_own_rows(scenario):
    s = scenario
    orders = reverse("api:orders")
    assert _ids(Caller("key_b", s).request("GET", orders)) == {s.order_b.number}
    assert _ids(Caller("key_partner", s).request("GET", orders)) == {s.order_p.number}
    assert _ids(Caller("key_test", s).request("GET", orders)) == {s.order_t.number}
    assert _ids(Caller("key_a", s).request("GET", orders)) == {
        s.order_done.number,
        s.order_a.number,
        s.order_p.number,
    }

    def stores_near(party: str) -> set[int]:
        response = Caller(party, s).request(
            "GET", reverse("api:availability"), query={"zip_code": "89109"}
        )
        return {row["store"]["id"] for row in response.json()["results"]}

    assert stores_near("key_b") == {s.other_store.pk}
    assert stores_near("key_partner") == {s.store.pk, s.other_store.pk}
    store_orders = reverse("api:store_orders", kwargs={"store_id": s.other_store.pk})
    assert _ids(Caller("key_b", s).request("GET", store_orders)) == {s.order_b.number}

    endpoints, deliveries = reverse("api:webhook_endpoints"), reverse("api:webhook_deliveries")
    assert _ids(Caller("key_b", s).request("GET", endpoints)) == {s.endpoint_b.pk}
    assert _ids(Caller("key_b", s).request("GET", deliveries)) == {s.delivery_b.pk}
    assert _ids(Caller("key_partner", s).request("GET", endpoints)) == set()

    offers, routes = reverse("api:driver_offers"), reverse("api:driver_routes")
    assert _ids(Caller("other_driver", s).request("GET", offers)) == {s.offer_2.pk}
    assert _ids(Caller("driver", s).request("GET", offers)) == set()
    assert _ids(Caller("driver", s).request("GET", routes)) == {s.route_1.pk}
    assert _ids(Caller("other_driver_token", s).request("GET", routes)) == set()

    mine = Caller("other_shopper", s).request("GET", reverse("orders:mine")).content.decode()
    assert s.order_b.number in mine
    assert s.order_a.number not in mine
    board = Caller("other_staff", s).request("GET", reverse("store:home")).content.decode()
    assert s.order_b.number in board
    assert s.order_a.number not in board


# --- CSRF ----------------------------------------------------------------------------------


class _PostForms(HTMLParser):
    """Collects each <form method=post> and whether it carries a csrfmiddlewaretoken; notes
    htmx writes (hx-post…) and whether <body> sends the token in hx-headers."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None
        self.htmx_writes = False
        self.body_token = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if any(f"hx-{verb}" in attrs for verb in ("post", "put", "patch", "delete")):
            self.htmx_writes = True
        if tag == "body":
            headers = json.loads(attrs.get("hx-headers") or "{}")
            self.body_token = bool(headers.get("X-CSRFToken"))
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._open = {"action": attrs.get("action", ""), "token": False}
            self.forms.append(self._open)
        elif (
            tag == "input"
            and self._open is not None
            and attrs.get("name") == "csrfmiddlewaretoken"
            and attrs.get("value")
        ):
            self._open["token"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


CSRF_PAGE_PARTIES = (ANON, "shopper", "manager", "driver", "ops")


@pytest.mark.parametrize("party", CSRF_PAGE_PARTIES)
def test_every_post_form_on_the_pages_carries_a_csrf_token(party, scenario):
    caller = Caller(party, scenario)
    pages = [
        row
        for row in MATRIX
        if row.method == "GET" and row.expected(party) == OK and not row.name.startswith("api:")
    ]
    missing, seen = [], 0
    for row in pages:
        path = path_for(row, scenario)
        response = caller.request("GET", path, query=row.query)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _PostForms()
        parser.feed(response.content.decode())
        seen += len(parser.forms)
        missing += [f"{path}: form to {f['action']!r}" for f in parser.forms if not f["token"]]
        if parser.htmx_writes and not parser.body_token:
            missing.append(f"{path}: hx-post without the token in <body hx-headers>")
    assert seen, f"no POST forms found on {party}'s pages"
    assert not missing, "POST forms without csrfmiddlewaretoken:\n" + "\n".join(missing)


CSRF_FORMS = [
    ("manager", "store:settings", store_a()),
    ("manager", "store:pause", store_a()),
    ("driver", "driver:online", lambda s: {}),
    ("shopper", "shop:checkout", lambda s: {}),
    ("shopper", "shop:cancel", lambda s: {"number": s.order_a.number}),
    ("ops", "ops:store_pause", lambda s: {"pk": s.store.pk}),
    ("driver", "api:driver_route_arrive", lambda s: {"pk": s.route_1.pk}),
]


@pytest.mark.parametrize(("party", "name", "kwargs"), CSRF_FORMS, ids=[c[1] for c in CSRF_FORMS])
def test_a_post_without_the_csrf_token_is_refused(party, name, kwargs, scenario):
    caller = Caller(party, scenario, enforce_csrf_checks=True)
    path = reverse(name, kwargs=kwargs(scenario))
    with writes() as written:
        response = caller.request("POST", path)
    assert response.status_code == 403
    assert written == []
    # The same request with the token from the party's cookie gets through the CSRF check.
    caller.request("GET", reverse("shop:home"))
    token = caller.client.cookies[settings.CSRF_COOKIE_NAME].value
    with transaction.atomic():
        response = caller.client.post(
            path, {"csrfmiddlewaretoken": token}, HTTP_X_CSRFTOKEN=token, **caller.headers
        )
        transaction.set_rollback(True)
    assert response.status_code != 403, response.content[:300]


def test_api_keys_need_no_csrf_token(scenario):
    """Bearer keys are not cookies: a cross-site page can't send them, so no token."""
    caller = Caller("key_a", scenario, enforce_csrf_checks=True)
    path = reverse("api:store_order_ready", kwargs={"store_id": scenario.store.pk, "number": "x"})
    assert caller.request("POST", path, api=True).status_code == 404
