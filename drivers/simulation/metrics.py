"""Day metrics from plain records, so they can be checked by hand (tests do)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OrderRecord:
    placed_at: dt.datetime
    promised_by: dt.datetime
    status: str
    delivered_at: dt.datetime | None = None
    failed: bool = False  # a delivery attempt failed at the door (then returned)


@dataclass(frozen=True)
class RouteRecord:
    orders: int  # drop-offs on the route when the driver took it
    km: float  # driven: to the mall, to each door, back to the store for returns
    pay_cents: int  # everything the driver earned on it
    offers: int  # offers made for it (accepted one included)
    busy_minutes: float  # from accepting the offer to the route's end


@dataclass
class DayRecords:
    orders: list[OrderRecord] = field(default_factory=list)
    routes: list[RouteRecord] = field(default_factory=list)
    shift_minutes: float = 0.0  # drivers' booked block time, summed
    quotes: int = 0
    ineligible: Counter = field(default_factory=Counter)  # reason code -> quotes
    checkout_refused: int = 0


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _r(value, digits=2):
    return None if value is None else round(value, digits)


def day_metrics(records: DayRecords) -> dict:
    orders = records.orders
    delivered = [o for o in orders if o.status == "delivered" and o.delivered_at]
    on_time = [o for o in delivered if o.delivered_at <= o.promised_by]
    door_minutes = [(o.delivered_at - o.placed_at).total_seconds() / 60 for o in delivered]
    late_minutes = [
        max(0.0, (o.delivered_at - o.promised_by).total_seconds() / 60) for o in delivered
    ]
    routes = records.routes
    route_orders = sum(r.orders for r in routes)
    km = sum(r.km for r in routes)
    pay = sum(r.pay_cents for r in routes)
    busy = sum(r.busy_minutes for r in routes)
    ineligible = sum(records.ineligible.values())
    n_delivered = len(delivered)
    return {
        "quotes": records.quotes,
        "ineligible_quotes": ineligible,
        "ineligible_by_reason": dict(sorted(records.ineligible.items())),
        "checkouts_refused": records.checkout_refused,
        "orders_placed": len(orders),
        "orders_rejected": sum(o.status == "rejected" for o in orders),
        "orders_delivered": n_delivered,
        "orders_undelivered": len(orders)
        - n_delivered
        - sum(o.status in ("rejected", "returned", "cancelled") for o in orders),
        "failed_deliveries": sum(o.failed for o in orders),
        "on_time_rate": _r(len(on_time) / n_delivered, 4) if n_delivered else None,
        "minutes_to_door_median": _r(percentile(door_minutes, 0.5), 1),
        "minutes_to_door_p90": _r(percentile(door_minutes, 0.9), 1),
        "minutes_late_mean": _r(sum(late_minutes) / n_delivered, 1) if n_delivered else None,
        "routes": len(routes),
        "orders_per_route": _r(route_orders / len(routes)) if routes else None,
        "km_per_order": _r(km / n_delivered) if n_delivered else None,
        "km_total": _r(km, 1),
        "driver_utilisation": _r(min(1.0, busy / records.shift_minutes), 4)
        if records.shift_minutes
        else None,
        "driver_pay_cents": pay,
        "cost_per_order_cents": round(pay / n_delivered) if n_delivered else None,
        "offers_per_route": _r(sum(r.offers for r in routes) / len(routes)) if routes else None,
    }


# Rows of the printed table and the comparison: (key, label, format).
TABLE = [
    ("orders_placed", "orders placed", "{:d}"),
    ("orders_delivered", "orders delivered", "{:d}"),
    ("on_time_rate", "on-time rate", "{:.1%}"),
    ("minutes_to_door_median", "order→door median (min)", "{:.1f}"),
    ("minutes_to_door_p90", "order→door p90 (min)", "{:.1f}"),
    ("orders_per_route", "orders per route", "{:.2f}"),
    ("km_per_order", "km per order", "{:.2f}"),
    ("driver_utilisation", "driver utilisation", "{:.1%}"),
    ("cost_per_order_cents", "cost per order ($)", "cents"),
    ("offers_per_route", "offers per route", "{:.2f}"),
    ("failed_deliveries", "failed deliveries", "{:d}"),
    ("ineligible_quotes", "ineligible quotes", "{:d}"),
]


def fmt(value, pattern: str) -> str:
    if value is None:
        return "–"
    if pattern == "cents":
        return f"{value / 100:.2f}"
    return pattern.format(value)
