"""Retailer keys run their own stores: inventory upsert (atomic, per-row errors) and order
actions; another retailer's store is a 404. Drivers act on their own offers and stops."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from retailers.models import Product, Stock, StockAdjustment


def rows(n, **over):
    return [
        {
            "sku": f"SKU-{i}",
            "title": f"Item {i}",
            "price_cents": 1000 + i,
            "category": "Makeup",
            "quantity": 5,
            **over,
        }
        for i in range(n)
    ]


def test_inventory_upsert_creates_then_updates(retailer_api, store):
    url = f"/api/v1/stores/{store.pk}/inventory/"
    first = retailer_api.put(url, {"items": rows(3)}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 3, "updated": 0, "unchanged": 0}
    changed = rows(3)
    changed[0]["quantity"] = 9
    second = retailer_api.put(url, {"items": changed}, format="json")
    assert second.json() == {"created": 0, "updated": 1, "unchanged": 2}
    assert Stock.objects.get(store=store, product__sku="SKU-0").on_hand == 9
    assert StockAdjustment.objects.filter(stock__store=store).count() == 4


def test_one_bad_row_writes_nothing_and_names_the_row(retailer_api, store):
    items = rows(3)
    items[1]["title"] = ""
    items[2]["sku"] = "SKU-0"  # duplicate
    response = retailer_api.put(
        f"/api/v1/stores/{store.pk}/inventory/", {"items": items}, format="json"
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["items.1", "items.2"]
    assert not Product.objects.filter(sku__startswith="SKU-").exists()


def test_more_than_5000_rows_is_refused(retailer_api, store):
    response = retailer_api.put(
        f"/api/v1/stores/{store.pk}/inventory/", {"items": rows(5001)}, format="json"
    )
    assert response.status_code == 400


def test_another_retailers_store_is_a_404(other_retailer_api, partner_api, store):
    url = f"/api/v1/stores/{store.pk}/inventory/"
    assert other_retailer_api.put(url, {"items": rows(1)}, format="json").status_code == 404
    assert partner_api.put(url, {"items": rows(1)}, format="json").status_code == 404
    assert other_retailer_api.get(f"/api/v1/stores/{store.pk}/orders/").status_code == 404


@pytest.fixture
def placed(place_order, stock):
    return place_order(stock, quantity=2)


def test_store_accepts_readies_and_hands_over(retailer_api, store, placed, driver, system):
    base = f"/api/v1/stores/{store.pk}/orders/{placed.number}"
    listed = retailer_api.get(f"/api/v1/stores/{store.pk}/orders/").json()["results"]
    assert [o["id"] for o in listed] == [placed.number]
    accepted = retailer_api.post(f"{base}/accept/", {"prep_minutes": 10}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert (
        retailer_api.post(f"{base}/ready/", {"bags": 2}, format="json").json()["status"] == "ready"
    )
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    route = route_plan(mall=store.mall, orders=[placed], actor=system)
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=system), actor=Actor.driver(driver.user)
    )
    wrong = retailer_api.post(f"{base}/hand-over/", {"handover_code": "000000"}, format="json")
    assert wrong.status_code == 422
    route.refresh_from_db()
    done = retailer_api.post(
        f"{base}/hand-over/", {"handover_code": route.handover_code}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "picked_up"


def test_store_rejects_with_a_reason_and_wrong_moves_are_409(retailer_api, store, placed):
    base = f"/api/v1/stores/{store.pk}/orders/{placed.number}"
    assert retailer_api.post(f"{base}/reject/", {}, format="json").status_code == 400
    assert (
        retailer_api.post(f"{base}/reject/", {"reason": "Damaged"}, format="json").json()["status"]
        == "rejected"
    )
    assert retailer_api.post(f"{base}/accept/", {}, format="json").status_code == 409


def test_a_line_unavailable_shrinks_the_order(retailer_api, store, placed):
    line = placed.lines.get()
    response = retailer_api.post(
        f"/api/v1/stores/{store.pk}/orders/{placed.number}/lines/{line.pk}/unavailable/",
        {"available": 1},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["lines"][0]["quantity"] == 1


def test_another_retailer_cannot_act_on_our_order(other_retailer_api, store, other_store, placed):
    for store_id in (store.pk, other_store.pk):
        response = other_retailer_api.post(
            f"/api/v1/stores/{store_id}/orders/{placed.number}/accept/", {}, format="json"
        )
        assert response.status_code == 404
    assert Order.objects.get(pk=placed.pk).status == "placed"


# --- Driver -----------------------------------------------------------------------------


@pytest.fixture
def driver_api(driver):
    c = APIClient()
    c.force_login(driver.user)
    return c


def test_a_driver_sees_and_accepts_their_offer_then_delivers(
    driver_api, driver, place_order, stock, system
):
    from drivers.services import route_offer, route_plan
    from orders import services as s

    order = place_order(stock)
    s.order_accept(order=order, actor=system)
    s.order_mark_ready(order=order, actor=system)
    route = route_plan(mall=order.store.mall, orders=[order], actor=system)
    offer = route_offer(route=route, driver=driver, actor=system)
    offers = driver_api.get("/api/v1/driver/offers/").json()
    assert [o["id"] for o in offers] == [offer.pk]
    assert driver_api.post(f"/api/v1/driver/offers/{offer.pk}/accept/").status_code == 200
    routes = driver_api.get("/api/v1/driver/routes/").json()
    assert routes[0]["id"] == route.pk
    assert driver_api.post(f"/api/v1/driver/routes/{route.pk}/arrive/").status_code == 200
    s.order_pick_up(order=order, actor=system)
    stop = next(st for st in routes[0]["stops"] if st["kind"] == "dropoff")
    wrong = driver_api.post(
        f"/api/v1/driver/stops/{stop['id']}/deliver/",
        {"pin": "0000" if order.delivery_pin != "0000" else "1111"},
    )
    assert wrong.status_code == 422
    ok = driver_api.post(f"/api/v1/driver/stops/{stop['id']}/deliver/", {"pin": order.delivery_pin})
    assert ok.status_code == 200, ok.json()
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_another_driver_gets_404s(other_driver, driver, place_order, stock, system):
    from drivers.services import route_offer, route_plan
    from orders import services as s

    order = place_order(stock)
    s.order_accept(order=order, actor=system)
    route = route_plan(mall=order.store.mall, orders=[order], actor=system)
    offer = route_offer(route=route, driver=driver, actor=system)
    c = APIClient()
    c.force_login(other_driver.user)
    assert c.post(f"/api/v1/driver/offers/{offer.pk}/accept/").status_code == 404
    assert c.get(f"/api/v1/driver/routes/{route.pk}/").status_code == 404


def test_non_drivers_and_api_keys_cannot_use_driver_endpoints(shopper, partner_api):
    c = APIClient()
    c.force_login(shopper.user)
    assert c.get("/api/v1/driver/offers/").status_code == 403
    assert partner_api.get("/api/v1/driver/offers/").status_code in (401, 403)
