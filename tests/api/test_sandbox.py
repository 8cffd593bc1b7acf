"""Test-mode keys: their orders live in the sandbox mall, are marked, and can be pushed
through every state with every webhook."""

import json

import pytest

from drivers.models import Driver
from orders.models import Order
from retailers.models import Mall, Stock
from retailers.sandbox import OUTFITTERS_STORE_SLUG, TEST_ADDRESS

from .conftest import RECIPIENT


def sandbox_body(api) -> dict:
    """What an integrator does: look for stores near the documented test address, order
    the first product found at Sandbox Outfitters."""
    point = {"latitude": TEST_ADDRESS["latitude"], "longitude": TEST_ADDRESS["longitude"]}
    rows = api.get("/api/v1/availability/", {**point, "q": "Sandbox Mug"}).json()["results"]
    (row,) = [r for r in rows if r["store"]["name"] == "Sandbox Outfitters"]
    return {
        "store_id": row["store"]["id"],
        "items": [{"product_id": row["product"]["id"], "quantity": 2}],
        "address": TEST_ADDRESS,
        "recipient": RECIPIENT,
        "external_id": "sbx-1",
    }


@pytest.fixture
def sandbox_order(sandbox_api, frozen):
    response = sandbox_api.post("/api/v1/orders/", sandbox_body(sandbox_api), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["test_mode"] is True
    return response.json()["id"]


def advance(api, number, to=""):
    return api.post(
        f"/api/v1/sandbox/orders/{number}/advance/", {"to": to} if to else {}, format="json"
    )


def test_one_step_at_a_time_to_delivered(sandbox_api, sandbox_order):
    seen = [advance(sandbox_api, sandbox_order).json()["status"] for _ in range(4)]
    assert seen == ["accepted", "ready", "picked_up", "delivered"]
    assert advance(sandbox_api, sandbox_order).status_code == 409
    detail = sandbox_api.get(f"/api/v1/orders/{sandbox_order}/").json()
    assert detail["proof_of_delivery"] is not None
    # The sandbox's own driver took it, and went back offline: never offered real work.
    order = Order.objects.get(number=sandbox_order)
    assert order.store.mall.is_sandbox
    drivers = Driver.objects.filter(
        user__username__startswith=f"sandbox-driver-{order.store.mall_id}-"
    )
    assert drivers.count() == 1 and not drivers.filter(is_online=True).exists()


def test_straight_to_returned_through_every_state(sandbox_api, sandbox_order):
    response = advance(sandbox_api, sandbox_order, "returned")
    assert response.status_code == 200, response.json()
    assert [e["to_status"] for e in response.json()["events"]] == [
        "placed",
        "accepted",
        "ready",
        "picked_up",
        "delivery_failed",
        "returned",
    ]


def test_cancel_in_the_sandbox(sandbox_api, sandbox_order):
    assert advance(sandbox_api, sandbox_order, "cancelled").json()["status"] == "cancelled"
    # Cancelling gives the sandbox stock back.
    stock = Stock.objects.get(store__slug=OUTFITTERS_STORE_SLUG, product__sku="SBX-MUG")
    assert stock.reserved == 0


def test_live_keys_and_live_orders_are_not_in_the_sandbox(
    partner_api, sandbox_api, order_body, driver, frozen
):
    number = partner_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    assert advance(partner_api, number).status_code == 404
    assert advance(sandbox_api, number).status_code == 404  # a live order is not the sandbox's
    assert Order.objects.get(number=number).status == "placed"


def test_sandbox_orders_send_webhooks_but_no_messages_or_dispatch(
    sandbox_api, frozen, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    from orders import webhooks as w

    sent, dispatched = [], []
    monkeypatch.setattr(w, "http_post", lambda *a: sent.append(a) or (200, ""))
    monkeypatch.setattr(
        "drivers.dispatch.triggers.enqueue_mall_dispatch", lambda *a, **k: dispatched.append(a)
    )
    w.webhook_endpoint_create(url="https://acme.example/", partner="Acme Market", test_mode=True)
    w.webhook_endpoint_create(url="https://live.acme.example/", partner="Acme Market")
    body = sandbox_body(sandbox_api)
    with django_capture_on_commit_callbacks(execute=True):
        number = sandbox_api.post("/api/v1/orders/", body, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        advance(sandbox_api, number, "ready")
    assert len(sent) == 3  # created, accepted, ready
    assert {url for url, *_ in sent} == {"https://acme.example/"}  # never the live endpoint
    assert mailoutbox == [] and dispatched == []


def _order_events(sent) -> list[str]:
    types = [json.loads(body)["type"] for _url, body, _headers, _timeout in sent]
    return [t for t in types if t.startswith("order.")]


def test_every_state_of_the_sandbox_sends_its_webhook(
    sandbox_api, frozen, monkeypatch, django_capture_on_commit_callbacks
):
    from orders import webhooks as w

    sent = []
    monkeypatch.setattr(w, "http_post", lambda *a: sent.append(a) or (200, ""))
    w.webhook_endpoint_create(url="https://acme.example/", partner="Acme Market", test_mode=True)
    body = sandbox_body(sandbox_api)
    numbers = []
    for n, to in enumerate(["delivered", "returned", "rejected", "cancelled"]):
        with django_capture_on_commit_callbacks(execute=True):
            response = sandbox_api.post(
                "/api/v1/orders/", {**body, "external_id": f"sbx-{n}"}, format="json"
            )
        numbers.append(response.json()["id"])
        with django_capture_on_commit_callbacks(execute=True):
            assert advance(sandbox_api, numbers[-1], to).json()["status"] == to

    events = _order_events(sent)
    assert events.count("order.created") == 4
    assert set(events) == {
        "order.created",
        "order.accepted",
        "order.ready",
        "order.picked_up",
        "order.delivered",
        "order.delivery_failed",
        "order.returned",
        "order.rejected",
        "order.cancelled",
    }
    # Every order's webhooks are the sandbox's: each body says test_mode.
    bodies = [json.loads(b) for _u, b, _h, _t in sent]
    assert all(b["data"]["test_mode"] for b in bodies if b["type"].startswith("order."))
    assert Mall.objects.filter(is_sandbox=True).count() == 1
