"""Counting a page's queries with little data and with more (see conftest.py)."""

import datetime as dt
import re
from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from retailers import clock

# Noon in Las Vegas on a Wednesday: stores open, well before the same-day cut-off.
NOON = dt.datetime(2026, 11, 25, 20, 0, tzinfo=dt.UTC)


def _shape(sql: str) -> str:
    """The statement with its literals taken out, so a query per row shows as one shape."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return re.sub(r"\(\?(, \?)*\)", "(…)", sql)


def capture(get):
    """Call `get()` (a request) and return its response and the SQL it ran. The API
    throttle's budget is reserved afresh for each (a process writes it once a dozen requests:
    every measured request does, so none counts one write more than another)."""
    from orders.api.throttling import forget_leases

    forget_leases()
    with CaptureQueriesContext(connection) as ctx:
        response = get()
    assert response.status_code == 200, (response.status_code, getattr(response, "text", ""))
    return response, [q["sql"] for q in ctx.captured_queries]


def explain(few: list[str], many: list[str]) -> str:
    extra = Counter(map(_shape, many)) - Counter(map(_shape, few))
    lines = [f"{len(few)} queries with little data, {len(many)} with more. Extra:"]
    lines += [f"  ×{n}  {sql[:300]}" for sql, n in extra.most_common(5)]
    return "\n".join(lines)


def assert_flat(get, grow, *, get_more=None):
    """Render with the data there is, call `grow()`, render again (with `get_more` if the
    bigger data set lives at another address): the second must run no more queries.
    A first request to each address warms per-process caches (content types) and once-a-
    while bookkeeping (a token's last use) so they don't count. Returns the response with
    more data, for the test to check it shows it."""
    get()
    _, few = capture(get)
    grow()
    if get_more is not None:
        get_more()
    response, many = capture(get_more or get)
    assert len(many) <= len(few), explain(few, many)
    return response


def deliveries(endpoint, orders, *, attempts=2):
    """Webhook deliveries of `orders` to `endpoint`, each with a few attempts logged."""
    import uuid

    from orders.models import WebhookAttempt, WebhookDelivery

    for order in orders:
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type="order.updated",
            order=order,
            payload={"order": order.number},
            status=WebhookDelivery.Status.FAILED,
            attempts=attempts,
            created_at=clock.now(),
        )
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(delivery=delivery, at=clock.now(), status_code=500, error="boom")
            for _ in range(attempts)
        )
