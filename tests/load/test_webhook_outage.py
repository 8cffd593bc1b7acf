"""A partner's webhook receiver down for an hour (simulated time): afterwards every event has
been delivered once, each order's events arriving in order.

The clock is a source the test moves a minute at a time; each minute it runs what the
`webhooks-due-every-minute` schedule runs (`webhook_deliver_due`), so the back-off schedule
(5 s, 5 min, 30 min, 2 h, …) plays out without sleeping. Tasks run inline (the test settings'
sync mode), posting to a real HTTP receiver that answers 503 for the first hour, then 200.
Runs on SQLite and PostgreSQL.
"""

import datetime as dt
from collections import defaultdict

import pytest

from orders import services as s
from orders.models import Order, OrderEvent, WebhookDelivery
from orders.webhooks import BACKOFF, webhook_deliver_due, webhook_endpoint_create
from retailers import clock

from .conftest import NOON_ISH

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]

OUTAGE = dt.timedelta(hours=1)


def test_a_receiver_down_for_an_hour_gets_every_event_afterwards_in_order(
    receiver, stock, place_order, system
):
    start = NOON_ISH
    moment = [start]
    clock.set_source(lambda: moment[0])
    try:
        receiver.status_for = lambda: 503 if clock.now() < start + OUTAGE else 200
        endpoint = webhook_endpoint_create(url=receiver.url, retailer=stock.store.retailer)

        # Five orders move along during the outage, a sixth after it: minute -> actions.
        plan: dict[int, list] = defaultdict(list)
        orders: list[Order] = []
        for k in range(5):
            plan[3 * k].append(lambda: orders.append(place_order(stock)))
            plan[3 * k + 20].append(lambda k=k: s.order_accept(order=orders[k], actor=system))
            plan[3 * k + 45].append(lambda k=k: s.order_mark_ready(order=orders[k], actor=system))
        plan[58].append(lambda: s.order_cancel(order=orders[0], actor=system, reason="Closing"))
        plan[61].append(lambda: orders.append(place_order(stock)))
        plan[65].append(lambda: s.order_reject(order=orders[5], actor=system, reason="Sold out"))

        # Four hours, a minute at a time: the last first attempt inside the outage (minute
        # 59) fails at 0:59, 1:00 and is then delivered; the earliest waits out 5 s, 5 min and
        # 30 min of failures and is sent 2 h later, at 2:36.
        minutes = 4 * 60
        sent_during_outage = 0
        for minute in range(minutes + 1):
            moment[0] = start + dt.timedelta(minutes=minute)
            for action in plan.pop(minute, []):
                action()
            webhook_deliver_due()
            if moment[0] < start + OUTAGE:
                sent_during_outage = len(receiver.seen)
        assert not plan
    finally:
        clock.set_source(None)

    assert sent_during_outage == 0
    events = list(OrderEvent.objects.order_by("order_id", "created_at", "id"))
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    assert len(deliveries) == len(events) == 5 * 3 + 1 + 2
    assert {d.status for d in deliveries} == {WebhookDelivery.Status.SUCCEEDED}
    # Events after the outage went through at the first attempt; during it, the first event
    # of each order failed and retried, and the later ones waited their turn.
    for d in deliveries:
        if d.created_at >= start + OUTAGE:
            assert d.attempts == 1, (d.event_type, d.created_at, d.attempts)
    assert max(d.attempts for d in deliveries) >= 3

    # The receiver got each webhook once and, ordering each order's events by sequence,
    # rebuilds the order's history exactly: no gaps, nothing twice, nothing swapped.
    ids = [msg_id for msg_id, _ in receiver.seen]
    assert len(ids) == len(set(ids)) == len(deliveries)
    received: dict[str, dict[int, str]] = defaultdict(dict)
    arrival: dict[str, list[int]] = defaultdict(list)
    for _, payload in receiver.seen:
        data = payload["data"]
        assert data["sequence"] not in received[data["id"]]
        received[data["id"]][data["sequence"]] = data["event"]["to_status"]
        arrival[data["id"]].append(data["sequence"])
    history: dict[str, list[str]] = defaultdict(list)
    for event in events:
        history[event.order.number].append(event.to_status)
    for number, statuses in history.items():
        assert sorted(received[number]) == list(range(1, len(statuses) + 1))
        assert [received[number][seq] for seq in sorted(received[number])] == statuses
        # The latest sequence tells the receiver where the order stands now.
        latest = received[number][max(received[number])]
        assert latest == Order.objects.get(number=number).status
    # Each order's events arrived in sequence: a delivery waits while an earlier one of its
    # order is unsent, and the first success after the outage sends the backlog at once.
    for number, seqs in arrival.items():
        assert seqs == sorted(seqs), (number, seqs)
    last = max(d.delivered_at for d in deliveries) - start
    assert last < OUTAGE + dt.timedelta(minutes=35)
    print(
        f"webhook outage: {len(deliveries)} events for {len(history)} orders, 1 h of 503s, "
        f"all delivered by {last} (simulated), {sum(d.attempts for d in deliveries)} attempts "
        f"(back-off: {', '.join(str(b) for b in BACKOFF[:4])}, …)"
    )
