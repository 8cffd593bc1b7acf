"""`load_demo` builds a whole demo through the services, and running it again changes nothing."""

import io
from collections import Counter

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from drivers.models import Block, BlockBooking, Driver, Offer, Route, RouteStop
from orders.models import Address, Order, OrderEvent, OrderLine, Shopper
from retailers.geo import haversine_km
from retailers.models import Mall, Product, Stock, Store, StoreHours, StoreMembership

pytestmark = pytest.mark.django_db

OPEN = (Order.Status.PLACED, Order.Status.ACCEPTED, Order.Status.READY)


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    """Load once for the module (about a second), inside a transaction rolled back at the end.

    Each test still runs in its own savepoint, so what one test changes the next won't see.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_demo()
        transaction.set_rollback(True)


def counts() -> dict[str, int]:
    models = [
        Mall, Store, StoreHours, StoreMembership, Product, Stock, Shopper, Address, Driver,
        Block, BlockBooking, Route, RouteStop, Offer, Order, OrderLine, OrderEvent,
        get_user_model(),
    ]  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


def test_it_creates_three_real_malls_with_stores_and_a_catalog(demo_output):
    malls = {m.slug: m for m in Mall.objects.filter(is_sandbox=False)}
    assert set(malls) == {"fashion-show-las-vegas", "tysons-corner-center", "the-galleria-houston"}
    assert malls["fashion-show-las-vegas"].timezone == "America/Los_Angeles"
    assert malls["tysons-corner-center"].timezone == "America/New_York"
    assert malls["the-galleria-houston"].timezone == "America/Chicago"
    for mall in malls.values():
        stores = list(mall.stores.all())
        assert len(stores) >= 6
        assert all(s.hours.count() == 7 for s in stores)
    assert Product.objects.count() >= 300
    assert Stock.objects.filter(on_hand=0).exists()


def test_it_makes_the_api_sandbox_mall_too(demo_output):
    (sandbox,) = Mall.objects.filter(is_sandbox=True)
    assert sandbox.slug == "mallrun-sandbox"
    outfitters = sandbox.stores.get()
    assert outfitters.name == "Sandbox Outfitters" and outfitters.hours.count() == 7
    assert not StoreMembership.objects.filter(store__mall=sandbox).exists()


def test_it_has_orders_in_every_state(demo_output):
    by_status = Counter(Order.objects.values_list("status", flat=True))
    assert set(by_status) == set(Order.Status.values)
    assert "Orders" in demo_output and "Demo logins" in demo_output


def test_every_order_event_chain_starts_at_placed(demo_output):
    for order in Order.objects.prefetch_related("events"):
        events = list(order.events.all())
        assert events[0].to_status == Order.Status.PLACED
        assert events[-1].to_status == order.status


def test_the_demo_logins_sign_in_with_password_mallrun(demo_output):
    for username in ("shopper", "store", "driver", "ops"):
        assert authenticate(username=username, password="mallrun") is not None, username
    ops = get_user_model().objects.get(username="ops")
    assert ops.is_staff and ops.is_superuser


def test_each_demo_login_has_something_to_look_at(demo_output):
    las_vegas = Mall.objects.get(slug="fashion-show-las-vegas")

    shopper = Shopper.objects.get(user__username="shopper")
    assert shopper.orders.exists()
    for address in shopper.addresses.all():
        km = haversine_km(
            las_vegas.latitude, las_vegas.longitude, address.latitude, address.longitude
        )
        assert km < float(las_vegas.service_radius_km)

    memberships = StoreMembership.objects.filter(user__username="store")
    assert memberships.count() >= 2
    assert all(m.role == StoreMembership.Role.MANAGER for m in memberships)
    home_store = memberships.get(store__mall=las_vegas).store
    assert set(home_store.orders.values_list("status", flat=True)) >= set(OPEN)

    driver = Driver.objects.get(user__username="driver")
    assert driver.status == Driver.Status.APPROVED
    assert driver.home_mall == las_vegas and driver.online_mall == las_vegas
    assert driver.offers.filter(status=Offer.Status.PENDING).count() >= 2

    assert set(Driver.objects.values_list("status", flat=True)) == set(Driver.Status.values)


def test_running_it_again_changes_nothing(demo_output):
    before = counts()
    assert "already loaded" in load_demo()
    assert counts() == before


def test_every_stock_row_reserves_exactly_the_open_order_lines(demo_output):
    reserved = {
        (row["order__store_id"], row["product_id"]): row["total"]
        for row in OrderLine.objects.filter(order__status__in=OPEN)
        .values("order__store_id", "product_id")
        .annotate(total=Sum("quantity"))
    }
    rows = list(Stock.objects.all())
    for row in rows:
        assert 0 <= row.reserved <= row.on_hand
        assert row.reserved == reserved.get((row.store_id, row.product_id), 0)
    assert set(reserved) <= {(r.store_id, r.product_id) for r in rows}
