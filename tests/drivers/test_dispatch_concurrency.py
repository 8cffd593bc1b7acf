"""Dispatch under real concurrency on PostgreSQL: two cycles at one mall, racing lock claims,
and two drivers accepting a dispatched route at once. SQLite runs one writer at a time, so
these skip there with a visible reason; the lock's claim semantics are tested without threads
in test_dispatch_cycle.py."""

import time

import pytest
from django.db import connection

from drivers.dispatch import cycle as cycle_module
from drivers.dispatch.cycle import dispatch_cycle
from drivers.dispatch.lock import lock_claim
from drivers.models import DispatchLock, DispatchRun, Offer, Route, RouteStop
from drivers.services import RouteError, driver_go_online, offer_accept, route_offer
from orders.models import Order
from orders.permissions import Actor
from orders.services import CartItem, checkout_place, order_accept, order_mark_ready
from tests import factories as f
from tests.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent writers (set DATABASE_URL)")


def ready_orders(count: int):
    stock = f.StockFactory(on_hand=50)
    shopper = f.ShopperFactory()
    address = f.AddressFactory(shopper=shopper)
    orders = []
    for _ in range(count):
        (order,) = checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="Shopper",
            items=[CartItem(stock.store_id, stock.product_id, 1)],
        )
        order_accept(order=order, actor=Actor.system())
        orders.append(order_mark_ready(order=order, actor=Actor.system()))
    return stock.store.mall, orders


def test_racing_lock_claims_have_exactly_one_winner():
    mall = f.MallFactory()

    results = race(8, lambda i: lock_claim(mall_id=mall.pk, token=f"worker-{i}"))

    assert results.count(True) == 1, results
    assert results.count(False) == 7, results
    assert DispatchLock.objects.get(mall=mall).rerun


def test_two_cycles_at_one_mall_at_once_plan_each_order_once(monkeypatch):
    mall, orders = ready_orders(4)
    driver_go_online(driver=f.DriverFactory(), mall=mall)
    real_plan = cycle_module.make_plan

    def slow_plan(*args, **kwargs):
        time.sleep(0.5)  # hold the lock long enough for the other cycle to arrive
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(cycle_module, "make_plan", slow_plan)

    results = race(2, lambda i: dispatch_cycle(mall=mall, trigger=f"t{i}", time_limit=0.2))

    assert all(isinstance(r, DispatchRun) for r in results), results
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == [DispatchRun.Outcome.DONE, DispatchRun.Outcome.SKIPPED]
    # The holder ran once more for the skipped trigger.
    assert DispatchRun.objects.filter(trigger__endswith="(re-run)").count() == 1
    live = RouteStop.objects.filter(
        kind="dropoff", route__status__in=Route.ACTIVE_STATUSES
    ).exclude(status=RouteStop.Status.CANCELLED)
    assert sorted(live.values_list("order_id", flat=True)) == sorted(o.pk for o in orders)
    assert Offer.objects.filter(status=Offer.Status.PENDING).count() == 1
    assert DispatchLock.objects.get(mall=mall).holder == ""


def test_two_drivers_accepting_a_dispatched_route_at_once_give_it_to_one():
    mall, _ = ready_orders(2)
    drivers = [driver_go_online(driver=f.DriverFactory(), mall=mall) for _ in range(2)]
    dispatch_cycle(mall=mall, time_limit=0.2)
    route = Route.objects.get(mall=mall, status=Route.Status.OFFERED)
    # Dispatch asks one driver at a time; ops offer it to the second as well.
    offered = Offer.objects.get(route=route, status=Offer.Status.PENDING)
    other = next(d for d in drivers if d.pk != offered.driver_id)
    offers = [offered, route_offer(route=route, driver=other, actor=Actor.system("ops"))]

    results = race(
        2, lambda i: offer_accept(offer=offers[i], actor=Actor.driver(offers[i].driver.user))
    )

    winners = [r for r in results if isinstance(r, Route)]
    losers = [r for r in results if isinstance(r, RouteError)]
    assert len(winners) == 1 and len(losers) == 1, results
    route.refresh_from_db()
    assert route.status == Route.Status.ACCEPTED
    assert Offer.objects.filter(route=route, status=Offer.Status.ACCEPTED).count() == 1
    assert Order.objects.filter(status=Order.Status.READY).count() == 2
