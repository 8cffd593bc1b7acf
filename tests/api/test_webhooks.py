"""Webhooks: Standard Webhooks signatures (checked with the `standardwebhooks` package),
who receives what, the retry schedule, the attempt log, redelivery and disabling."""

import datetime as dt

import pytest
from standardwebhooks.webhooks import Webhook

from orders import services as s
from orders import webhooks as w
from orders.models import WebhookAttempt, WebhookDelivery
from orders.tasks import side_effects_muted
from retailers import clock


class Receiver:
    """Stands in for the partner's server: records requests, answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200

    def __call__(self, url, body, headers, timeout):
        self.requests.append((url, body, headers))
        if isinstance(self.status, Exception):
            raise self.status
        return self.status, "ok" if self.status < 300 else "boom"


@pytest.fixture
def receiver(monkeypatch):
    r = Receiver()
    monkeypatch.setattr(w, "http_post", r)
    return r


@pytest.fixture
def retailer_endpoint(store):
    return w.webhook_endpoint_create(url="https://shop.example/hooks", retailer=store.retailer)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return _run


def test_an_order_event_is_posted_signed_and_verifiable(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    order = run_on_commit(place_order, stock)
    assert len(receiver.requests) == 1
    url, body, headers = receiver.requests[0]
    payload = Webhook(retailer_endpoint.secret).verify(body, headers)
    assert payload["type"] == "order.created"
    assert payload["data"]["id"] == order.number and payload["data"]["sequence"] == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert WebhookAttempt.objects.get().status_code == 200


def test_a_tampered_body_does_not_verify(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    from standardwebhooks.webhooks import WebhookVerificationError

    run_on_commit(place_order, stock)
    _, body, headers = receiver.requests[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(retailer_endpoint.secret).verify(body.replace(b"placed", b"cancel"), headers)


def test_events_follow_the_order_with_sequence_numbers(
    receiver, retailer_endpoint, place_order, stock, system, run_on_commit
):
    order = run_on_commit(place_order, stock)
    run_on_commit(s.order_accept, order=order, actor=system)
    run_on_commit(
        s.order_reject if False else s.order_cancel, order=order, actor=system, reason="x"
    )
    types = [
        Webhook(retailer_endpoint.secret).verify(b, h)["type"] for _, b, h in receiver.requests
    ]
    seqs = [
        Webhook(retailer_endpoint.secret).verify(b, h)["data"]["sequence"]
        for _, b, h in receiver.requests
    ]
    assert types == ["order.created", "order.accepted", "order.cancelled"]
    assert seqs == [1, 2, 3]


def test_the_event_filter_and_the_owner_decide_who_hears(
    receiver, store, other_store, place_order, stock, run_on_commit
):
    w.webhook_endpoint_create(
        url="https://a.example/", retailer=store.retailer, events=["order.accepted"]
    )
    w.webhook_endpoint_create(url="https://b.example/", retailer=other_store.retailer)
    w.webhook_endpoint_create(url="https://c.example/", partner="Someone Else")
    run_on_commit(place_order, stock)
    assert receiver.requests == []  # a's filter, b's and c's reach


def test_partner_orders_reach_the_partners_endpoint(
    receiver, partner_api, order_body, driver, frozen, run_on_commit
):
    endpoint = w.webhook_endpoint_create(url="https://acme.example/", partner="Acme Market")
    run_on_commit(partner_api.post, "/api/v1/orders/", order_body, format="json")
    (request,) = receiver.requests
    assert request[0] == endpoint.url


def test_muted_side_effects_send_nothing(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    with side_effects_muted():
        run_on_commit(place_order, stock)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_failures_are_retried_on_the_backoff_schedule_then_given_up(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    receiver.status = 500
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        run_on_commit(place_order, stock)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.next_attempt_at == start + w.BACKOFF[0]
    at = start
    waits = [w.BACKOFF[0]]
    for _ in range(10):
        delivery.refresh_from_db()
        if delivery.status != "pending":
            break
        at = delivery.next_attempt_at
        with clock.frozen_at(at - dt.timedelta(seconds=1)):
            assert w.webhook_deliver(delivery.pk) == "skipped"  # not due yet
        with clock.frozen_at(at):
            assert w.webhook_deliver_due() == 1
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - at)
    assert delivery.status == "failed"
    assert waits == w.BACKOFF[: len(waits)]
    assert at - start <= dt.timedelta(hours=24)
    log = list(delivery.log.all())
    assert len(log) == delivery.attempts and all(a.status_code == 500 for a in log)
    assert log[0].response_excerpt == "boom"


def test_a_network_error_is_logged_and_retried(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    receiver.status = OSError("connection refused")
    run_on_commit(place_order, stock)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "connection refused" in attempt.error
    assert WebhookDelivery.objects.get().status == "pending"


def test_redeliver_sends_the_same_message_again(
    receiver, retailer_endpoint, place_order, stock, run_on_commit
):
    run_on_commit(place_order, stock)
    delivery = WebhookDelivery.objects.get()
    run_on_commit(w.webhook_redeliver, delivery=delivery)
    assert len(receiver.requests) == 2
    assert receiver.requests[0][2]["webhook-id"] == receiver.requests[1][2]["webhook-id"]
    assert delivery.log.count() == 2


def test_send_test_event(receiver, retailer_endpoint, run_on_commit):
    run_on_commit(w.webhook_send_test, endpoint=retailer_endpoint)
    assert (
        Webhook(retailer_endpoint.secret).verify(*receiver.requests[0][1:])["type"]
        == "webhook.test"
    )


def test_after_rotation_both_secrets_verify_for_a_day(receiver, retailer_endpoint, run_on_commit):
    old = retailer_endpoint.secret
    w.webhook_secret_rotate(endpoint=retailer_endpoint)
    run_on_commit(w.webhook_send_test, endpoint=retailer_endpoint)
    _, body, headers = receiver.requests[0]
    Webhook(old).verify(body, headers)
    Webhook(retailer_endpoint.secret).verify(body, headers)


def test_a_day_of_failures_disables_the_endpoint_and_mails_the_owner(
    receiver, retailer_endpoint, manager, mailoutbox, run_on_commit
):
    receiver.status = 503
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        run_on_commit(w.webhook_send_test, endpoint=retailer_endpoint)
    with clock.frozen_at(start + dt.timedelta(hours=25)):
        run_on_commit(w.webhook_send_test, endpoint=retailer_endpoint)
    retailer_endpoint.refresh_from_db()
    assert not retailer_endpoint.is_active
    assert any("disabled" in m.subject for m in mailoutbox)


def test_route_assigned_goes_to_each_orders_endpoints(
    receiver, retailer_endpoint, place_order, stock, driver, system, run_on_commit
):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    with side_effects_muted():
        order = place_order(stock)
        s.order_accept(order=order, actor=system)
        route = route_plan(mall=order.store.mall, orders=[order], actor=system)
        offer_accept(
            offer=route_offer(route=route, driver=driver, actor=system),
            actor=Actor.driver(driver.user),
        )
    run_on_commit(w.webhooks_for_route_assigned, route.pk)
    (request,) = receiver.requests
    payload = Webhook(retailer_endpoint.secret).verify(request[1], request[2])
    assert payload["type"] == "route.assigned"
    assert payload["data"]["id"] == order.number and payload["data"]["route"]["id"] == route.pk


def test_a_driver_accepting_a_route_sends_route_assigned(
    receiver, retailer_endpoint, place_order, stock, driver, system, run_on_commit
):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    with side_effects_muted():
        order = place_order(stock)
        s.order_accept(order=order, actor=system)
        route = route_plan(mall=order.store.mall, orders=[order], actor=system)
        offer = route_offer(route=route, driver=driver, actor=system)
    run_on_commit(offer_accept, offer=offer, actor=Actor.driver(driver.user))
    types = [
        Webhook(retailer_endpoint.secret).verify(r[1], r[2])["type"] for r in receiver.requests
    ]
    assert types == ["route.assigned"]


def test_a_carrying_drivers_position_is_sent_as_driver_location(
    receiver, retailer_endpoint, place_order, stock, driver, advance, run_on_commit
):
    from drivers.services import driver_locate

    with side_effects_muted():
        order = advance(place_order(stock), "picked_up")
    run_on_commit(driver_locate, driver=driver, latitude=36.13, longitude=-115.16)
    (request,) = receiver.requests
    payload = Webhook(retailer_endpoint.secret).verify(request[1], request[2])
    assert payload["type"] == "driver.location"
    assert payload["data"]["id"] == order.number
    assert payload["data"]["driver"]["latitude"] == 36.13


def test_no_driver_location_is_sent_before_pick_up(
    receiver, retailer_endpoint, place_order, stock, driver, advance, run_on_commit
):
    from drivers.services import driver_locate

    with side_effects_muted():
        advance(place_order(stock), "ready")
    run_on_commit(driver_locate, driver=driver, latitude=36.13, longitude=-115.16)
    assert receiver.requests == []


# --- One order's events arrive in order ---------------------------------------------------


def _sent_types(receiver):
    import json

    return [json.loads(body)["type"] for _, body, _ in receiver.requests]


def test_a_later_event_waits_while_an_earlier_one_is_unsent(
    receiver, retailer_endpoint, place_order, stock, run_on_commit, system
):
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    receiver.status = 503
    with clock.frozen_at(start):
        order = run_on_commit(place_order, stock)
    receiver.status = 200
    with clock.frozen_at(start + dt.timedelta(seconds=1)):
        run_on_commit(s.order_accept, order=order, actor=system)
    created, accepted = WebhookDelivery.objects.order_by("sequence")
    # order.accepted was not sent ahead of order.created, which is waiting out its back-off.
    assert _sent_types(receiver) == ["order.created"]
    assert accepted.status == "pending" and accepted.attempts == 0
    assert accepted.next_attempt_at == created.next_attempt_at
    # When order.created goes through, order.accepted follows straight away.
    with clock.frozen_at(created.next_attempt_at):
        w.webhook_deliver_due()
    assert _sent_types(receiver) == ["order.created", "order.created", "order.accepted"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_when_an_endpoint_comes_back_its_backlog_goes_at_once_in_order(
    receiver, retailer_endpoint, place_order, stock, run_on_commit, system
):
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    receiver.status = 503
    with clock.frozen_at(start):
        first = run_on_commit(place_order, stock)
        run_on_commit(s.order_accept, order=first, actor=system)
    for _ in range(3):  # order.created: 0 s, 5 s, 5 min, 30 min...
        pending = WebhookDelivery.objects.filter(sequence=1).get()
        with clock.frozen_at(pending.next_attempt_at):
            w.webhook_deliver(pending.pk)
    receiver.status = 200
    # A new order's first event is the first success: everything waiting goes now.
    back = start + dt.timedelta(minutes=40)
    with clock.frozen_at(back):
        second = run_on_commit(place_order, stock)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    import json

    after = [json.loads(body)["data"] for _, body, _ in receiver.requests[4:]]
    assert [(d["id"], d["sequence"]) for d in after] == [
        (second.number, 1),  # the success that shows the endpoint is back
        (first.number, 1),  # then the backlog, without waiting out its back-off
        (first.number, 2),
    ]


def test_an_earlier_event_given_up_lets_the_later_ones_go(
    receiver, retailer_endpoint, place_order, stock, run_on_commit, system
):
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    receiver.status = 503
    with clock.frozen_at(start):
        order = run_on_commit(place_order, stock)
        run_on_commit(s.order_accept, order=order, actor=system)
    created, accepted = WebhookDelivery.objects.order_by("sequence")
    # Give order.created up (its 24 hours are over) while the receiver is still failing.
    WebhookDelivery.objects.filter(pk=created.pk).update(created_at=start - dt.timedelta(hours=24))
    receiver.status = 200
    with clock.frozen_at(start + dt.timedelta(minutes=1)):
        receiver.status = 503
        created.refresh_from_db()
        w.webhook_deliver(created.pk)
    created.refresh_from_db()
    accepted.refresh_from_db()
    assert created.status == "failed"
    # The later event was handed its turn (and, with the receiver still down, retries).
    assert accepted.attempts == 1 and accepted.status == "pending"


def test_an_event_whose_fan_out_is_late_still_goes_first(
    receiver, retailer_endpoint, place_order, stock, run_on_commit, system
):
    order = place_order(stock)  # its fan-out task hasn't run (its worker was lost, say)
    assert order.events.get().webhooks_due
    run_on_commit(s.order_accept, order=order, actor=system)
    assert _sent_types(receiver) == ["order.created", "order.accepted"]
    assert not order.events.filter(webhooks_due=True).exists()
    # When the late task does run, nothing is sent twice.
    from orders.tasks import order_event_fanout

    run_on_commit(order_event_fanout, order.events.first().pk)
    assert _sent_types(receiver) == ["order.created", "order.accepted"]
