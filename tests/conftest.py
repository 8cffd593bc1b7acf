"""Named actors in one place, so every refusal is one line to test.

A Las Vegas mall with two stores ("our" store and another retailer's), a shopper and
another shopper, a manager and an associate of our store, staff of the other store, an
approved driver online at the mall and another one, and ops staff.
"""

import pytest

from orders.notifications import LocmemSmsBackend
from orders.permissions import Actor
from orders.services import CartItem, checkout_place
from retailers.models import StoreMembership
from tests import factories as f


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _clean_default_cache():
    """Login-failure counters and throttles live in the default cache: none carry over."""
    from django.core.cache import cache, caches

    from orders import board_cache

    cache.clear()
    caches["local"].clear()  # listings and frames a test kept (cache seconds > 0)
    from orders.api import representations
    from orders.api.throttling import forget_leases

    board_cache._recent.clear()  # renders this process keeps beside the shared cache
    representations.forget_all()
    forget_leases()  # throttle budgets this process reserved
    yield


@pytest.fixture
def mall(db):
    return f.MallFactory(name="Fashion Show", slug="fashion-show")


@pytest.fixture
def store(mall):
    return f.StoreFactory(mall=mall, retailer=f.RetailerFactory(name="Sephora", slug="sephora"))


@pytest.fixture
def other_store(mall):
    return f.StoreFactory(mall=mall, retailer=f.RetailerFactory(name="Nike", slug="nike"))


@pytest.fixture
def stock(store):
    return f.StockFactory(store=store, on_hand=10)


@pytest.fixture
def other_stock(other_store):
    return f.StockFactory(store=other_store, on_hand=10)


@pytest.fixture
def shopper(db):
    return f.ShopperFactory(user=f.UserFactory(username="alice"))


@pytest.fixture
def other_shopper(db):
    return f.ShopperFactory(user=f.UserFactory(username="bob"))


@pytest.fixture
def address(shopper):
    return f.AddressFactory(shopper=shopper)


@pytest.fixture
def manager(store):
    return f.MembershipFactory(store=store, role=StoreMembership.Role.MANAGER).user


@pytest.fixture
def associate(store):
    return f.MembershipFactory(store=store, role=StoreMembership.Role.ASSOCIATE).user


@pytest.fixture
def other_staff(other_store):
    return f.MembershipFactory(store=other_store, role=StoreMembership.Role.MANAGER).user


@pytest.fixture
def ops_user(db):
    return f.UserFactory(username="olivia-ops", is_staff=True)


@pytest.fixture
def driver(mall):
    d = f.DriverFactory(user=f.UserFactory(username="dan-driver"))
    from drivers.services import driver_go_online

    return driver_go_online(driver=d, mall=mall)


@pytest.fixture
def other_driver(mall):
    d = f.DriverFactory(user=f.UserFactory(username="erin-driver"))
    from drivers.services import driver_go_online

    return driver_go_online(driver=d, mall=mall)


@pytest.fixture
def system():
    return Actor.system("tests")


@pytest.fixture
def place_order(shopper, address):
    """Place an order for `quantity` units of a stock row, as the shopper."""

    def _place(stock_row, quantity=1, **kwargs):
        (order,) = checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="Alice Shopper",
            recipient_email="alice@example.com",
            recipient_phone="+17025550100",
            items=[CartItem(stock_row.store_id, stock_row.product_id, quantity)],
            **kwargs,
        )
        return order

    return _place


@pytest.fixture
def advance(driver, system):
    """Move an order along its life through the services, as the system and `driver`.

    `advance(order, "picked_up")` plans a one-order route, offers it to `driver`, who accepts,
    and confirms the pick-up; the refreshed order is returned. It carries on from wherever
    the order is.
    """
    from drivers.services import offer_accept, route_offer, route_plan
    from orders import services as s

    as_driver = Actor.driver(driver.user)

    def _route(order):
        route = route_plan(mall=order.store.mall, orders=[order], actor=system)
        offer_accept(offer=route_offer(route=route, driver=driver, actor=system), actor=as_driver)

    steps = {
        "accepted": lambda o: s.order_accept(order=o, actor=system),
        "ready": lambda o: s.order_mark_ready(order=o, actor=system),
        "routed": _route,
        "picked_up": lambda o: s.order_pick_up(order=o, actor=system),
        "delivered": lambda o: s.order_deliver(order=o, actor=as_driver, pin=o.delivery_pin),
        "delivery_failed": lambda o: s.order_fail_delivery(
            order=o, actor=as_driver, reason="Nobody home"
        ),
        "returned": lambda o: s.order_return(order=o, actor=system),
        "rejected": lambda o: s.order_reject(order=o, actor=system, reason="Out of stock"),
        "cancelled": lambda o: s.order_cancel(order=o, actor=system, reason="Changed my mind"),
    }
    collected = ["accepted", "ready", "routed", "picked_up"]
    paths = {
        "placed": [],
        "accepted": ["accepted"],
        "ready": ["accepted", "ready"],
        "picked_up": collected,
        "delivered": [*collected, "delivered"],
        "delivery_failed": [*collected, "delivery_failed"],
        "returned": [*collected, "delivery_failed", "returned"],
        "rejected": ["rejected"],
        "cancelled": ["cancelled"],
    }

    def _advance(order, status):
        order.refresh_from_db()
        done = paths[order.status]
        assert paths[status][: len(done)] == done, f"can't go from {order.status} to {status}"
        for step in paths[status][len(done) :]:
            order.refresh_from_db()
            steps[step](order)
        order.refresh_from_db()
        assert order.status == status
        return order

    return _advance


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Threads of the live server can outlive a test with a PostgreSQL session open, which
    stops the test database from being dropped at the end; end those sessions first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
