"""Signed webhooks (Standard Webhooks): order events posted to partners' and retailers'
endpoints from django-q2 tasks, retried with back-off for up to 24 hours.

- `webhooks_for_event` (called by orders.tasks.order_event_fanout, itself run after commit)
  writes one WebhookDelivery per interested endpoint and queues its first attempt.
- `webhook_deliver` claims a due delivery with a conditional update (two workers never send
  the same attempt), posts it, logs a WebhookAttempt and schedules the next try.
- `webhook_deliver_due` runs every minute (schedule in migrations/0004) and queues due retries.
- Headers: webhook-id (constant across retries), webhook-timestamp, webhook-signature =
  "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>" (two signatures while a rotated
  secret overlaps). Each payload carries the order's event sequence number.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django_q.tasks import async_task

from orders.models import Order, OrderEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from retailers import clock

log = logging.getLogger(__name__)

EVENT_FOR_STATUS = {
    Order.Status.PLACED: "order.created",
    Order.Status.ACCEPTED: "order.accepted",
    Order.Status.REJECTED: "order.rejected",
    Order.Status.READY: "order.ready",
    Order.Status.PICKED_UP: "order.picked_up",
    Order.Status.DELIVERED: "order.delivered",
    Order.Status.DELIVERY_FAILED: "order.delivery_failed",
    Order.Status.RETURNED: "order.returned",
    Order.Status.CANCELLED: "order.cancelled",
}
EVENT_TYPES = [
    *EVENT_FOR_STATUS.values(),
    "order.updated",
    "route.assigned",
    "driver.location",
    "webhook.test",
]

# Waits after the 1st, 2nd, … failed attempt (the Standard Webhooks schedule); a delivery
# whose next try would fall past MALLRUN_WEBHOOK_RETRY_HOURS is given up.
BACKOFF = [
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
]
SECRET_OVERLAP = dt.timedelta(hours=24)


def sending_lease() -> dt.timedelta:
    """How long a claimed attempt is held. The task worker stops any task after the cluster's
    `timeout`, so a claim older than that belongs to a worker that died; the broker hands the
    task out again after `retry` (longer than `timeout`), and that run finds the claim expired
    and sends. The minute schedule (`webhook_deliver_due`) catches whatever is left."""
    return dt.timedelta(seconds=settings.Q_CLUSTER.get("timeout") or 300)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(endpoint: WebhookEndpoint, *, msg_id: str, timestamp: int, body: bytes) -> str:
    sigs = [sign(secret=endpoint.secret, msg_id=msg_id, timestamp=timestamp, body=body)]
    if endpoint.previous_secret and (
        endpoint.previous_secret_until and endpoint.previous_secret_until > clock.now()
    ):
        sigs.append(
            sign(secret=endpoint.previous_secret, msg_id=msg_id, timestamp=timestamp, body=body)
        )
    return " ".join(sigs)


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float):
    """POST and return (status, response text). Network errors raise OSError."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")


# --- Services -------------------------------------------------------------------------


def _audit(actor, action: str, endpoint: WebhookEndpoint) -> None:
    """In the audit trail when someone acted (never the secrets)."""
    if actor is None:
        return
    from retailers.audit import audit_record

    audit_record(
        actor=actor,
        action=action,
        obj=endpoint,
        object_repr=endpoint.url,
        after={"url": endpoint.url, "events": endpoint.events},
    )


