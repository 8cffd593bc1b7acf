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
