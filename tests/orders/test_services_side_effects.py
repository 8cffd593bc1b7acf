"""Side effects of an order change run after commit, and never for a change that rolled back.

Tests run with Q_SYNC=1, so the task a commit enqueues runs inline: once the on-commit
callbacks have run, the shopper's email and SMS are in the outboxes.
"""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction

from orders.models import Order, OrderEvent
from orders.notifications import LocmemSmsBackend
from orders.permissions import Actor
from orders.services import (
    CartItem,
    CheckoutError,
    OrderError,
    checkout_place,
    order_accept,
    order_cancel,
    order_reject,
)
from orders.tasks import enqueue_order_event
from retailers.models import Stock

S = Order.Status


class Boom(Exception):
    pass


def subjects():
    return [m.subject for m in mail.outbox]


def test_a_placed_order_is_confirmed_to_the_shopper_after_commit(
    place_order, stock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = place_order(stock)

    assert len(callbacks) == 1
    assert subjects() == [f"Order {order.number} confirmed"]
    assert mail.outbox[0].to == ["alice@example.com"]
    assert order.delivery_pin in mail.outbox[0].body
    assert [(m.to, m.body) for m in LocmemSmsBackend.outbox] == [
        ("+17025550100", mail.outbox[0].body)
    ]


def test_nothing_is_sent_before_the_commit(place_order, stock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        order = place_order(stock)

    assert mail.outbox == []
    assert LocmemSmsBackend.outbox == []

    for callback in callbacks:  # what the commit would run
        callback()

    assert subjects() == [f"Order {order.number} confirmed"]


def test_a_checkout_across_stores_confirms_each_order(
    shopper, address, stock, other_stock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        orders = checkout_place(
            actor=Actor.shopper(shopper.user),
            shopper=shopper,
            address=address,
            recipient_name="Alice",
            recipient_email="alice@example.com",
            items=[
                CartItem(stock.store_id, stock.product_id, 1),
                CartItem(other_stock.store_id, other_stock.product_id, 1),
            ],
        )

    assert sorted(subjects()) == sorted(f"Order {o.number} confirmed" for o in orders)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.ACCEPTED, []),
        (S.READY, []),
        (S.PICKED_UP, ["Order {n} is on its way"]),
        (S.DELIVERED, ["Order {n} is on its way", "Order {n} delivered"]),
        (S.DELIVERY_FAILED, ["Order {n} is on its way", "We couldn't deliver order {n}"]),
        (S.RETURNED, ["Order {n} is on its way", "We couldn't deliver order {n}"]),
        (S.REJECTED, ["Order {n} rejected by store"]),
        (S.CANCELLED, ["Order {n} cancelled"]),
    ],
)
def test_the_shopper_hears_of_the_changes_that_are_news_to_them(
    place_order, stock, advance, django_capture_on_commit_callbacks, status, expected
):
    order = place_order(stock)  # its confirmation is never committed in this test

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        advance(order, status)

    order_callbacks = [c for c in callbacks if c.func is enqueue_order_event]
    assert len(order_callbacks) == order.events.count() - 1
    assert subjects() == [s.format(n=order.number) for s in expected]
    assert len(LocmemSmsBackend.outbox) == len(expected)


def test_a_rejection_tells_the_shopper_why(
    place_order, stock, manager, django_capture_on_commit_callbacks
):
    order = place_order(stock)

    with django_capture_on_commit_callbacks(execute=True):
        order_reject(order=order, actor=Actor.store_staff(manager), reason="Item damaged")

    assert "Reason: Item damaged" in mail.outbox[0].body


