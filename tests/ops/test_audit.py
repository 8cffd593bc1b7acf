"""The audit trail: one searchable, filterable list over every change by a person or API key,
written by the services (store settings, pauses, driver reviews, interventions, admin)."""

import datetime as dt

import pytest
from django.urls import reverse

from drivers.services import driver_review
from orders.permissions import Actor
from retailers.models import AuditEntry
from retailers.services import DayHours, stock_adjust, store_pause, store_settings_update
from tests import factories as f


def trail(client, **params):
    response = client.get(reverse("ops:audit"), params)
    assert response.status_code == 200
    return response.context["rows"]


def test_store_settings_write_before_and_after(store, manager):
    store_settings_update(
        store=store,
        actor=Actor.store_staff(manager),
        prep_minutes=25,
        acceptance_minutes=10,
        pickup_instructions="Back door",
        hours=[DayHours(0, dt.time(9), dt.time(17))],
    )
    e = AuditEntry.objects.get(action="store.settings")
    assert (e.actor_kind, e.actor_user) == ("store", manager)
    assert e.before["prep_minutes"] == 15 and e.after["prep_minutes"] == 25
    assert len(e.before["hours"]) == 7 and e.after["hours"] == [[0, "09:00:00", "17:00:00"]]


def test_a_refused_change_writes_no_entry(store, associate, at):
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        store_pause(
            store=store, actor=Actor.store_staff(associate), until=at.now + dt.timedelta(hours=1)
        )
    assert not AuditEntry.objects.exists()


def test_driver_review_is_audited(ops_user):
    d = f.DriverFactory(status="pending")
    driver_review(driver=d, actor=Actor.ops(ops_user), status="rejected", reason="No licence")
    e = AuditEntry.objects.get()
    assert (e.action, e.reason, e.before["status"], e.after["status"]) == (
        "driver.rejected",
        "No licence",
        "pending",
        "rejected",
    )


def test_the_trail_merges_every_history_table_newest_first(
    ops_client, place_order, stock, manager, store, at, system
):
    order = place_order(stock)  # an order event, by the shopper
    at.advance(minutes=1)
    stock_adjust(
        store=store,
        product=stock.product,
        actor=Actor.store_staff(manager),
        delta=3,
        reason="received",
    )
    at.advance(minutes=1)
    store_pause(store=store, actor=Actor.store_staff(manager), until=at.now + dt.timedelta(hours=1))
    rows = trail(ops_client)
    assert [r.source for r in rows] == ["audit", "stock", "order"]
    assert rows[2].object == order.number
    assert rows[1].after == "13"


def test_the_trail_searches_and_filters(ops_client, place_order, stock, manager, store, at, mall):
    order = place_order(stock)
    store_pause(store=store, actor=Actor.store_staff(manager), until=at.now + dt.timedelta(hours=1))
    other = f.MallFactory()

    assert [r.object for r in trail(ops_client, q=order.number)] == [order.number]
    assert {r.source for r in trail(ops_client, source="audit")} == {"audit"}
    assert {r.actor_kind for r in trail(ops_client, actor_kind="shopper")} == {"shopper"}
    assert trail(ops_client, mall=other.slug) == []
    assert len(trail(ops_client, mall=mall.slug)) == 2
    local_day = mall.local(at.now).date()
    assert len(trail(ops_client, day=local_day.isoformat(), mall=mall.slug)) == 2
    assert trail(ops_client, day=(local_day - dt.timedelta(days=1)).isoformat()) == []


def test_a_bad_filter_is_shown_next_to_the_field(ops_client):
    response = ops_client.get(reverse("ops:audit"), {"day": "yesterday-ish"})
    assert response.context["form"].errors["day"]
    assert response.context["rows"] == []


def test_admin_edits_of_malls_stores_and_products_are_audited(client, ops_user, store):
    ops_user.is_superuser = True
    ops_user.save()
    client.force_login(ops_user)
    product = f.ProductFactory(retailer=store.retailer, price_cents=1000)
    url = reverse("admin:retailers_product_change", args=[product.pk])
    data = {
        "retailer": store.retailer_id,
        "sku": product.sku,
        "title": product.title,
        "category": product.category,
        "bags": 1,
        "is_active": "on",
    }
    data["price_cents"] = 1250
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    e = AuditEntry.objects.get(action="product.change")
    assert (e.before, e.after) == ({"price_cents": 1000}, {"price_cents": 1250})
    assert e.actor_user == ops_user


def test_admin_store_pause_action_goes_through_the_service(client, ops_user, store):
    ops_user.is_superuser = True
    ops_user.save()
    client.force_login(ops_user)
    client.post(
        reverse("admin:retailers_store_changelist"),
        {"action": "pause_one_hour", "_selected_action": [store.pk], "index": 0},
    )
    store.refresh_from_db()
    assert store.paused_until is not None
    assert AuditEntry.objects.get(action="store.pause").actor_user == ops_user


def test_the_admin_lists_audit_entries_read_only(client, ops_user, store, manager, at):
    ops_user.is_superuser = True
    ops_user.save()
    client.force_login(ops_user)
    store_pause(store=store, actor=Actor.store_staff(manager), until=at.now + dt.timedelta(hours=1))
    response = client.get(reverse("admin:retailers_auditentry_changelist"), {"q": "store.pause"})
    assert response.context["cl"].result_count == 1
    assert client.get(reverse("admin:retailers_auditentry_add")).status_code == 403


def test_the_trails_query_count_does_not_grow_with_rows(
    ops_client, place_order, stock, manager, store, at
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            trail(ops_client)
        return len(ctx.captured_queries)

    def changes():
        place_order(stock)
        stock_adjust(
            store=store,
            product=stock.product,
            actor=Actor.store_staff(manager),
            delta=1,
            reason="received",
        )
        store_settings_update(
            store=store,
            actor=Actor.store_staff(manager),
            prep_minutes=20,
            acceptance_minutes=10,
            pickup_instructions="",
            hours=[DayHours(d, dt.time(0), dt.time(23, 59)) for d in range(7)],
        )

    changes()
    few = count()
    for _ in range(3):
        changes()
    assert count() == few


def test_htmx_filtering_gets_only_the_results(ops_client):
    response = ops_client.get(reverse("ops:audit"), {"q": "x"}, headers={"HX-Request": "true"})
    assert b'id="results"' in response.content and b"<form" not in response.content