def webhook_endpoint_create(
    *,
    url: str,
    partner: str = "",
    retailer=None,
    events: list[str] | None = None,
    test_mode: bool = False,
    actor=None,
) -> WebhookEndpoint:
    """A new endpoint. A test-mode one hears sandbox orders only, a live one live orders
    only, so a test key can never see or steer where live order data goes."""
    unknown = set(events or []) - set(EVENT_TYPES)
    if unknown:
        raise ValueError(f"Unknown event type(s): {', '.join(sorted(unknown))}.")
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        partner=partner,
        retailer=retailer,
        events=events or [],
        test_mode=test_mode,
        secret=new_secret(),
    )
    _audit(actor, "webhook.create", endpoint)
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, actor=None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = clock.now() + SECRET_OVERLAP
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    _audit(actor, "webhook.rotate", endpoint)
    return endpoint


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """Back on after the owner fixed it: failures count afresh."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True, failing_since=None, disabled_reason=""
    )


def _order_payload(event: OrderEvent, sequence: int) -> dict:
    order = event.order
    return {
        "id": order.number,
        "external_id": order.external_ref,
        "status": order.status,
        "status_reason": order.status_reason,
        "store_id": order.store_id,
        "total_cents": order.total_cents,
        "eta": order.promised_by.isoformat() if order.promised_by else None,
        "test_mode": order.test_mode,
        "sequence": sequence,
        "event": {
            "from_status": event.from_status,
            "to_status": event.to_status,
            "note": event.note,
            "at": event.created_at.isoformat(),
        },
    }


def _endpoints_for(order: Order):
    reach = Q(retailer_id=order.store.retailer_id)
    if order.partner:
        reach |= Q(partner=order.partner)
    return WebhookEndpoint.objects.filter(reach, is_active=True, test_mode=order.test_mode)


def _queue(delivery_ids: list[int]) -> None:
    for pk in delivery_ids:
        async_task("orders.webhooks.webhook_deliver", pk, task_name=f"webhook-{pk}")


def _event_type(event: OrderEvent) -> str | None:
    if event.from_status == event.to_status:
        return "order.updated"  # an adjustment (a line found short): same status
    return EVENT_FOR_STATUS.get(event.to_status)


ORDER_EVENT_TYPES = frozenset({*EVENT_FOR_STATUS.values(), "order.updated"})


def webhooks_for_event(event: OrderEvent) -> list[WebhookDelivery]:
    """One delivery per endpoint that wants this order event; first attempts queued on commit.

    Safe to run again for the same event (a worker killed mid-task gets its task back): an
    endpoint that already has this event's delivery keeps it, with its webhook-id, so the
    receiver can drop a repeat; pending ones are queued again (a claimed attempt can't be
    sent twice at once). Once written, the event no longer counts as due."""
    deliveries = _write_event_deliveries(event)
    OrderEvent.objects.filter(pk=event.pk, webhooks_due=True).update(webhooks_due=False)
    return deliveries


def _write_event_deliveries(event: OrderEvent) -> list[WebhookDelivery]:
    event_type = _event_type(event)
    if event_type is None:
        return []
    endpoints = [e for e in _endpoints_for(event.order) if e.wants(event_type)]
    if not endpoints:
        return []
    sequence = OrderEvent.objects.filter(order_id=event.order_id, pk__lte=event.pk).count()
    with transaction.atomic():
        # Two runs for one event take turns here, so the second sees the first's deliveries.
        list(OrderEvent.objects.select_for_update().filter(pk=event.pk).values_list("pk"))
        existing = WebhookDelivery.objects.filter(
            order_id=event.order_id,
            sequence=sequence,
            event_type=event_type,
            endpoint__in=endpoints,
        )
        have = {d.endpoint_id: d for d in existing}
        now = clock.now()
        data = _order_payload(event, sequence)
        created = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                order_id=event.order_id,
                sequence=sequence,
                payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
            if endpoint.pk not in have
        )
        deliveries = [*have.values(), *created]
        ids = list(
            WebhookDelivery.objects.filter(
                message_id__in=[d.message_id for d in deliveries],
                status=WebhookDelivery.Status.PENDING,
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: _queue(ids))
    return deliveries


def webhook_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    now = clock.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event_type="webhook.test",
        payload={"type": "webhook.test", "timestamp": now.isoformat(), "data": {}},
        next_attempt_at=now,
        created_at=now,
    )
    transaction.on_commit(lambda: _queue([delivery.pk]))
    return delivery


def webhook_redeliver(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send again now (same webhook-id), whatever happened before; a new 24 h window."""
    _audit(actor, "webhook.redeliver", delivery.endpoint)
    now = clock.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, created_at=now
    )
    transaction.on_commit(lambda: _queue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def webhook_deliver(delivery_id: int) -> str:
    """One attempt, if the delivery is due and nobody else holds it. Returns its status."""
    now = clock.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
        next_attempt_at__lte=now,
    ).update(status=WebhookDelivery.Status.SENDING, next_attempt_at=now + sending_lease())
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    # An earlier event of the order whose own fan-out hasn't run yet (its task is late or
    # was lost with a worker) gets its deliveries now, so it can't be overtaken.
    for missing in _earlier_without_delivery(delivery):
        webhooks_for_event(missing)
    earlier = _earlier_unsent(delivery)
    if earlier is not None:
        # One order's events reach an endpoint in order: wait for the earlier one, which
        # hands the turn on when it is delivered (or given up).
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=max(earlier.next_attempt_at or now, now),
        )
        if _earlier_unsent(delivery) is None:
            # The earlier one finished meanwhile and its hand-on missed this one: go now.
            WebhookDelivery.objects.filter(
                pk=delivery.pk, status=WebhookDelivery.Status.PENDING
            ).update(next_attempt_at=now)
            _queue([delivery.pk])
        return "waiting"
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())  # the protocol's clock: receivers compare it with theirs
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Mallrun-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            endpoint, msg_id=delivery.message_id, timestamp=timestamp, body=body
        ),
    }
    started = time.monotonic()
    status_code, text, error = None, "", ""
    try:
        status_code, text = http_post(
            endpoint.url, body, headers, settings.MALLRUN_WEBHOOK_TIMEOUT_SECONDS
        )
    except (OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration = int((time.monotonic() - started) * 1000)
    done_at = clock.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        at=done_at,
        status_code=status_code,
        duration_ms=duration,
        response_excerpt=(text or "")[:500],
        error=error,
    )
    attempts = delivery.attempts + 1
    if status_code is not None and 200 <= status_code < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=attempts,
            delivered_at=done_at,
            next_attempt_at=None,
        )
        recovered = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, failing_since__isnull=False
        ).update(failing_since=None)
        _hand_on(delivery, endpoint_recovered=bool(recovered), at=done_at)
        return WebhookDelivery.Status.SUCCEEDED
    give_up_at = delivery.created_at + dt.timedelta(hours=settings.MALLRUN_WEBHOOK_RETRY_HOURS)
    wait = BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else None
    if wait is None or done_at + wait > give_up_at:
        status, next_at = WebhookDelivery.Status.FAILED, None
    else:
        status, next_at = WebhookDelivery.Status.PENDING, done_at + wait
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, attempts=attempts, next_attempt_at=next_at
    )
    _note_failure(endpoint, at=done_at)
    if status == WebhookDelivery.Status.FAILED:
        _hand_on(delivery, endpoint_recovered=False, at=done_at)
    return status


