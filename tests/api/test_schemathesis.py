"""Schemathesis over the whole OpenAPI schema, a few examples per operation: never a server
error, and every documented response matches its schema.

Operations are walked by hand with Hypothesis (schemathesis' own pytest plugin does not run
under pytest 9 yet)."""

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from orders.api.auth import api_key_create  # noqa: E402
from orders.api.throttling import ApiKeyRateThrottle  # noqa: E402
from orders.models import ApiScope  # noqa: E402
from tests import factories as f  # noqa: E402

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def keep_test_connection():
    """Schemathesis calls the WSGI app directly: like Django's test client, keep the request
    signals from closing the test's database connection (it holds the test transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_api_never_errors_and_matches_its_schema(
    db, monkeypatch, stock, driver, keep_test_connection
):
    from config.wsgi import application

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "100000/min"})
    f.StockFactory(store=stock.store)
    _, raw = api_key_create(name="fuzz", retailer=stock.store.retailer, scopes=ApiScope.values)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    failures, ran = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {raw}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {exc}")
        ran += 1
    assert ran >= 20
    assert not failures, "\n\n".join(failures)
