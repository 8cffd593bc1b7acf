"""API actors: a partner's key, our retailer's key (reaches `store`), the other retailer's key
(reaches `other_store`), a sandbox key, and keys missing scopes."""

import datetime as dt

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from orders.api.auth import api_key_create
from orders.models import ApiScope
from retailers import clock

ALL = list(ApiScope.values)
# Wednesday 25 November 2026, 19:00 UTC: 11:00 am in Las Vegas (stores open, drivers out).
NOON_ISH = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
ADDRESS = {
    "line1": "1 Main St",
    "city": "Las Vegas",
    "state": "NV",
    "zip_code": "89109",
    "latitude": 36.14,
    "longitude": -115.15,
}
RECIPIENT = {"name": "Alice Shopper", "phone": "+17025550100", "email": "alice@example.com"}


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen():
    with clock.frozen_at(NOON_ISH):
        yield NOON_ISH


class KeyClient(APIClient):
    def __init__(self, raw, key):
        super().__init__()
        self.key = key
        self.raw = raw
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _client(**kwargs):
    key, raw = api_key_create(name="test", **kwargs)
    return KeyClient(raw, key)


@pytest.fixture
def partner_api(db):
    return _client(partner="Acme Market", scopes=ALL)


@pytest.fixture
def retailer_api(store):
    return _client(retailer=store.retailer, scopes=ALL)


@pytest.fixture
def other_retailer_api(other_store):
    return _client(retailer=other_store.retailer, scopes=ALL)


@pytest.fixture
def sandbox_api(db):
    return _client(partner="Acme Market", scopes=ALL, test_mode=True)


@pytest.fixture
def read_only_api(db):
    return _client(partner="Acme Market", scopes=[ApiScope.ORDERS_READ])


@pytest.fixture
def anonymous_api():
    return APIClient()


@pytest.fixture
def order_body(stock):
    return {
        "store_id": stock.store_id,
        "items": [{"product_id": stock.product_id, "quantity": 2}],
        "address": ADDRESS,
        "recipient": RECIPIENT,
        "external_id": "mkt-1",
    }