_UNSENT = [WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING]


def _earlier_without_delivery(delivery: WebhookDelivery) -> list[OrderEvent]:
    """Earlier events of the delivery's order whose webhooks haven't been written yet."""
    if delivery.order_id is None:
        return []
    # An order event's own sequence is its place; route and driver events carry the order's
    # latest sequence, which is then earlier than them.
    upto = delivery.sequence - 1 if delivery.event_type in ORDER_EVENT_TYPES else delivery.sequence
    if upto < 1:
        return []
    events = OrderEvent.objects.filter(order_id=delivery.order_id).order_by("pk")[:upto]
    return [event for event in events if event.webhooks_due]


def _earlier_unsent(delivery: WebhookDelivery) -> WebhookDelivery | None:
    """The oldest delivery of the same order to the same endpoint still waiting to go out."""
    if delivery.order_id is None:
        return None
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id, order_id=delivery.order_id, status__in=_UNSENT
        )
        .filter(
            Q(sequence__lt=delivery.sequence) | Q(sequence=delivery.sequence, pk__lt=delivery.pk)
        )
        .order_by("sequence", "pk")
        .first()
    )


def _hand_on(delivery: WebhookDelivery, *, endpoint_recovered: bool, at: dt.datetime) -> None:
    """After a delivery is done with: its order's next event goes now, and when the endpoint
    has just come back, its whole backlog goes now too (each order's events still one after
    another) instead of each waiting out its own back-off."""
    waiting = WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id, status=WebhookDelivery.Status.PENDING
    )
    if endpoint_recovered:
        ids = list(
            waiting.order_by("order_id", "sequence", "pk").values_list("pk", flat=True)[:1000]
        )
    elif delivery.order_id is not None:
        # The order's next event; it hands on to the one after when it is done.
        ids = list(
            waiting.filter(order_id=delivery.order_id)
            .order_by("sequence", "pk")
            .values_list("pk", flat=True)[:1]
        )
    else:
        return
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=at
        )
        _queue(ids)


