"""Quotes and orders through the API: the same services as the storefront, idempotency,
external ids per partner, reach of each key (another retailer's store is a 404)."""

import threading

import pytest
from django.db import connection
from django.db.models import F

from orders.models import IdempotencyKey, Order
from retailers.models import Stock

from .conftest import ADDRESS, RECIPIENT


def test_availability_by_zip_lists_stock_with_a_promise(partner_api, stock, driver, frozen):
    response = partner_api.get("/api/v1/availability/", {"zip_code": "89109"})
    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert [r["product"]["sku"] for r in rows] == [stock.product.sku]
    assert rows[0]["available"] == 10
    assert rows[0]["promise"]["eligible"] is True
    assert "next" in response.json()


def test_availability_needs_a_place(partner_api, db):
    response = partner_api.get("/api/v1/availability/")
    assert response.status_code == 400


def test_availability_is_paginated_by_cursor(partner_api, store, driver, frozen):
    from tests import factories as f

    for _ in range(3):
        f.StockFactory(store=store)
    first = partner_api.get(
        "/api/v1/availability/", {"latitude": 36.13, "longitude": -115.17, "page_size": 2}
    ).json()
    assert len(first["results"]) == 2 and first["next"]
    second = partner_api.get(first["next"]).json()
    assert len(second["results"]) == 1


