"""Test-mode keys: their orders are marked and can be pushed through every state."""

import pytest

from orders.models import Order


@pytest.fixture
def sandbox_order(sandbox_api, order_body, driver, frozen):
    response = sandbox_api.post("/api/v1/orders/", order_body, format="json")
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


def test_live_keys_and_live_orders_are_not_in_the_sandbox(
    partner_api, sandbox_api, order_body, driver, frozen
):
    number = partner_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    assert advance(partner_api, number).status_code == 404
    assert advance(sandbox_api, number).status_code == 404  # a live order is not the sandbox's
    assert Order.objects.get(number=number).status == "placed"


def test_sandbox_orders_send_webhooks_but_no_messages_or_dispatch(
    sandbox_api,
    order_body,
    driver,
    frozen,
    monkeypatch,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    from orders import webhooks as w

    sent, dispatched = [], []
    monkeypatch.setattr(w, "http_post", lambda *a: sent.append(a) or (200, ""))
    monkeypatch.setattr(
        "drivers.dispatch.triggers.enqueue_mall_dispatch", lambda *a, **k: dispatched.append(a)
    )
    w.webhook_endpoint_create(url="https://acme.example/", partner="Acme Market")
    with django_capture_on_commit_callbacks(execute=True):
        number = sandbox_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        advance(sandbox_api, number, "ready")
    assert len(sent) == 3  # created, accepted, ready
    assert mailoutbox == [] and dispatched == []
