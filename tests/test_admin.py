"""The operations admin: every model is there, statuses are read-only, actions go through the
services, and lists don't grow their query count with their rows."""

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drivers.models import Driver, Offer, PayLine, ProofOfDelivery, Route, RouteEvent
from drivers.services import block_book, offer_accept, route_offer, route_plan
from orders.models import Cart, CartLine, IdempotencyKey, Order, OrderEvent, Payment
from orders.permissions import Actor
from orders.quotes import quote_create
from orders.services import order_accept, order_deliver, order_mark_ready, order_pick_up
from retailers import clock
from retailers.models import DeliveryFeeTier, Stock, Store
from tests import factories as f

# Every model of the three apps: a new model without an admin fails the test below.
ALL_MODELS = sorted(
    f"{m._meta.app_label}.{m._meta.model_name}"
    for label in ("retailers", "orders", "drivers")
    for m in apps.get_app_config(label).get_models()
)


def url(label: str, view: str, *args) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def ops_client(client, ops_user):
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    client.force_login(ops_user)
    return client


@pytest.fixture
def ready_order(place_order, stock, manager):
    def _ready():
        order = place_order(stock)
        staff = Actor.store_staff(manager)
        order_accept(order=order, actor=staff)
        order_mark_ready(order=order, actor=staff)
        return order

    return _ready


@pytest.fixture
def picked_up_order(ready_order, driver, ops_user):
    """An order collected by the driver (the sequence of tests/orders/test_services_order_life)."""
    order = ready_order()
    route = route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
    offer = route_offer(route=route, driver=driver, actor=Actor.system())
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    order_pick_up(order=order, actor=Actor.system())
    order.refresh_from_db()
    assert order.status == Order.Status.PICKED_UP
    return order


@pytest.fixture
def busy_day(picked_up_order, place_order, stock, driver, mall):
    """At least one row of every model: a delivered order with its route, offer, proof and
    pay, an open order placed with an idempotency key, and a booked block."""
    order_deliver(order=picked_up_order, actor=Actor.system(), pin=picked_up_order.delivery_pin)
    place_order(stock, idempotency_key="checkout-1")
    block_book(block=f.BlockFactory(mall=mall), driver=driver)
    DeliveryFeeTier.objects.create(mall=mall, up_to_km=5, extra_cents=0)
    from config.login_throttle import failed, reserve

    reserve(None, "someone-forgetful")
    failed(None, "someone-forgetful")
    from orders.counters import bump_counter

    bump_counter("throttle_api_key_key1:1", expires_at=mall.local_now())
    cart = Cart.objects.create(user=picked_up_order.shopper.user)
    CartLine.objects.create(
        cart=cart, store=stock.store, product=stock.product, quantity=1, seen_price_cents=100
    )
    Payment.objects.create(
        reference="pay-1", provider="local-test", amount_cents=100, status="authorized"
    )
    quote_create(store=stock.store, latitude=mall.latitude, longitude=mall.longitude)
    from retailers.services import stock_adjust, store_closure_add

    stock_adjust(
        store=stock.store, product=stock.product, actor=Actor.system(), delta=2, reason="received"
    )
    today = mall.local_now().date()
    store_closure_add(store=stock.store, actor=Actor.system(), starts_on=today, ends_on=today)
    # A dispatch cycle over one ready order: its run, decisions and the mall's lock row.
    from drivers.dispatch.cycle import dispatch_cycle

    ready = order_accept(order=place_order(stock), actor=Actor.system())
    order_mark_ready(order=ready, actor=Actor.system())
    assert dispatch_cycle(mall=mall, trigger="admin test", time_limit=0.1).routes_planned == 1
    # An audit entry (store settings, reviews, interventions): resuming writes one.
    from retailers.services import store_resume

    store_resume(store=stock.store, actor=Actor.system(), reason="admin test")
    # API v1 and webhooks: a key, an endpoint, a delivery with one logged attempt.
    from orders.api.auth import api_key_create
    from orders.models import WebhookAttempt
    from orders.webhooks import webhook_endpoint_create, webhook_send_test

    api_key_create(name="admin test", partner="Acme Market", scopes=["orders:read"])
    from orders.api.auth import driver_token_create

    driver_token_create(driver=driver, name="Pixel 8")
    endpoint = webhook_endpoint_create(url="https://acme.example/hooks", partner="Acme Market")
    delivery = webhook_send_test(endpoint=endpoint)
    WebhookAttempt.objects.create(delivery=delivery, at=delivery.created_at, status_code=200)
    assert ProofOfDelivery.objects.exists()
    assert IdempotencyKey.objects.exists()
    return picked_up_order


