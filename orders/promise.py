"""The promised delivery time and fee for one store's part of a checkout.

This is the plain estimate the foundation uses when a checkout arrives without a quote:
store prep time + travel from the mall + a hand-over buffer. The quote engine refines it
(queue at the store, driver supply) and passes its own numbers into `checkout_place`.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from orders.models import Address
from retailers.geo import travel_minutes
from retailers.models import Store


@dataclass(frozen=True)
class Promise:
    fee_cents: int
    promised_by: dt.datetime


def estimate_promise(*, store: Store, address: Address, at: dt.datetime, fee_cents: int) -> Promise:
    mall = store.mall
    minutes = (
        store.prep_minutes
        + travel_minutes(mall.latitude, mall.longitude, address.latitude, address.longitude)
        + settings.MALLRUN_PROMISE_BUFFER_MINUTES
    )
    return Promise(fee_cents=fee_cents, promised_by=at + dt.timedelta(minutes=round(minutes)))
