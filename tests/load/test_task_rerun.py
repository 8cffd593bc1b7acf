"""A task handed out again after its worker died runs a second time: the order event fan-out
must keep the deliveries (and webhook-ids) it already wrote, so a receiver can drop repeats.
Runs on SQLite and PostgreSQL; test_worker_killed.py shows it with a real cluster."""

import pytest

from orders import webhooks
from orders.models import WebhookDelivery
from orders.tasks import order_event_fanout

pytestmark = [pytest.mark.load]


def test_a_fanout_run_again_keeps_its_deliveries_and_their_webhook_ids(
    stock, place_order, django_capture_on_commit_callbacks, monkeypatch
):
    retailer = stock.store.retailer
    first = webhooks.webhook_endpoint_create(url="https://one.example/", retailer=retailer)
    second = webhooks.webhook_endpoint_create(url="https://two.example/", retailer=retailer)
    queued: list[list[int]] = []
    monkeypatch.setattr(webhooks, "_queue", lambda ids: queued.append(sorted(ids)))
    event = place_order(stock).events.get()  # inside the test's transaction: not fanned out

    with django_capture_on_commit_callbacks(execute=True):
        order_event_fanout(event.pk)
    written = dict(WebhookDelivery.objects.values_list("endpoint_id", "message_id"))
    assert set(written) == {first.pk, second.pk}

    with django_capture_on_commit_callbacks(execute=True):
        order_event_fanout(event.pk)  # the worker died before acknowledging: run again
    assert dict(WebhookDelivery.objects.values_list("endpoint_id", "message_id")) == written
    # Still pending, so queued again (a claimed attempt can't be sent twice at once).
    assert queued[1] == queued[0] and len(queued[0]) == 2

    WebhookDelivery.objects.filter(endpoint=first).update(status="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        order_event_fanout(event.pk)
    assert queued[2] == [WebhookDelivery.objects.get(endpoint=second).pk]
    assert WebhookDelivery.objects.count() == 2
