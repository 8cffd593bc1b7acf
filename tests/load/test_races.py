"""Hundreds of threads with their own connections racing for one thing on PostgreSQL: the
last units of stock, one route, one Idempotency-Key.

SQLite serialises every write, so these races can't happen there; they skip with a reason.
"""

import time
from collections import Counter

import pytest
from rest_framework.test import APIClient

from drivers.models import Offer, Route
from drivers.services import RouteError, driver_go_online, offer_accept, route_offer, route_plan
from orders.api.auth import api_key_create
from orders.models import ApiScope, IdempotencyKey, Order, OrderEvent
from orders.permissions import Actor
from orders.services import CartItem, CheckoutError, checkout_place, order_accept
from retailers.models import Stock
from tests import factories as f

from .conftest import CONNECTIONS_AT_ONCE, race

pytestmark = [
    pytest.mark.load,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only", "frozen"),
]


def test_200_shoppers_racing_for_the_last_5_units_get_exactly_5_orders():
    stock = f.StockFactory(on_hand=5)
    title, store_name = stock.product.title, stock.store.name
    shoppers = [f.ShopperFactory() for _ in range(200)]
    addresses = [f.AddressFactory(shopper=s) for s in shoppers]

    def checkout(i: int):
        return checkout_place(
            actor=Actor.shopper(shoppers[i].user),
            shopper=shoppers[i],
            address=addresses[i],
            recipient_name=f"Shopper {i}",
            items=[CartItem(stock.store_id, stock.product_id, 1)],
        )

    started = time.perf_counter()
    outcome = race(200, checkout)
    seconds = time.perf_counter() - started

    placed = [r for r in outcome.results if isinstance(r, list)]
    refused = [r for r in outcome.results if isinstance(r, CheckoutError)]
    others = [r for r in outcome.results if not isinstance(r, list | CheckoutError)]
    assert not others, others[:3]
    assert len(placed) == 5 and len(refused) == 195
    # Every refusal says plainly why: sold out, on the line that asked for it.
    assert {(e.errors[0]["line"], e.errors[0]["message"]) for e in refused} == {
        (0, f"{title} is sold out at {store_name}.")
    }
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved, stock.available) == (5, 5, 0)
    assert Order.objects.count() == 5
    assert {o.pk for (o,) in placed} == set(Order.objects.values_list("pk", flat=True))
    assert sorted(o.shopper_id for (o,) in placed) == sorted(
        Order.objects.values_list("shopper_id", flat=True)
    )
    assert OrderEvent.objects.filter(to_status=Order.Status.PLACED).count() == 5
    assert outcome.peak_connections <= CONNECTIONS_AT_ONCE
    print(
        f"checkout race: 200 threads, {len(placed)} placed, {len(refused)} refused, "
        f"peak {outcome.peak_connections} connections, {seconds:.1f} s"
    )


def test_50_drivers_accepting_one_route_at_once_give_it_to_exactly_one(mall, stock, system):
    shopper = f.ShopperFactory()
    (order,) = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=f.AddressFactory(shopper=shopper),
        recipient_name="Shopper",
        items=[CartItem(stock.store_id, stock.product_id, 1)],
    )
    order_accept(order=order, actor=system)
    route = route_plan(mall=mall, orders=[order], actor=system)
    drivers = [driver_go_online(driver=f.DriverFactory(), mall=mall) for _ in range(50)]
    offers = [route_offer(route=route, driver=d, actor=system) for d in drivers]

    started = time.perf_counter()
    outcome = race(50, lambda i: offer_accept(offer=offers[i], actor=Actor.driver(drivers[i].user)))
    seconds = time.perf_counter() - started

    winners = [(i, r) for i, r in enumerate(outcome.results) if isinstance(r, Route)]
    losers = [r for r in outcome.results if isinstance(r, RouteError)]
    assert len(winners) == 1 and len(losers) == 49, outcome.results
    assert {str(e) for e in losers} <= {
        "Another driver took this route first.",
        "This offer is no longer open.",
    }
    (winner_index, _), winner = winners[0], drivers[winners[0][0]]
    route.refresh_from_db()
    assert route.status == Route.Status.ACCEPTED and route.driver_id == winner.pk
    statuses = Counter(Offer.objects.filter(route=route).values_list("status", flat=True))
    assert statuses == {Offer.Status.ACCEPTED: 1, Offer.Status.WITHDRAWN: 49}
    accepted = Offer.objects.get(route=route, status=Offer.Status.ACCEPTED)
    assert accepted.pk == offers[winner_index].pk
    assert Route.objects.filter(status__in=Route.HELD_STATUSES).count() == 1
    print(f"route race: 50 drivers, 1 accepted, 49 refused, {seconds:.1f} s")


def test_100_retries_of_one_idempotency_key_through_the_api_make_one_order(stock, driver):
    key, raw = api_key_create(name="load", partner="Acme Market", scopes=list(ApiScope.values))
    body = {
        "store_id": stock.store_id,
        "items": [{"product_id": stock.product_id, "quantity": 2}],
        "address": {
            "line1": "1 Main St",
            "city": "Las Vegas",
            "state": "NV",
            "zip_code": "89109",
            "latitude": 36.14,
            "longitude": -115.15,
        },
        "recipient": {"name": "Alice Shopper", "phone": "+17025550100"},
        "external_id": "mkt-load-1",
    }

    def post_until_answered(i: int) -> list:
        """Like a client told 409 in flight: wait a moment and send the same request again."""
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        seen = []
        for _ in range(200):
            response = client.post(
                "/api/v1/orders/", body, format="json", headers={"Idempotency-Key": "retry-storm"}
            )
            seen.append(response)
            if response.status_code != 409:
                break
            time.sleep(0.05)
        return seen

    started = time.perf_counter()
    outcome = race(100, post_until_answered)
    seconds = time.perf_counter() - started

    errors = [r for r in outcome.results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    responses = [r for seen in outcome.results for r in seen]
    assert not [r for r in responses if r.status_code >= 500], [
        (r.status_code, r.content[:200]) for r in responses if r.status_code >= 500
    ]
    order = Order.objects.get()
    created = [r for r in responses if r.status_code == 201]
    first = [r for r in created if not r.has_header("Idempotent-Replayed")]
    replays = [r for r in created if r.get("Idempotent-Replayed") == "true"]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(first) == 1, [(r.status_code, r.headers) for r in created]
    assert first[0].json()["id"] == order.number
    # Every other answer is the first one replayed (the same JSON; PostgreSQL's jsonb keeps
    # it with its keys in another order) or "still in flight".
    assert all(r.json() == first[0].json() for r in replays)
    assert {r.json()["type"].rsplit("/", 1)[-1] for r in in_flight} <= {"idempotency_in_flight"}
    assert len(first) + len(replays) + len(in_flight) == len(responses), Counter(
        r.status_code for r in responses
    )
    # Every client ends up with the order.
    assert all(seen[-1].status_code == 201 for seen in outcome.results)
    record = IdempotencyKey.objects.get(key="retry-storm")
    assert record.response_status == 201
    assert Stock.objects.get(pk=stock.pk).reserved == 2
    first_answers = Counter(
        "created" if seen[0] is first[0] else str(seen[0].status_code) for seen in outcome.results
    )
    print(
        f"idempotency storm: 100 clients, {len(responses)} requests, 1 created, "
        f"{len(replays)} replays, {len(in_flight)} in-flight 409s, 0 5xx; first answers "
        f"{dict(first_answers)}, {seconds:.1f} s"
    )
