"""Each intervention through the board: a confirmation page, a reason, the service's rules,
and an audit entry. Refusals leave everything as it was."""

import datetime as dt
from unittest import mock

import pytest
from django.urls import reverse

from drivers.models import Driver, Offer, PayLine, Route
from orders.models import Order
from retailers.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def entry(action):
    return AuditEntry.objects.get(action=action)


# --- Cancel an order -------------------------------------------------------------------------


def test_cancel_asks_for_confirmation_first(ops_client, place_order, stock):
    order = place_order(stock)
    url = reverse("ops:order_cancel", args=[order.number])
    page = ops_client.get(url)
    assert page.status_code == 200
    assert b"Cancel the order" in page.content
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_ops_cancel_an_order_with_a_reason(ops_client, ops_user, place_order, stock, mall):
    order = place_order(stock)
    response = ops_client.post(
        reverse("ops:order_cancel", args=[order.number]), {"reason": "Shopper called"}
    )
    assert response.url == reverse("ops:board", args=[mall.slug])
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    stock.refresh_from_db()
    assert stock.reserved == 0
    audit = entry("order.cancel")
    assert (audit.actor_user, audit.actor_kind, audit.reason) == (ops_user, "ops", "Shopper called")
    assert (audit.before, audit.after) == ({"status": "placed"}, {"status": "cancelled"})
    assert audit.mall_id == mall.pk


