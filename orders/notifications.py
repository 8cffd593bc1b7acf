"""Messages to shoppers: email through Django's mailer, SMS through a provider interface.

No SMS provider can be reached from here, so the default `ConsoleSmsBackend` prints each
message and tests use `LocmemSmsBackend`; a real provider implements `SmsBackend.send`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from orders.models import Order, OrderEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class SmsBackend:
    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def send(self, message: SmsMessage) -> None:
        print(f"[SMS to {message.to}] {message.body}", flush=True)


class LocmemSmsBackend(SmsBackend):
    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        type(self).outbox.append(message)


def sms_backend() -> SmsBackend:
    return import_string(settings.MALLRUN_SMS_BACKEND)()


def send_sms(to: str, body: str) -> None:
    if to:
        sms_backend().send(SmsMessage(to=to, body=body))


def _local_time(order: Order, moment) -> str:
    return order.store.mall.local(moment).strftime("%-I:%M %p").lower()


def tracking_url(order: Order) -> str:
    from django.urls import reverse

    return settings.MALLRUN_SITE_URL.rstrip("/") + reverse("shop:track", args=[order.group])


def shopper_message(event: OrderEvent) -> tuple[str, str] | None:
    """(subject, body) to send the shopper for this change, or None when it isn't news to them."""
    order = event.order
    store = order.store.name
    due = _local_time(order, order.promised_by)
    if event.from_status and event.from_status == event.to_status:
        # Same status: the store adjusted the order (an item it couldn't find).
        return (
            f"Order {order.number} changed",
            f"{store} changed your order: {event.note} It still arrives by {due}.",
        )
    match event.to_status:
        case Order.Status.PLACED:
            return (
                f"Order {order.number} confirmed",
                f"{store} has your order. It arrives today by {due}. "
                f"Your delivery PIN is {order.delivery_pin}.",
            )
        case Order.Status.PICKED_UP:
            return (
                f"Order {order.number} is on its way",
                f"Your order from {store} is out for delivery, due by {due}. "
                f"Have your PIN {order.delivery_pin} ready. Follow it: {tracking_url(order)}",
            )
        case Order.Status.DELIVERED:
            return (
                f"Order {order.number} delivered",
                f"Your order from {store} was delivered. See the photo and details: "
                f"{tracking_url(order)}",
            )
        case Order.Status.REJECTED | Order.Status.CANCELLED:
            reason = f" Reason: {event.note}" if event.note else ""
            return (
                f"Order {order.number} {order.get_status_display().lower()}",
                f"Your order from {store} won't be delivered and you won't be charged.{reason}",
            )
        case Order.Status.DELIVERY_FAILED:
            return (
                f"We couldn't deliver order {order.number}",
                f"The driver couldn't hand over your order from {store}: {event.note}. "
                "It goes back to the store; we'll be in touch.",
            )
    return None


def notify_shopper(event: OrderEvent) -> bool:
    """Message the shopper about this event once.

    The event row is claimed first (a conditional update), so two runs of the same task never
    both send; a claim older than the task cluster's timeout belongs to a worker that died
    before sending, and is taken over. A failure to send releases the claim for the retry,
    and each channel that already went out is remembered, so the retry sends only the rest."""
    message = shopper_message(event)
    if message is None:
        return False
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.Q_CLUSTER.get("timeout") or 300)
    claimed = (
        OrderEvent.objects.filter(pk=event.pk, notice_sent_at__isnull=True)
        .filter(Q(notice_claimed_at__isnull=True) | Q(notice_claimed_at__lt=stale))
        .update(notice_claimed_at=now)
    )
    if not claimed:
        log.info("shopper already notified of event %s", event.pk)
        return False
    subject, body = message
    order = event.order
    choice = order.shopper.notify_by if order.shopper_id else "both"
    sent = list(OrderEvent.objects.values_list("notice_channels", flat=True).get(pk=event.pk))
    channels = []
    if order.recipient_email and choice in ("email", "both"):
        channels.append(("email", lambda: send_mail(subject, body, None, [order.recipient_email])))
    if choice in ("sms", "both"):
        channels.append(("sms", lambda: send_sms(order.recipient_phone, body)))
    try:
        for name, send in channels:
            if name in sent:
                continue  # went out before a failure on another channel: not twice
            send()
            sent.append(name)
            OrderEvent.objects.filter(pk=event.pk).update(notice_channels=sent)
    except Exception:
        OrderEvent.objects.filter(pk=event.pk).update(notice_claimed_at=None)
        raise
    OrderEvent.objects.filter(pk=event.pk).update(notice_sent_at=timezone.now())
    log.info("notified shopper of %s: %s", order.number, subject)
    return True
