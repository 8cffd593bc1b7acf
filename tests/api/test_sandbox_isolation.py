"""The sandbox mall is a world apart: test-mode keys reach only it, live keys never see it,
and nothing real (storefront, dispatch, boards, ops) shows it."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from drivers.models import DispatchRun
from drivers.tasks import dispatch_all_malls, dispatch_mall
from orders.models import Order
from orders.services import CartItem, CheckoutError, checkout_place
from retailers.models import Mall, Product, Retailer, Stock, Store, StoreHours, StoreMembership
from retailers.sandbox import (
    OUTFITTERS_STORE_SLUG,
    SANDBOX_STOCK,
    TEST_ADDRESS,
    ensure_sandbox,
    retailer_store_slug,
)
from tests import factories as f

from .conftest import ADDRESS, ALL, RECIPIENT, _client
from .test_sandbox import advance, sandbox_body

NEAR_TEST_ADDRESS = {"latitude": TEST_ADDRESS["latitude"], "longitude": TEST_ADDRESS["longitude"]}
NEAR_REAL_MALL = {"latitude": ADDRESS["latitude"], "longitude": ADDRESS["longitude"]}


@pytest.fixture
def retailer_sandbox_api(store):
    return _client(retailer=store.retailer, scopes=ALL, test_mode=True)


def _stores(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["store"]["name"] for row in response.json()["results"]}


def _body(store_id, product_id, address=TEST_ADDRESS) -> dict:
    return {
        "store_id": store_id,
        "items": [{"product_id": product_id, "quantity": 1}],
        "address": address,
        "recipient": RECIPIENT,
        "external_id": "",
    }


# --- Test-mode keys: the sandbox only -----------------------------------------------------


def test_a_test_keys_availability_lists_only_sandbox_stores(sandbox_api, stock, frozen):
    assert _stores(sandbox_api.get("/api/v1/availability/", NEAR_REAL_MALL)) == set()
    response = sandbox_api.get("/api/v1/availability/", NEAR_TEST_ADDRESS)
    assert _stores(response) == {"Sandbox Outfitters"}
    rows = response.json()["results"]
    assert all(row["promise"]["eligible"] for row in rows), rows[0]["promise"]
    assert {row["available"] for row in rows} == {SANDBOX_STOCK}
    # The same by ZIP code, as the docs say.
    by_zip = sandbox_api.get("/api/v1/availability/", {"zip_code": TEST_ADDRESS["zip_code"]})
    assert _stores(by_zip) == {"Sandbox Outfitters"}


def test_a_test_key_with_a_real_store_gets_a_404_that_points_to_the_sandbox(
    sandbox_api, retailer_sandbox_api, stock, frozen
):
    body = _body(stock.store_id, stock.product_id, ADDRESS)
    for api, path, method, data in [
        (sandbox_api, "/api/v1/quotes/", "post", {**body, "zip_code": "89109"}),
        (sandbox_api, "/api/v1/orders/", "post", body),
        (retailer_sandbox_api, f"/api/v1/stores/{stock.store_id}/orders/", "get", None),
        (
            retailer_sandbox_api,
            f"/api/v1/stores/{stock.store_id}/inventory/",
            "put",
            {
                "items": [
                    {"sku": "X", "title": "X", "price_cents": 1, "category": "X", "quantity": 1}
                ]
            },
        ),
    ]:
        response = getattr(api, method)(path, data, format="json")
        assert response.status_code == 404, (path, response.json())
        detail = response.json()["detail"]
        assert "sandbox stores" in detail and "/api/v1/availability/?zip_code=90012" in detail
    assert Order.objects.count() == 0
    stock.refresh_from_db()
    assert stock.reserved == 0


def test_a_live_key_never_sees_a_sandbox_store(partner_api, retailer_api, store, frozen):
    outfitters = ensure_sandbox()
    mine = ensure_sandbox(retailer=store.retailer)
    assert _stores(partner_api.get("/api/v1/availability/", NEAR_TEST_ADDRESS)) == set()
    product = outfitters.stock.first().product_id
    for path, data in [
        ("/api/v1/quotes/", {**_body(outfitters.pk, product), "zip_code": "90012"}),
        ("/api/v1/orders/", _body(outfitters.pk, product)),
    ]:
        response = partner_api.post(path, data, format="json")
        assert response.status_code == 404
        assert response.json()["detail"] == "No Store matches the given query."
    assert retailer_api.get(f"/api/v1/stores/{mine.pk}/orders/").status_code == 404
    assert Order.objects.count() == 0


def test_a_test_key_sees_only_sandbox_orders(partner_api, sandbox_api, order_body, frozen, driver):
    live = partner_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    # A test-mode order placed in a real store before the sandbox mall existed.
    legacy = partner_api.post(
        "/api/v1/orders/", {**order_body, "external_id": "mkt-2"}, format="json"
    ).json()["id"]
    Order.objects.filter(number=legacy).update(test_mode=True)
    mine = sandbox_api.post("/api/v1/orders/", sandbox_body(sandbox_api), format="json")
    assert mine.status_code == 201
    listed = [o["id"] for o in sandbox_api.get("/api/v1/orders/").json()["results"]]
    assert listed == [mine.json()["id"]]
    for number in (live, legacy):
        assert sandbox_api.get(f"/api/v1/orders/{number}/").status_code == 404
        cancel = sandbox_api.post(f"/api/v1/orders/{number}/cancel/", {"reason": "x"})
        assert cancel.status_code == 404
        assert advance(sandbox_api, number).status_code == 404
    assert [o["id"] for o in partner_api.get("/api/v1/orders/").json()["results"]] == [live]


def test_a_retailer_test_key_reaches_only_its_own_sandbox_store(
    retailer_sandbox_api, other_store, stock, frozen
):
    other_sandbox = ensure_sandbox(retailer=other_store.retailer)
    response = retailer_sandbox_api.get("/api/v1/availability/", NEAR_TEST_ADDRESS)
    assert _stores(response) == {"Sephora (Sandbox)"}
    (row,) = response.json()["results"]
    assert row["product"]["id"] == stock.product_id and row["available"] == SANDBOX_STOCK
    mine = Store.objects.get(slug=retailer_store_slug(stock.store.retailer))
    assert mine.mall.is_sandbox and mine.retailer_id == stock.store.retailer_id
    # Its managers don't see it in the portal: nobody is a member of a sandbox store.
    assert not StoreMembership.objects.filter(store=mine).exists()

    order = retailer_sandbox_api.post(
        "/api/v1/orders/", _body(mine.pk, stock.product_id), format="json"
    )
    assert order.status_code == 201, order.json()
    number = order.json()["id"]
    listed = retailer_sandbox_api.get(f"/api/v1/stores/{mine.pk}/orders/").json()["results"]
    assert [o["id"] for o in listed] == [number]
    accepted = retailer_sandbox_api.post(
        f"/api/v1/stores/{mine.pk}/orders/{number}/accept/", {"prep_minutes": 10}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"

    outfitters = Store.objects.get(slug=OUTFITTERS_STORE_SLUG)
    for store_id in (other_sandbox.pk, outfitters.pk, stock.store_id):
        response = retailer_sandbox_api.get(f"/api/v1/stores/{store_id}/orders/")
        assert response.status_code == 404
        assert "sandbox stores" in response.json()["detail"]


def test_a_retailer_test_key_sets_sandbox_quantities_but_never_the_real_catalog(
    retailer_sandbox_api, stock, frozen
):
    product = stock.product
    mine = ensure_sandbox(retailer=stock.store.retailer)
    row = {
        "sku": product.sku,
        "title": product.title,
        "price_cents": product.price_cents,
        "category": product.category,
        "quantity": 7,
    }
    path = f"/api/v1/stores/{mine.pk}/inventory/"
    response = retailer_sandbox_api.put(path, {"items": [row]}, format="json")
    assert response.status_code == 200, response.json()
    assert Stock.objects.get(store=mine, product=product).on_hand == 7
    real_on_hand = stock.on_hand
    stock.refresh_from_db()
    assert stock.on_hand == real_on_hand  # the real store's shelf is untouched

    renamed = {**row, "title": "Renamed in a test"}
    new = {**row, "sku": "NEW-1"}
    response = retailer_sandbox_api.put(path, {"items": [renamed, new]}, format="json")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items.0", "items.1"]
    product.refresh_from_db()
    assert product.title == row["title"]
    assert not Product.objects.filter(sku="NEW-1").exists()


# --- Nothing real shows the sandbox -----------------------------------------------------


def test_a_sandbox_order_reserves_only_sandbox_stock_and_stays_off_every_real_page(
    sandbox_api, stock, mall, manager, client, ops_user, frozen
):
    response = sandbox_api.post("/api/v1/orders/", sandbox_body(sandbox_api), format="json")
    assert response.status_code == 201
    number = response.json()["id"]
    order = Order.objects.get(number=number)
    sandbox = order.store.mall
    assert sandbox.is_sandbox and order.test_mode
    assert Stock.objects.get(store=order.store, product=order.lines.get().product).reserved == 2
    assert not Stock.objects.filter(store__mall__is_sandbox=False, reserved__gt=0).exists()

    # The real store's board (its manager).
    client.force_login(manager)
    board = client.get(reverse("store:board", args=[stock.store.slug]))
    assert board.status_code == 200 and number not in board.content.decode()
    assert client.get(reverse("store:board", args=[order.store.slug])).status_code in (403, 404)

    # The ops board and metrics: the sandbox mall is not a mall there.
    client.force_login(ops_user)
    page = client.get(reverse("ops:board", args=[mall.slug]))
    assert page.status_code == 200
    assert number not in page.content.decode() and sandbox.name not in page.content.decode()
    assert client.get(reverse("ops:board", args=[sandbox.slug])).status_code == 404
    assert client.get(reverse("ops:metrics", args=[sandbox.slug])).status_code == 404

    # The storefront: not on the home page, nothing near the test address, no product page,
    # no cart.
    client.logout()
    home = client.get(reverse("shop:home"))
    assert sandbox.name not in home.content.decode()
    shop = client.get(reverse("shop:availability"), {"zip": TEST_ADDRESS["zip_code"]})
    assert shop.status_code == 200 and "Sandbox" not in shop.content.decode()
    product = order.lines.get().product
    assert client.get(reverse("shop:product", args=[product.pk])).status_code == 404
    sandbox_stock = Stock.objects.get(store=order.store, product=product)
    add = client.post(reverse("shop:cart_add"), {"stock": sandbox_stock.pk, "quantity": 1})
    assert add.status_code == 404


def test_checkout_refuses_sandbox_stores_and_test_orders_elsewhere(stock, shopper, address):
    from orders.permissions import Actor

    outfitters = ensure_sandbox()
    product = outfitters.stock.first().product_id
    with pytest.raises(CheckoutError, match="sandbox store"):
        checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="Alice",
            items=[CartItem(outfitters.pk, product, 1)],
        )
    with pytest.raises(CheckoutError, match="sandbox stores only"):
        checkout_place(
            actor=Actor.api("test", partner="Acme Market"),
            address=address,
            recipient_name="Alice",
            items=[CartItem(stock.store_id, stock.product_id, 1)],
            test_mode=True,
        )
    assert Order.objects.count() == 0
    assert not Stock.objects.filter(reserved__gt=0).exists()


def test_dispatch_skips_the_sandbox_mall(sandbox_api, frozen, mall, stock, place_order, system):
    from orders.services import order_accept

    number = sandbox_api.post("/api/v1/orders/", sandbox_body(sandbox_api), format="json").json()[
        "id"
    ]
    order_accept(order=Order.objects.get(number=number), actor=system)
    real = place_order(stock)
    order_accept(order=real, actor=system)
    sandbox = Mall.objects.get(is_sandbox=True)
    assert dispatch_all_malls() == [mall.pk]
    assert dispatch_mall(sandbox.pk, "test") is None
    assert not DispatchRun.objects.filter(mall=sandbox).exists()


def test_drivers_cant_pick_the_sandbox_mall(driver):
    from drivers.forms import OnlineForm

    sandbox = ensure_sandbox().mall
    assert sandbox not in OnlineForm().fields["mall"].queryset
    assert not OnlineForm({"mall": sandbox.pk}).is_valid()


# --- ensure_sandbox --------------------------------------------------------------------


def _rows() -> dict:
    return {
        m.__name__: sorted(m.objects.values_list("pk", flat=True))
        for m in (Mall, Retailer, Store, StoreHours, Product, Stock)
    }


def test_ensure_sandbox_is_idempotent(stock):
    first = ensure_sandbox(retailer=stock.store.retailer)
    rows = _rows()
    again = ensure_sandbox(retailer=stock.store.retailer)
    assert again.pk == first.pk and ensure_sandbox().slug == OUTFITTERS_STORE_SLUG
    assert _rows() == rows
    assert Mall.objects.filter(is_sandbox=True).count() == 1
    assert Store.objects.filter(mall__is_sandbox=True).count() == 2
    assert StoreHours.objects.filter(store=first).count() == 7


def test_a_retailers_sandbox_store_is_capped_and_stocks_only_active_products(store):
    from retailers import sandbox

    for n in range(sandbox.SANDBOX_RETAILER_PRODUCTS + 5):
        f.ProductFactory(retailer=store.retailer, sku=f"P-{n}")
    inactive = f.ProductFactory(retailer=store.retailer, sku="OLD", is_active=False)
    mine = ensure_sandbox(retailer=store.retailer)
    stocked = Stock.objects.filter(store=mine)
    assert stocked.count() == sandbox.SANDBOX_RETAILER_PRODUCTS
    assert not stocked.filter(product=inactive).exists()
    assert set(stocked.values_list("on_hand", flat=True)) == {SANDBOX_STOCK}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_calls_make_one_sandbox_mall():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency needs PostgreSQL (SQLite serialises writers).")
    from django.db import connections

    retailer = f.RetailerFactory()
    f.ProductFactory(retailer=retailer)
    barrier = threading.Barrier(2)
    errors, results = [], []

    def first_call():
        try:
            barrier.wait(timeout=10)
            results.append(ensure_sandbox(retailer=retailer).pk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first_call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Mall.objects.filter(is_sandbox=True).count() == 1
    assert Store.objects.filter(mall__is_sandbox=True).count() == 2


def test_sandbox_orders_left_waiting_never_alert_ops(sandbox_api, stock, place_order, frozen):
    import datetime as dt

    from retailers import clock
    from retailers.tasks import flag_slow_acceptance

    body = sandbox_body(sandbox_api)
    number = sandbox_api.post("/api/v1/orders/", body, format="json").json()["id"]
    real = place_order(stock)
    with clock.frozen_at(frozen + dt.timedelta(hours=2)):
        assert flag_slow_acceptance() == 1
    real.refresh_from_db()
    assert real.attention
    assert Order.objects.get(number=number).attention == ""


@pytest.mark.parametrize(
    ("utc", "eligible"),
    [
        ("2026-11-25T08:05:00+00:00", True),  # 00:05 Pacific: open from midnight
        ("2026-11-26T07:30:00+00:00", True),  # 23:30 Pacific
        ("2026-11-26T07:50:00+00:00", False),  # 23:50 Pacific: the promise is tomorrow
    ],
)
def test_the_sandbox_quotes_all_day_until_shortly_before_pacific_midnight(
    sandbox_api, utc, eligible
):
    import datetime as dt

    from retailers import clock

    with clock.frozen_at(dt.datetime.fromisoformat(utc)):
        body = sandbox_body(sandbox_api)
        quote = sandbox_api.post(
            "/api/v1/quotes/",
            {
                "store_id": body["store_id"],
                "items": body["items"],
                "latitude": TEST_ADDRESS["latitude"],
                "longitude": TEST_ADDRESS["longitude"],
            },
            format="json",
        )
    assert quote.status_code == 201
    assert quote.json()["eligible"] is eligible, quote.json()["reasons"]
    if not eligible:
        assert [r["code"] for r in quote.json()["reasons"]] == ["past_cutoff"]


def test_a_real_store_holding_a_sandbox_slug_is_never_stocked(db):
    import pytest

    from retailers.sandbox import OUTFITTERS_STORE_SLUG, SandboxSlugTaken, ensure_sandbox
    from tests import factories as f

    real = f.StoreFactory(slug=OUTFITTERS_STORE_SLUG)
    with pytest.raises(SandboxSlugTaken):
        ensure_sandbox()
    assert not real.stock.exists()
