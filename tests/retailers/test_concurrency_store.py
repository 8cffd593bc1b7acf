"""Races in the portal on PostgreSQL: two managers demoting each other, an import against a
checkout, concurrent stock adjustments. They skip on SQLite, which serialises writes."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from orders.permissions import Actor
from orders.services import CartItem, CheckoutError, checkout_place
from retailers.models import Stock, StoreMembership
from retailers.services import (
    StoreError,
    catalog_import_apply,
    catalog_import_parse,
    staff_change_role,
    stock_adjust,
)
from tests import factories as f
from tests.test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL; CI runs it)")


def test_two_managers_demoting_each_other_at_once_leave_one_manager():
    store = f.StoreFactory()
    a = f.MembershipFactory(store=store, role="manager")
    b = f.MembershipFactory(store=store, role="manager")
    pairs = [(a, b), (b, a)]

    def demote(i):
        actor_m, target = pairs[i]
        return staff_change_role(
            membership=StoreMembership.objects.get(pk=target.pk),
            actor=Actor.store_staff(actor_m.user),
            role="associate",
        )

    results = race(2, demote)
    # the loser is refused either as the last manager or, if it started after the winner
    # committed, as no longer being a manager at all
    refused = [r for r in results if isinstance(r, StoreError | PermissionDenied)]
    assert len(refused) == 1, results
    assert StoreMembership.objects.filter(store=store, role="manager").count() == 1


def test_an_import_and_a_checkout_racing_never_oversell():
    stock = f.StockFactory(on_hand=10)
    manager = f.MembershipFactory(store=stock.store, role="manager").user
    shopper = f.ShopperFactory()
    address = f.AddressFactory(shopper=shopper)
    plan_data = f"sku,title,price,category,quantity\n{stock.product.sku},T,1,C,3\n".encode()

    def work(i):
        if i == 0:
            return catalog_import_apply(
                store=stock.store,
                actor=Actor.store_staff(manager),
                plan=catalog_import_parse(plan_data),
            )
        return checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="S",
            items=[CartItem(stock.store_id, stock.product_id, 4)],
        )

    results = race(2, work)
    stock.refresh_from_db()
    assert stock.reserved <= stock.on_hand
    imported, ordered = results
    # exactly one of them wins: 3 on hand can't cover an order of 4
    assert isinstance(imported, StoreError) != isinstance(ordered, CheckoutError), results


def test_concurrent_stock_adjustments_add_up():
    stock = f.StockFactory(on_hand=10)
    manager = f.MembershipFactory(store=stock.store, role="manager").user

    def add(i):
        return stock_adjust(
            store=stock.store,
            product=stock.product,
            actor=Actor.store_staff(manager),
            delta=1,
            reason="received",
        )

    race(8, add)
    assert Stock.objects.get(pk=stock.pk).on_hand == 18
    assert stock.adjustments.count() == 8
