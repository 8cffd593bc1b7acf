"""Metrics per mall and day: counted from the orders placed that local day."""

import datetime as dt

from django.urls import reverse

from orders.ops.selectors import _percentile, mall_metrics


def test_todays_numbers(ops_client, mall, place_order, stock, advance, at):
    first = place_order(stock)
    at.advance(minutes=30)
    first = advance(first, "delivered")  # 30 minutes from order to door
    second = place_order(stock)
    at.advance(minutes=50)
    second = advance(second, "delivered")  # 50 minutes
    cancelled = place_order(stock)
    advance(cancelled, "cancelled")
    failed = place_order(stock)
    advance(failed, "delivery_failed")

    today = mall_metrics(mall, days=3)[-1]
    assert today.day == mall.local(at.now).date()
    assert (today.orders, today.delivered) == (4, 2)
    assert today.median_minutes == 40.0
    assert today.p90_minutes == 48.0
    on_time = sum(o.delivered_at <= o.promised_by for o in (first, second))
    assert today.on_time == on_time
    assert today.cancelled == {"Changed my mind": 1}
    assert today.failed == {"Nobody home": 1}
    assert today.active_drivers == 1
    assert today.routes == 2 and today.orders_per_route == 1.0

    page = ops_client.get(reverse("ops:metrics", args=[mall.slug]), {"days": 3})
    assert page.status_code == 200
    assert b"<svg" in page.content and b'class="bar-ok"' in page.content
    assert b"Nobody home" in page.content


def test_orders_count_on_their_own_local_day(mall, place_order, stock, at):
    place_order(stock)
    at.advance(days=1)
    place_order(stock)
    place_order(stock)
    rows = mall_metrics(mall, days=2)
    assert [r.orders for r in rows] == [1, 2]
    assert rows[0].day == rows[1].day - dt.timedelta(days=1)


def test_percentile_interpolates():
    assert _percentile([], 0.9) is None
    assert _percentile([10], 0.9) == 10
    assert _percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9) == 91.0


def test_a_bad_days_parameter_falls_back(ops_client, mall):
    response = ops_client.get(reverse("ops:metrics", args=[mall.slug]), {"days": "many"})
    assert response.status_code == 200 and len(response.context["rows"]) == 7


def test_the_metrics_query_count_does_not_grow_with_orders(ops_client, mall, place_order, stock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            ops_client.get(reverse("ops:metrics", args=[mall.slug]))
        return len(ctx.captured_queries)

    place_order(stock)
    few = count()
    for _ in range(4):
        place_order(stock)
    assert count() == few