def _note_failure(endpoint: WebhookEndpoint, *, at: dt.datetime) -> None:
    """After a whole day of failures (no success in between) the endpoint is disabled and
    its owner is told by email."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=at
    )
    endpoint.refresh_from_db()
    if endpoint.is_active and endpoint.failing_since <= at - dt.timedelta(hours=24):
        reason = "Disabled after 24 hours of failed deliveries."
        disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_reason=reason
        )
        if disabled:
            _tell_owner(endpoint, reason)


def _tell_owner(endpoint: WebhookEndpoint, reason: str) -> None:
    from django.core.mail import send_mail

    from retailers.models import StoreMembership

    if endpoint.retailer_id:
        emails = set(
            StoreMembership.objects.filter(
                store__retailer_id=endpoint.retailer_id, role=StoreMembership.Role.MANAGER
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    else:
        emails = set()
    emails = sorted(emails) or [settings.SERVER_EMAIL]
    send_mail(
        subject=f"Mallrun webhook endpoint disabled: {endpoint.url}",
        message=f"{reason} Fix the endpoint, then re-enable it and redeliver what was missed.",
        from_email=None,
        recipient_list=emails,
    )


def webhook_deliver_due() -> int:
    """Periodic: queue every delivery whose next attempt is due (and stale claims)."""
    ids = list(
        WebhookDelivery.objects.filter(
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
            next_attempt_at__lte=clock.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    _queue(ids)
    return len(ids)


def _deliveries_for_orders(event_type: str, items) -> list[WebhookDelivery]:
    """One delivery per (order, endpoint that hears it and wants this event), queued on commit.
    `items` are (order, data) pairs; each payload carries the order's current sequence."""
    now = clock.now()
    rows = []
    for order, data in items:
        endpoints = [e for e in _endpoints_for(order) if e.wants(event_type)]
        if not endpoints:
            continue
        sequence = OrderEvent.objects.filter(order=order).count()
        payload_data = {
            "id": order.number,
            "external_id": order.external_ref,
            "status": order.status,
            "sequence": sequence,
            **data,
        }
        rows += [
            WebhookDelivery(
                endpoint=endpoint,
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                order=order,
                sequence=sequence,
                payload={"type": event_type, "timestamp": now.isoformat(), "data": payload_data},
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        ]
    if not rows:
        return []
    WebhookDelivery.objects.bulk_create(rows)
    ids = list(
        WebhookDelivery.objects.filter(message_id__in=[d.message_id for d in rows]).values_list(
            "pk", flat=True
        )
    )
    transaction.on_commit(lambda: _queue(ids))
    return rows


def webhooks_for_route_assigned(route_id: int) -> list[WebhookDelivery]:
    """`route.assigned` for each order on a route a driver just accepted, to the endpoints
    that hear that order (called on commit of the acceptance, through a task)."""
    from drivers.models import Route
    from drivers.services import route_orders

    route = Route.objects.select_related("driver__user").get(pk=route_id)
    info = {
        "id": route.pk,
        "driver": route.driver.user.first_name if route.driver_id else "",
        "accepted_at": route.accepted_at.isoformat() if route.accepted_at else None,
    }
    return _deliveries_for_orders(
        "route.assigned",
        [
            (order, {"route": info, "eta": order.promised_by.isoformat()})
            for order in route_orders(route)
        ],
    )


def webhooks_for_driver_location(driver_id: int) -> list[WebhookDelivery]:
    """`driver.location` for the orders a driver is carrying (picked up, not yet delivered)."""
    from drivers.models import Driver, Route
    from drivers.services import route_orders

    driver = Driver.objects.get(pk=driver_id)
    route = Route.objects.filter(driver=driver, status__in=Route.HELD_STATUSES).first()
    if route is None or driver.last_latitude is None:
        return []
    where = {
        "latitude": driver.last_latitude,
        "longitude": driver.last_longitude,
        "at": driver.last_located_at.isoformat() if driver.last_located_at else None,
    }
    carried = [o for o in route_orders(route) if o.status == Order.Status.PICKED_UP]
    return _deliveries_for_orders("driver.location", [(o, {"driver": where}) for o in carried])
