"""Real concurrency on PostgreSQL: threads with their own connections racing for one thing.

SQLite serialises every write transaction, so these races can't happen there; the tests skip
with a visible reason instead of passing vacuously.
"""

import threading

import pytest
from django.db import connection, connections

from drivers.models import Offer, Route
from drivers.services import RouteError, offer_accept, route_offer, route_plan
from orders.models import Order
from orders.permissions import Actor
from orders.services import CartItem, CheckoutError, checkout_place, order_accept
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL; CI runs it)")


def race(n: int, work) -> list:
    """Run `work(i)` in n threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_twenty_shoppers_racing_for_the_last_five_units_get_exactly_five_orders():
    stock = f.StockFactory(on_hand=5)
    shoppers = [f.ShopperFactory() for _ in range(20)]
    addresses = [f.AddressFactory(shopper=s) for s in shoppers]

    def checkout(i: int):
        return checkout_place(
            actor=Actor.shopper(shoppers[i].user),
            shopper=shoppers[i],
            address=addresses[i],
            recipient_name=f"Shopper {i}",
            items=[CartItem(stock.store_id, stock.product_id, 1)],
        )

    results = race(20, checkout)

    placed = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, CheckoutError)]
    assert len(placed) == 5, results
    assert len(refused) == 15, results
    stock.refresh_from_db()
    assert stock.on_hand == 5 and stock.reserved == 5 and stock.available == 0
    assert Order.objects.count() == 5


def test_two_drivers_accepting_one_route_at_once_give_it_to_exactly_one():
    stock = f.StockFactory(on_hand=5)
    mall = stock.store.mall
    shopper = f.ShopperFactory()
    (order,) = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=f.AddressFactory(shopper=shopper),
        recipient_name="Shopper",
        items=[CartItem(stock.store_id, stock.product_id, 1)],
    )
    order_accept(order=order, actor=Actor.system())
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    from drivers.services import driver_go_online

    drivers = [driver_go_online(driver=f.DriverFactory(), mall=mall) for _ in range(2)]
    offers = [route_offer(route=route, driver=d, actor=Actor.system()) for d in drivers]

    results = race(2, lambda i: offer_accept(offer=offers[i], actor=Actor.driver(drivers[i].user)))

    winners = [r for r in results if isinstance(r, Route)]
    losers = [r for r in results if isinstance(r, RouteError)]
    assert len(winners) == 1 and len(losers) == 1, results
    route.refresh_from_db()
    assert route.status == Route.Status.ACCEPTED
    assert route.driver_id in {d.pk for d in drivers}
    assert Offer.objects.filter(route=route, status=Offer.Status.ACCEPTED).count() == 1
    assert Offer.objects.filter(route=route, status=Offer.Status.PENDING).count() == 0


def test_concurrent_retries_of_one_idempotency_key_create_one_order():
    stock = f.StockFactory(on_hand=50)
    shopper = f.ShopperFactory()
    address = f.AddressFactory(shopper=shopper)

    def checkout(i: int):
        return checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="Shopper",
            items=[CartItem(stock.store_id, stock.product_id, 2)],
            idempotency_key="retry-me",
        )

    results = race(10, checkout)

    assert all(isinstance(r, list) for r in results), results
    assert {r[0].pk for r in results} == {Order.objects.get().pk}
    stock.refresh_from_db()
    assert stock.reserved == 2
