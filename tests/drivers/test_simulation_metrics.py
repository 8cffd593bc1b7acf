"""The simulator's day metrics on a scenario small enough to check by hand."""

import datetime as dt
from collections import Counter

from drivers.simulation.metrics import (
    DayRecords,
    OrderRecord,
    RouteRecord,
    day_metrics,
    percentile,
)

NOON = dt.datetime(2026, 6, 13, 19, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return NOON + dt.timedelta(minutes=minutes)


def hand_checked_day() -> DayRecords:
    return DayRecords(
        orders=[
            # 40 min to the door, 20 min early: on time.
            OrderRecord(
                placed_at=at(0), promised_by=at(60), status="delivered", delivered_at=at(40)
            ),
            # 70 min to the door, 20 min late.
            OrderRecord(
                placed_at=at(10), promised_by=at(60), status="delivered", delivered_at=at(80)
            ),
            # 40 min, exactly on the promise: still on time.
            OrderRecord(
                placed_at=at(20), promised_by=at(60), status="delivered", delivered_at=at(60)
            ),
            # Nobody home: back to the store.
            OrderRecord(placed_at=at(30), promised_by=at(90), status="returned", failed=True),
            OrderRecord(placed_at=at(35), promised_by=at(95), status="rejected"),
        ],
        routes=[
            RouteRecord(orders=2, km=10.0, pay_cents=1500, offers=1, busy_minutes=60),
            RouteRecord(orders=2, km=6.0, pay_cents=900, offers=3, busy_minutes=90),
        ],
        shift_minutes=300,
        quotes=8,
        ineligible=Counter({"outside_radius": 2, "out_of_stock": 1}),
    )


def test_it_computes_the_day_as_checked_by_hand():
    m = day_metrics(hand_checked_day())

    assert m["orders_placed"] == 5
    assert m["orders_delivered"] == 3
    assert m["orders_rejected"] == 1
    assert m["on_time_rate"] == 0.6667  # 2 of 3 delivered
    assert m["minutes_to_door_median"] == 40.0  # 40, 40, 70
    assert m["minutes_to_door_p90"] == 64.0  # 40 + 0.8 × (70 − 40)
    assert m["minutes_late_mean"] == 6.7  # (0 + 20 + 0) / 3
    assert m["orders_per_route"] == 2.0
    assert m["km_per_order"] == 5.33  # 16 km / 3 delivered
    assert m["driver_utilisation"] == 0.5  # 150 busy of 300 booked minutes
    assert m["cost_per_order_cents"] == 800  # 2 400 cents / 3 delivered
    assert m["offers_per_route"] == 2.0
    assert m["failed_deliveries"] == 1
    assert m["ineligible_quotes"] == 3
    assert m["ineligible_by_reason"] == {"out_of_stock": 1, "outside_radius": 2}


def test_an_empty_day_has_no_rates_rather_than_a_division_by_zero():
    m = day_metrics(DayRecords())

    assert m["orders_delivered"] == 0
    assert m["on_time_rate"] is None
    assert m["km_per_order"] is None
    assert m["driver_utilisation"] is None


def test_percentile_interpolates_between_ranks():
    assert percentile([10, 20, 30, 40], 0.5) == 25
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.5) is None