# --- Every model is there -----------------------------------------------------------------


def test_every_model_of_the_three_apps_is_registered():
    registered = {
        f"{m._meta.app_label}.{m._meta.model_name}"
        for m in admin.site._registry
        if m._meta.app_label in ("retailers", "orders", "drivers")
    }
    assert registered == set(ALL_MODELS)


@pytest.mark.parametrize("label", ALL_MODELS)
def test_the_changelist_and_a_change_page_load_for_every_model(ops_client, busy_day, label):
    response = ops_client.get(url(label, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    obj = response.context["cl"].result_list[0]
    assert ops_client.get(url(label, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("label", ALL_MODELS)
def test_search_on_every_changelist_answers(ops_client, busy_day, label):
    for q in ("MR-", "42", "nothing like this"):
        assert ops_client.get(url(label, "changelist"), {"q": q}).status_code == 200


def test_the_site_is_called_mallrun_operations(ops_client):
    response = ops_client.get(reverse("admin:index"))
    assert "Mallrun operations" in response.text


def test_a_store_manager_is_sent_to_the_admin_login(client, manager):
    client.force_login(manager)
    for path in (reverse("admin:index"), url("orders.order", "changelist")):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


# --- Lists and columns ---------------------------------------------------------------------


def test_order_list_shows_dollars_and_local_time(ops_client, place_order, stock):
    order = place_order(stock)
    response = ops_client.get(url("orders.order", "changelist"))
    local = order.placed_at.astimezone(order.store.mall.tz)
    assert f"${order.total_cents / 100:,.2f}" in response.text
    assert local.strftime("%Y-%m-%d %H:%M %Z") in response.text
    assert "Placed (local)" in response.text


def _changelist_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_order_list_queries_do_not_grow_with_orders(
    ops_client, place_order, mall, shopper, django_assert_max_num_queries
):
    stores = [f.StoreFactory(mall=mall) for _ in range(3)]
    stocks = [f.StockFactory(store=s, on_hand=100) for s in stores]
    for i in range(3):
        place_order(stocks[i % 3])
    path = url("orders.order", "changelist")
    with_three = _changelist_queries(ops_client, path)

    for i in range(27):
        place_order(stocks[i % 3])
    with django_assert_max_num_queries(with_three):
        response = ops_client.get(path)
    assert response.context["cl"].result_count == 30


@pytest.mark.parametrize(
    "label", ["drivers.route", "drivers.offer", "orders.orderevent", "drivers.payline"]
)
def test_route_lists_queries_do_not_grow_with_routes(
    ops_client, ready_order, driver, other_driver, ops_user, label, django_assert_max_num_queries
):
    def plan_and_offer(n):
        for _ in range(n):
            order = ready_order()
            route = route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
            route_offer(route=route, driver=driver, actor=Actor.system())
            route_offer(route=route, driver=other_driver, actor=Actor.system())

    Stock.objects.update(on_hand=100)
    plan_and_offer(2)
    with_two = _changelist_queries(ops_client, url(label, "changelist"))
    plan_and_offer(8)
    with django_assert_max_num_queries(with_two):
        ops_client.get(url(label, "changelist"))


# --- Read-only status and history ----------------------------------------------------------


def _form_data(response) -> dict:
    """The change form as the browser would post it back, inline management forms included."""
    data = {}

    def put(form):
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or isinstance(field, forms.FileField):
                continue
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = value

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


def test_order_status_is_read_only_on_the_change_page(ops_client, place_order, stock):
    order = place_order(stock)
    change = url("orders.order", "change", order.pk)
    response = ops_client.get(change)
    assert response.context["adminform"].form.fields.get("status") is None
    assert "status" in response.context["adminform"].readonly_fields

    data = _form_data(response)
    data.update(status="delivered", recipient_name="Alice Changed", _save="Save")
    response = ops_client.post(change, data)
    assert response.status_code == 302, response.context and response.context.get("errors")

    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert order.recipient_name == "Alice Changed"
    assert not order.events.filter(to_status="delivered").exists()


def test_orders_cannot_be_added_or_deleted_by_hand(ops_client, place_order, stock):
    order = place_order(stock)
    assert ops_client.get(url("orders.order", "add")).status_code == 403
    assert ops_client.get(url("orders.order", "delete", order.pk)).status_code == 403
    for label in ("orders.orderline", "orders.orderevent", "drivers.routeevent", "drivers.offer"):
        assert ops_client.get(url(label, "add")).status_code == 403
    assert ops_client.get(url("drivers.proofofdelivery", "add")).status_code == 403


def test_order_events_are_view_only(ops_client, place_order, stock):
    order = place_order(stock)
    event = order.events.get()
    change = url("orders.orderevent", "change", event.pk)
    assert ops_client.get(change).status_code == 200
    response = ops_client.post(change, {"to_status": "delivered", "note": "forged"})
    assert response.status_code == 403
    assert ops_client.post(url("orders.orderevent", "delete", event.pk)).status_code == 403
    event.refresh_from_db()
    assert (event.to_status, event.note) == ("placed", "")


def test_route_events_are_view_only(ops_client, ready_order, ops_user):
    order = ready_order()
    route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
    event = RouteEvent.objects.get()
    assert ops_client.get(url("drivers.routeevent", "change", event.pk)).status_code == 200
    response = ops_client.post(url("drivers.routeevent", "change", event.pk), {"note": "x"})
    assert response.status_code == 403


# --- Cancelling orders ---------------------------------------------------------------------


def _cancel(client, orders, **extra):
    return client.post(
        url("orders.order", "changelist"),
        {"action": "cancel_selected_orders", "_selected_action": [o.pk for o in orders], **extra},
    )


def test_cancel_asks_for_a_reason_first(ops_client, place_order, stock):
    order = place_order(stock)
    response = _cancel(ops_client, [order], index=0)
    assert response.status_code == 200
    assert "admin/mallrun/reason_confirmation.html" in [t.name for t in response.templates]
    assert order.number in response.text
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_cancel_without_a_reason_changes_nothing(ops_client, place_order, stock):
    order = place_order(stock)
    response = _cancel(ops_client, [order], apply="yes", reason="  ")
    assert response.status_code == 200
    assert response.context["form"].errors
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_cancel_with_a_reason_goes_through_the_service(ops_client, ops_user, place_order, stock):
    order = place_order(stock, quantity=3)
    stock.refresh_from_db()
    assert stock.reserved == 3

    response = _cancel(ops_client, [order], apply="yes", reason="Shopper called to cancel")
    assert response.status_code == 302

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.status_reason == "Shopper called to cancel"
    event = order.events.get(to_status="cancelled")
    assert (event.from_status, event.actor_kind, event.actor_user) == ("placed", "ops", ops_user)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (10, 0)
    assert any(order.number in m for m in messages_of(response))


def test_cancel_refuses_a_picked_up_order_and_cancels_the_others(
    ops_client, picked_up_order, place_order, stock
):
    open_order = place_order(stock)
    response = _cancel(ops_client, [picked_up_order, open_order], apply="yes", reason="Mall fire")
    assert response.status_code == 302

    picked_up_order.refresh_from_db()
    assert picked_up_order.status == Order.Status.PICKED_UP
    assert not picked_up_order.events.filter(to_status="cancelled").exists()
    open_order.refresh_from_db()
    assert open_order.status == Order.Status.CANCELLED

    messages = list(get_messages(response.wsgi_request))
    errors = [str(m) for m in messages if m.level_tag == "error"]
    assert len(errors) == 1
    assert picked_up_order.number in errors[0]
    assert "can't be cancelled" in errors[0]
    successes = [str(m) for m in messages if m.level_tag == "success"]
    assert open_order.number in successes[0]
    assert picked_up_order.number not in successes[0]


def test_cancel_from_the_order_page(ops_client, place_order, stock):
    order = place_order(stock)
    change = url("orders.order", "change", order.pk)
    assert "cancel_selected_orders" in ops_client.get(change).text

    first = {"CHANGE_FORM-action": "cancel_selected_orders", "_selected_action": [order.pk]}
    response = ops_client.post(change, first)
    assert response.status_code == 200
    assert 'name="CHANGE_FORM-action"' in response.text

    response = ops_client.post(change, {**first, "apply": "yes", "reason": "Duplicate order"})
    assert response.status_code == 302
    assert response.url == change
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


# --- Drivers, routes, stores -----------------------------------------------------------------


def _act(client, label, action, objects, **extra):
    return client.post(
        url(label, "changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects], **extra},
    )


def test_approve_and_suspend_drivers_through_the_service(ops_client, mall):
    applicant = f.DriverFactory(status=Driver.Status.PENDING)
    response = _act(ops_client, "drivers.driver", "approve_drivers", [applicant], index=0)
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.status == Driver.Status.APPROVED

    response = _act(ops_client, "drivers.driver", "suspend_drivers", [applicant], index=0)
    assert response.status_code == 200  # asks why first
    response = _act(
        ops_client, "drivers.driver", "suspend_drivers", [applicant], apply="yes", reason="Late"
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert (applicant.status, applicant.status_reason) == (Driver.Status.SUSPENDED, "Late")


def test_suspending_an_online_driver_takes_them_offline(ops_client, driver):
    _act(ops_client, "drivers.driver", "suspend_drivers", [driver], apply="yes", reason="Fraud")
    driver.refresh_from_db()
    assert driver.status == Driver.Status.SUSPENDED
    assert not driver.is_online


def test_reject_a_driver_application(ops_client):
    applicant = f.DriverFactory(status=Driver.Status.PENDING)
    _act(
        ops_client,
        "drivers.driver",
        "reject_drivers",
        [applicant],
        apply="yes",
        reason="No licence",
    )
    applicant.refresh_from_db()
    assert applicant.status == Driver.Status.REJECTED


def test_driver_status_is_read_only(ops_client):
    applicant = f.DriverFactory(status=Driver.Status.PENDING)
    change = url("drivers.driver", "change", applicant.pk)
    data = _form_data(ops_client.get(change))
    data.update(status="approved", is_online="on", phone="+17025550111", _save="Save")
    assert ops_client.post(change, data).status_code == 302
    applicant.refresh_from_db()
    assert (applicant.status, applicant.is_online) == (Driver.Status.PENDING, False)
    assert applicant.phone == "+17025550111"


def test_cancel_a_route_through_the_service(ops_client, ops_user, ready_order, picked_up_order):
    order = ready_order()
    route = route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
    collected = Route.objects.get(stops__order=picked_up_order)

    response = _act(
        ops_client,
        "drivers.route",
        "cancel_selected_routes",
        [route, collected],
        apply="yes",
        reason="Storm",
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.status == Route.Status.CANCELLED
    assert route.events.filter(to_status="cancelled", actor_kind="ops").exists()
    collected.refresh_from_db()
    assert collected.status == Route.Status.DELIVERING
    errors = [m for m in messages_of(response) if "was not cancelled" in m]
    assert len(errors) == 1 and str(collected) in errors[0]


def test_route_status_is_read_only_and_ops_can_add_a_boost(
    ops_client, ops_user, picked_up_order, driver
):
    route = Route.objects.get(stops__order=picked_up_order)
    change = url("drivers.route", "change", route.pk)
    data = _form_data(ops_client.get(change))
    total = int(data["pay_lines-TOTAL_FORMS"])
    data.update(
        {
            "status": "completed",
            "pay_lines-TOTAL_FORMS": str(total + 1),
            f"pay_lines-{total}-kind": "boost",
            f"pay_lines-{total}-amount_cents": "300",
            f"pay_lines-{total}-description": "Rain",
            "_save": "Save",
        }
    )
    response = ops_client.post(change, data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    route.refresh_from_db()
    assert route.status == Route.Status.DELIVERING
    boost = PayLine.objects.get(route=route, kind="boost")
    assert (boost.amount_cents, boost.driver, boost.created_at is not None) == (300, driver, True)


def test_offers_are_view_only(ops_client, ready_order, ops_user, driver):
    order = ready_order()
    route = route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
    offer = route_offer(route=route, driver=driver, actor=Actor.system())
    change = url("drivers.offer", "change", offer.pk)
    assert ops_client.get(change).status_code == 200
    assert ops_client.post(change, {"status": "accepted"}).status_code == 403
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_pause_and_resume_stores(ops_client, store, other_store):
    response = _act(ops_client, "retailers.store", "pause_one_hour", [store], index=0)
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.is_paused()
    assert store.paused_until > clock.now()
    assert not Store.objects.get(pk=other_store.pk).is_paused()

    _act(ops_client, "retailers.store", "resume", [store], index=0)
    store.refresh_from_db()
    assert not store.is_paused()
    assert store.pause_reason == ""


def test_stock_on_hand_cannot_drop_below_reserved(ops_client, place_order, stock):
    place_order(stock, quantity=4)
    change = url("retailers.stock", "change", stock.pk)
    data = _form_data(ops_client.get(change))
    data.update(on_hand="3", reserved="0", _save="Save")
    response = ops_client.post(change, data)
    assert response.status_code == 200
    assert "promised to open orders" in response.text

    data.update(on_hand="20")
    assert ops_client.post(change, data).status_code == 302
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (20, 4)


def test_order_event_list_names_the_actor(ops_client, place_order, stock):
    place_order(stock)
    response = ops_client.get(url("orders.orderevent", "changelist"))
    assert OrderEvent.objects.count() == 1
    assert "alice" in response.text