def test_a_quote_then_an_order_from_it(partner_api, stock, driver, frozen):
    quote = partner_api.post(
        "/api/v1/quotes/",
        {
            "store_id": stock.store_id,
            "latitude": 36.14,
            "longitude": -115.15,
            "items": [{"sku": stock.product.sku, "quantity": 1}],
        },
        format="json",
    )
    assert quote.status_code == 201, quote.json()
    assert quote.json()["eligible"] is True
    response = partner_api.post(
        "/api/v1/orders/",
        {"quote_id": quote.json()["id"], "address": ADDRESS, "recipient": RECIPIENT},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "placed"
    assert body["fee_cents"] == quote.json()["fee_cents"]
    assert body["events"][0]["to_status"] == "placed"
    order = Order.objects.get(number=body["id"])
    assert order.channel == "api" and order.partner == "Acme Market"


def test_an_ineligible_quote_says_why(partner_api, stock, frozen):  # no driver online
    response = partner_api.post(
        "/api/v1/quotes/",
        {"store_id": stock.store_id, "zip_code": "89109"},
        format="json",
    )
    assert response.status_code == 201
    assert "no_driver_capacity" in [r["code"] for r in response.json()["reasons"]]


def test_an_order_from_items_reserves_stock(partner_api, order_body, stock, driver, frozen):
    response = partner_api.post("/api/v1/orders/", order_body, format="json")
    assert response.status_code == 201, response.json()
    assert Stock.objects.get(pk=stock.pk).reserved == 2
    detail = partner_api.get(f"/api/v1/orders/{response.json()['id']}/").json()
    assert detail["external_id"] == "mkt-1" and detail["tracking_url"].startswith("http")
    assert [o["id"] for o in partner_api.get("/api/v1/orders/").json()["results"]] == [detail["id"]]


def test_too_many_units_is_a_422_with_the_line(partner_api, order_body, stock, driver, frozen):
    order_body["items"][0]["quantity"] = 50
    response = partner_api.post("/api/v1/orders/", order_body, format="json")
    assert response.status_code == 422
    assert "items.0" in [e["field"] for e in response.json()["errors"]]


def test_external_id_is_unique_per_partner(partner_api, order_body, driver, frozen):
    assert partner_api.post("/api/v1/orders/", order_body, format="json").status_code == 201
    again = partner_api.post("/api/v1/orders/", order_body, format="json")
    assert again.status_code == 409
    assert Order.objects.count() == 1


def test_the_same_key_and_body_replays_the_first_answer(partner_api, order_body, driver, frozen):
    headers = {"Idempotency-Key": "abc-1"}
    first = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    second = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422(partner_api, order_body, driver, frozen):
    headers = {"Idempotency-Key": "abc-2"}
    partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    order_body["items"][0]["quantity"] = 1
    response = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("idempotency_key_reused")


def test_a_key_is_forgotten_after_24_hours(partner_api, order_body, driver, frozen):
    import datetime as dt

    headers = {"Idempotency-Key": "daily-1"}
    first = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    assert first.status_code == 201
    IdempotencyKey.objects.filter(key="daily-1").update(
        created_at=F("created_at") - dt.timedelta(hours=23)
    )
    replay = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    assert replay["Idempotent-Replayed"] == "true"
    IdempotencyKey.objects.filter(key="daily-1").update(
        created_at=F("created_at") - dt.timedelta(hours=2)
    )
    order_body["external_id"] = "mkt-2"  # another body: with a live key, a 422
    later = partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert later.json()["id"] != first.json()["id"]
    assert Order.objects.count() == 2
    assert IdempotencyKey.objects.filter(key="daily-1").count() == 1


def test_a_placed_order_reads_back_as_it_was_answered(partner_api, order_body, driver, frozen):
    placed = partner_api.post("/api/v1/orders/", order_body, format="json")
    assert placed.status_code == 201, placed.json()
    assert partner_api.get(f"/api/v1/orders/{placed.json()['id']}/").json() == placed.json()


def test_a_key_still_in_flight_is_a_409(partner_api, order_body, driver, frozen):
    import hashlib
    import json

    path = "/api/v1/orders/"
    scope = f"api:{partner_api.key.pk}:{hashlib.sha256(path.encode()).hexdigest()[:16]}"
    fingerprint = hashlib.sha256(
        json.dumps(["POST", path, order_body], sort_keys=True, default=str).encode()
    ).hexdigest()
    IdempotencyKey.objects.create(scope=scope, key="busy", fingerprint=fingerprint)
    response = partner_api.post(
        path, order_body, format="json", headers={"Idempotency-Key": "busy"}
    )
    assert response.status_code == 409
    assert Order.objects.count() == 0


def test_a_4xx_is_replayed_too_but_a_key_is_per_api_key(partner_api, order_body):
    from .conftest import ALL, _client

    another_api = _client(partner="Other Market", scopes=ALL)
    order_body["items"][0]["quantity"] = 500
    headers = {"Idempotency-Key": "k"}
    assert (
        partner_api.post("/api/v1/orders/", order_body, format="json", headers=headers).status_code
        == 422
    )
    # Another key may use the same Idempotency-Key string for its own request.
    assert (
        another_api.post("/api/v1/orders/", order_body, format="json", headers=headers).status_code
        == 422
    )
    assert IdempotencyKey.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_make_one_order(order_body, driver, settings):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency needs PostgreSQL (SQLite serialises writers).")
    from retailers import clock

    from .conftest import NOON_ISH, _client

    partner = _client(partner="Acme Market", scopes=["orders:write"])
    results = []
    barrier = threading.Barrier(2)

    def post():
        from rest_framework.test import APIClient

        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {partner.raw}")
        barrier.wait()
        response = c.post(
            "/api/v1/orders/", order_body, format="json", headers={"Idempotency-Key": "race"}
        )
        results.append(response.status_code)
        connection.close()

    # One frozen clock for both threads (the clock source is process-wide).
    with clock.frozen_at(NOON_ISH):
        threads = [threading.Thread(target=post) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert Order.objects.count() == 1
    assert sorted(results) in ([201, 201], [201, 409])


def test_cancel(partner_api, order_body, driver, frozen):
    number = partner_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    response = partner_api.post(
        f"/api/v1/orders/{number}/cancel/", {"reason": "Shopper changed mind"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = partner_api.post(f"/api/v1/orders/{number}/cancel/", {"reason": "again"}, format="json")
    assert again.status_code == 409


def test_another_partners_order_is_a_404(
    partner_api, retailer_api, other_retailer_api, order_body, driver, frozen
):
    number = partner_api.post("/api/v1/orders/", order_body, format="json").json()["id"]
    # Our retailer sees the order at its store; the other retailer does not.
    assert retailer_api.get(f"/api/v1/orders/{number}/").status_code == 200
    assert other_retailer_api.get(f"/api/v1/orders/{number}/").status_code == 404
    assert (
        other_retailer_api.post(
            f"/api/v1/orders/{number}/cancel/", {"reason": "x"}, format="json"
        ).status_code
        == 404
    )


def test_a_retailer_key_cannot_order_from_another_retailers_store(
    other_retailer_api, order_body, driver, frozen
):
    response = other_retailer_api.post("/api/v1/orders/", order_body, format="json")
    assert response.status_code == 404
    assert (
        other_retailer_api.post(
            "/api/v1/quotes/",
            {"store_id": order_body["store_id"], "zip_code": "89109"},
            format="json",
        ).status_code
        == 404
    )


def test_the_events_written_out_match_the_event_serializer(
    partner_api, stock, driver, frozen, system
):
    from orders import services
    from orders.api.serializers import EventOut
    from orders.models import Order

    response = partner_api.post(
        "/api/v1/orders/",
        {
            "store_id": stock.store_id,
            "items": [{"product_id": stock.product_id, "quantity": 1}],
            "address": ADDRESS,
            "recipient": RECIPIENT,
        },
        format="json",
        headers={"Idempotency-Key": "events-parity-1"},
    )
    assert response.status_code == 201, response.json()
    order = Order.objects.get(number=response.json()["id"])
    services.order_accept(order=order, actor=system)
    body = partner_api.get(f"/api/v1/orders/{order.number}/").json()
    events = list(order.events.all())
    expected = EventOut(
        events, many=True, context={"sequence": {e.pk: i for i, e in enumerate(events, 1)}}
    ).data
    assert body["events"] == [dict(e) for e in expected]
    assert [e["to_status"] for e in body["events"]] == ["placed", "accepted"]


def test_the_written_out_order_matches_the_declared_fields(
    partner_api, order_body, stock, driver, frozen, advance
):
    """OrderOut writes its JSON by hand for speed: the same as DRF's walk over its fields."""
    from rest_framework import serializers

    from orders.api.serializers import OrderOut

    response = partner_api.post("/api/v1/orders/", order_body, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(number=response.json()["id"])
    for status in ("placed", "accepted", "delivered"):
        advance(order, status)
        order = Order.objects.get(pk=order.pk)
        if status == "delivered":
            assert order.proof is not None
        fast = OrderOut(order).data
        generic = serializers.ModelSerializer.to_representation(OrderOut(), order)
        assert fast == dict(generic), status


def _list(client):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        response = client.get("/api/v1/orders/")
    assert response.status_code == 200
    wrote = any('"orders_orderline"' in x["sql"] for x in q.captured_queries)
    return response.json()["results"], wrote


def test_the_list_writes_an_order_out_again_only_when_it_changed(
    partner_api, order_body, stock, driver, frozen, system
):
    from orders import services

    placed = partner_api.post("/api/v1/orders/", order_body, format="json").json()
    first, wrote = _list(partner_api)
    assert wrote and first[0]["status"] == "placed"
    again, wrote = _list(partner_api)
    assert not wrote and again == first  # nothing changed: the kept JSON

    services.order_accept(order=Order.objects.get(number=placed["id"]), actor=system)
    after, wrote = _list(partner_api)
    assert wrote
    assert after[0]["status"] == "accepted"
    assert [e["to_status"] for e in after[0]["events"]][-1] == "accepted"


def test_a_line_made_smaller_shows_in_the_list(
    partner_api, order_body, stock, driver, frozen, system, manager
):
    from orders import services
    from orders.permissions import Actor

    placed = partner_api.post("/api/v1/orders/", order_body, format="json").json()
    order = Order.objects.get(number=placed["id"])
    services.order_accept(order=order, actor=system)
    assert _list(partner_api)[0][0]["lines"][0]["quantity"] == 2
    line = order.lines.get()
    services.order_line_unavailable(line=line, actor=Actor.store_staff(manager), available=1)
    after, _ = _list(partner_api)
    assert after[0]["lines"][0]["quantity"] == 1


def test_the_lists_page_query_reaches_exactly_what_orders_for_does(
    db, place_order, stock, other_stock
):
    """The order list's page query is hand-written SQL (orders/api/representations.py); it
    must give every kind of key exactly the orders `orders_for` gives it."""
    from orders.api.auth import api_key_create, orders_for
    from tests import factories as f

    from .conftest import ALL, KeyClient

    stock.on_hand = 50
    stock.save()
    sandbox_store = f.StoreFactory(
        mall=f.MallFactory(is_sandbox=True), retailer=stock.store.retailer
    )
    orders = [place_order(stock) for _ in range(4)] + [place_order(other_stock)]
    Order.objects.filter(pk=orders[0].pk).update(partner="Acme Market")
    Order.objects.filter(pk=orders[1].pk).update(
        partner="Acme Market", test_mode=True, store=sandbox_store
    )
    Order.objects.filter(pk=orders[2].pk).update(partner="Acme Market", test_mode=True)
    Order.objects.filter(pk=orders[3].pk).update(test_mode=True, store=sandbox_store)
    kinds = [
        {"partner": "Acme Market"},
        {"partner": "Acme Market", "test_mode": True},
        {"partner": "Other Market"},
        {"retailer": stock.store.retailer},
        {"retailer": stock.store.retailer, "test_mode": True},
        {"retailer": other_stock.store.retailer},
    ]
    reached_any = False
    for kind in kinds:
        key, raw = api_key_create(name="t", scopes=ALL, **kind)
        response = KeyClient(raw, key).get("/api/v1/orders/?page_size=200")
        assert response.status_code == 200
        listed = [row["id"] for row in response.json()["results"]]
        expected = list(orders_for(key).order_by("-id").values_list("number", flat=True))
        assert listed == expected, kind
        reached_any = reached_any or bool(listed)
    assert reached_any


def test_the_order_list_pages_forward_and_back_by_cursor(partner_api, place_order, stock):
    stock.on_hand = 50
    stock.save()
    orders = [place_order(stock) for _ in range(5)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(partner="Acme Market")
    numbers = [o.number for o in sorted(orders, key=lambda o: -o.pk)]
    seen, pages, url = [], [], "/api/v1/orders/?page_size=2"
    while url:
        body = partner_api.get(url).json()
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == numbers
    assert len(pages) == 3
    back = partner_api.get(pages[-1]["previous"]).json()
    assert [row["id"] for row in back["results"]] == numbers[2:4]
    first = partner_api.get(back["previous"]).json()
    assert [row["id"] for row in first["results"]] == numbers[:2]
    assert first["previous"] is None


def test_filters_narrow_the_hand_written_page(partner_api, place_order, stock, system):
    from orders import services

    stock.on_hand = 50
    stock.save()
    orders = [place_order(stock) for _ in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(partner="Acme Market")
    Order.objects.filter(pk=orders[0].pk).update(external_ref="mkt-9")
    services.order_accept(order=orders[1], actor=system)
    by_status = partner_api.get("/api/v1/orders/?status=accepted").json()["results"]
    assert [row["id"] for row in by_status] == [orders[1].number]
    by_ref = partner_api.get("/api/v1/orders/?external_id=mkt-9").json()["results"]
    assert [row["id"] for row in by_ref] == [orders[0].number]


def test_a_kept_page_gets_a_next_link_when_an_order_joins_just_past_it(
    partner_api, place_order, stock, system
):
    from orders import services

    stock.on_hand = 50
    stock.save()
    orders = [place_order(stock) for _ in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(partner="Acme Market")
    for order in orders[1:]:
        services.order_accept(order=order, actor=system)
    url = "/api/v1/orders/?status=accepted&page_size=2"
    before = partner_api.get(url).json()
    assert len(before["results"]) == 2 and before["next"] is None
    # The oldest order joins the list one place after the page; the page's rows don't move.
    services.order_accept(order=Order.objects.get(pk=orders[0].pk), actor=system)
    after = partner_api.get(url).json()
    assert after["results"] == before["results"]
    assert after["next"] is not None
    assert [r["id"] for r in partner_api.get(after["next"]).json()["results"]] == [orders[0].number]