def test_cancel_needs_a_reason(ops_client, place_order, stock):
    order = place_order(stock)
    response = ops_client.post(reverse("ops:order_cancel", args=[order.number]), {"reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_cancel_is_refused_after_pick_up(ops_client, place_order, stock, advance):
    order = advance(place_order(stock), "picked_up")
    response = ops_client.post(
        reverse("ops:order_cancel", args=[order.number]), {"reason": "Too late"}
    )
    assert response.status_code == 400
    assert b"already with the driver" in response.content
    order.refresh_from_db()
    assert order.status == Order.Status.PICKED_UP
    assert not AuditEntry.objects.exists()


# --- Reassign a route ------------------------------------------------------------------------


def test_reassign_offers_the_route_to_the_chosen_driver(
    ops_client, held_route, driver, other_driver
):
    url = reverse("ops:route_reassign", args=[held_route.pk])
    page = ops_client.get(url)
    choices = dict(page.context["form"].fields["driver"].choices)
    assert other_driver.pk in choices and driver.pk not in choices  # not its own driver

    response = ops_client.post(url, {"driver": other_driver.pk, "reason": "Driver stuck"})
    assert response.status_code == 302
    held_route.refresh_from_db()
    assert held_route.status == Route.Status.OFFERED
    assert held_route.driver_id is None
    offer = Offer.objects.get(route=held_route, status=Offer.Status.PENDING)
    assert offer.driver == other_driver
    audit = entry("route.reassign")
    assert audit.before == {"status": "accepted", "driver": driver.pk}
    assert audit.after["offered_to"] == other_driver.pk


def test_reassign_withdraws_offers_to_other_drivers(
    ops_client, ready, system, driver, other_driver, mall
):
    from drivers.services import route_offer, route_plan

    route = route_plan(mall=mall, orders=[ready()], actor=system)
    first = route_offer(route=route, driver=driver, actor=system)
    ops_client.post(
        reverse("ops:route_reassign", args=[route.pk]),
        {"driver": other_driver.pk, "reason": "Closer"},
    )
    first.refresh_from_db()
    assert first.status == Offer.Status.WITHDRAWN
    assert Offer.objects.get(route=route, status="pending").driver == other_driver


def test_reassign_is_refused_once_something_was_collected(
    ops_client, place_order, stock, advance, driver, other_driver
):
    order = advance(place_order(stock), "picked_up")
    route = Route.objects.get(driver=driver)
    route.status = Route.Status.PICKING_UP  # as the driver's app leaves it mid-collection
    route.save(update_fields=["status"])
    response = ops_client.post(
        reverse("ops:route_reassign", args=[route.pk]),
        {"driver": other_driver.pk, "reason": "Swap"},
    )
    assert response.status_code == 400
    assert b"already collected" in response.content
    route.refresh_from_db()
    assert route.driver == driver
    assert order.pk and not AuditEntry.objects.filter(action="route.reassign").exists()


def test_reassign_refuses_a_driver_who_is_not_eligible(ops_client, held_route, mall):
    offline = f.DriverFactory()  # approved, but not online or on a block
    response = ops_client.post(
        reverse("ops:route_reassign", args=[held_route.pk]),
        {"driver": offline.pk, "reason": "Try"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["driver"]
    held_route.refresh_from_db()
    assert held_route.status == Route.Status.ACCEPTED


# --- Boost -----------------------------------------------------------------------------------


def test_boost_adds_a_pay_line_and_updates_open_offers(ops_client, ready, system, driver, mall):
    from drivers.services import route_offer, route_plan

    route = route_plan(mall=mall, orders=[ready()], actor=system)
    offer = route_offer(route=route, driver=driver, actor=system)
    pay = route.pay_cents
    response = ops_client.post(
        reverse("ops:route_boost", args=[route.pk]), {"dollars": 3, "reason": "Nobody takes it"}
    )
    assert response.status_code == 302
    line = PayLine.objects.get(route=route, kind=PayLine.Kind.BOOST)
    assert line.amount_cents == 300
    offer.refresh_from_db()
    assert offer.pay_cents == pay + 300
    assert entry("route.boost").after == {"pay_cents": pay + 300}


def test_boost_is_refused_for_a_route_a_driver_holds(ops_client, held_route):
    response = ops_client.post(
        reverse("ops:route_boost", args=[held_route.pk]), {"dollars": 3, "reason": "x"}
    )
    assert response.status_code == 400
    assert not PayLine.objects.filter(kind=PayLine.Kind.BOOST).exists()


@pytest.mark.parametrize("dollars", [0, 51, "lots"])
def test_boost_amount_is_checked_next_to_the_field(ops_client, ready, system, mall, dollars):
    from drivers.services import route_plan

    route = route_plan(mall=mall, orders=[ready()], actor=system)
    response = ops_client.post(
        reverse("ops:route_boost", args=[route.pk]), {"dollars": dollars, "reason": "x"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["dollars"]


# --- Re-dispatch -----------------------------------------------------------------------------


def test_redispatch_queues_the_malls_cycle_after_commit(
    ops_client, mall, django_capture_on_commit_callbacks
):
    with (
        mock.patch("django_q.tasks.async_task") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = ops_client.post(
            reverse("ops:redispatch", args=[mall.slug]), {"reason": "Orders piling up"}
        )
    assert response.status_code == 302
    task.assert_called_once_with(
        "drivers.tasks.dispatch_mall", mall.pk, "ops: Orders piling up", cluster=None
    )
    assert entry("mall.redispatch").reason == "Orders piling up"


def test_redispatch_needs_a_reason(ops_client, mall):
    with mock.patch("django_q.tasks.async_task") as task:
        response = ops_client.post(reverse("ops:redispatch", args=[mall.slug]), {"reason": " "})
    assert response.status_code == 400
    task.assert_not_called()


# --- Stores ----------------------------------------------------------------------------------


def test_pause_and_resume_a_store(ops_client, store, at):
    response = ops_client.post(
        reverse("ops:store_pause", args=[store.pk]), {"minutes": 30, "reason": "Fire drill"}
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.paused_until == at.now + dt.timedelta(minutes=30)
    assert store.pause_reason == "Fire drill"
    assert entry("store.pause").after["pause_reason"] == "Fire drill"

    ops_client.post(reverse("ops:store_resume", args=[store.pk]), {"reason": "Drill over"})
    store.refresh_from_db()
    assert store.paused_until is None
    resumed = entry("store.resume")
    assert resumed.before["pause_reason"] == "Fire drill" and resumed.reason == "Drill over"


def test_pause_refuses_an_unknown_duration(ops_client, store):
    response = ops_client.post(
        reverse("ops:store_pause", args=[store.pk]), {"minutes": 999, "reason": "x"}
    )
    assert response.status_code == 400
    store.refresh_from_db()
    assert store.paused_until is None


# --- Drivers ---------------------------------------------------------------------------------


def test_approve_a_pending_driver(ops_client, ops_user):
    pending = f.DriverFactory(status=Driver.Status.PENDING)
    review_url = reverse("ops:driver_review", args=[pending.pk])
    assert review_url.encode() in ops_client.get(reverse("ops:drivers")).content
    response = ops_client.post(
        reverse("ops:driver_review", args=[pending.pk]), {"status": "approved", "reason": ""}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Driver.Status.APPROVED
    audit = entry("driver.approved")
    assert audit.before["status"] == "pending" and audit.actor_user == ops_user


def test_suspend_ends_online_state_and_pulls_back_offers(ops_client, driver, ready, system, mall):
    from drivers.services import route_offer, route_plan

    route = route_plan(mall=mall, orders=[ready()], actor=system)
    offer = route_offer(route=route, driver=driver, actor=system)
    response = ops_client.post(
        reverse("ops:driver_review", args=[driver.pk]),
        {"status": "suspended", "reason": "Complaints"},
    )
    assert response.status_code == 302
    driver.refresh_from_db()
    offer.refresh_from_db()
    assert (driver.status, driver.is_online) == ("suspended", False)
    assert offer.status == Offer.Status.WITHDRAWN
    audit = entry("driver.suspended")
    assert audit.before["is_online"] is True and audit.after["is_online"] is False


@pytest.mark.parametrize("status", ["suspended", "rejected"])
def test_suspend_or_reject_needs_a_reason(ops_client, driver, status):
    response = ops_client.post(
        reverse("ops:driver_review", args=[driver.pk]), {"status": status, "reason": ""}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    driver.refresh_from_db()
    assert driver.status == Driver.Status.APPROVED