def test_no_email_without_an_address_and_no_sms_without_a_phone(
    shopper, address, stock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkout_place(
            actor=Actor.shopper(shopper.user),
            address=address,
            recipient_name="Alice",
            items=[CartItem(stock.store_id, stock.product_id, 1)],
        )

    assert len(callbacks) == 1
    assert mail.outbox == []
    assert LocmemSmsBackend.outbox == []


# --- Rolled back: nothing sent, nothing changed --------------------------------------------


def test_nothing_is_sent_for_a_cancellation_that_rolled_back(
    place_order, stock, shopper, django_capture_on_commit_callbacks
):
    order = place_order(stock, quantity=2)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        order_cancel(order=order, actor=Actor.shopper(shopper.user), reason="Changed my mind")
        raise Boom

    assert callbacks == []
    assert mail.outbox == []
    assert LocmemSmsBackend.outbox == []
    order.refresh_from_db()
    assert order.status == S.PLACED
    assert list(order.events.values_list("to_status", flat=True)) == ["placed"]
    stock.refresh_from_db()
    assert stock.reserved == 2


def test_nothing_is_sent_for_a_checkout_that_rolled_back(
    place_order, stock, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        place_order(stock, quantity=2)
        raise Boom

    assert callbacks == []
    assert mail.outbox == []
    assert Order.objects.count() == 0
    assert Stock.objects.get(pk=stock.pk).reserved == 0


def test_only_the_change_that_rolled_back_is_dropped(
    place_order, stock, manager, shopper, django_capture_on_commit_callbacks
):
    kept, dropped = place_order(stock), place_order(stock)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        order_reject(order=kept, actor=Actor.store_staff(manager), reason="Closing early")
        with pytest.raises(Boom), transaction.atomic():
            order_cancel(order=dropped, actor=Actor.shopper(shopper.user), reason="No")
            raise Boom

    assert len(callbacks) == 1
    assert subjects() == [f"Order {kept.number} rejected by store"]
    dropped.refresh_from_db()
    assert dropped.status == S.PLACED
    assert list(dropped.events.values_list("to_status", flat=True)) == ["placed"]


@pytest.mark.parametrize(
    ("act", "error"),
    [
        (lambda o, a: order_accept(order=o, actor=a["shopper"]), PermissionDenied),
        (lambda o, a: order_reject(order=o, actor=a["staff"], reason=" "), OrderError),
        (lambda o, a: order_accept(order=o, actor=a["staff"], prep_minutes=0), OrderError),
    ],
    ids=["not-allowed", "no-reason", "bad-prep-time"],
)
def test_a_refused_move_schedules_nothing(
    place_order, stock, shopper, manager, django_capture_on_commit_callbacks, act, error
):
    order = place_order(stock)
    actors = {"shopper": Actor.shopper(shopper.user), "staff": Actor.store_staff(manager)}

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(error):
        act(order, actors)

    assert callbacks == []
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_a_refused_checkout_schedules_nothing(
    place_order, stock, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(CheckoutError),
    ):
        place_order(stock, quantity=11)

    assert callbacks == []
    assert mail.outbox == []


# --- A task run twice (worker killed, task handed out again) messages once ---------------


def test_running_an_events_fanout_twice_messages_the_shopper_once(
    place_order, stock, django_capture_on_commit_callbacks
):
    from orders.tasks import order_event_fanout

    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(stock)
    event = order.events.get()
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    order_event_fanout(event.pk)
    assert len(mail.outbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    event.refresh_from_db()
    assert event.notice_sent_at is not None


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(place_order, stock):
    import datetime as dt

    from django.utils import timezone

    from orders.notifications import notify_shopper

    order = place_order(stock)  # no on-commit run: nothing sent yet
    event = order.events.get()
    OrderEvent.objects.filter(pk=event.pk).update(notice_claimed_at=timezone.now())
    assert notify_shopper(event) is False  # someone else is sending it right now
    assert mail.outbox == []
    OrderEvent.objects.filter(pk=event.pk).update(
        notice_claimed_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert notify_shopper(event) is True  # that worker died: send it
    assert len(mail.outbox) == 1


def test_a_failed_send_releases_the_claim_for_the_retry(place_order, stock, monkeypatch):
    from orders import notifications

    order = place_order(stock)
    event = order.events.get()

    def down(to, body):
        raise ConnectionError("SMS provider down")

    monkeypatch.setattr(notifications, "send_sms", down)
    with pytest.raises(ConnectionError):
        notifications.notify_shopper(event)
    event.refresh_from_db()
    assert event.notice_claimed_at is None and event.notice_sent_at is None
    assert len(mail.outbox) == 1  # the email went out before the SMS failed
    monkeypatch.undo()
    assert notifications.notify_shopper(event) is True
    assert len(LocmemSmsBackend.outbox) == 1
    assert len(mail.outbox) == 1  # and is not sent again by the retry
