"""API keys: hashed, shown once, scopes, revocation; one error shape; throttling."""

import pytest
from django.core.management import call_command

from orders.api.auth import api_key_revoke, hash_key
from orders.api.throttling import ApiKeyRateThrottle
from orders.models import ApiKey, ApiScope

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def test_only_the_hash_and_a_prefix_are_stored(partner_api):
    key = ApiKey.objects.get(pk=partner_api.key.pk)
    assert partner_api.raw not in (key.key_hash, key.prefix)
    assert key.key_hash == hash_key(partner_api.raw)
    assert partner_api.raw.startswith(key.prefix)


def test_the_command_prints_the_key_once(store, capsys):
    call_command(
        "create_api_key", "--retailer", store.retailer.slug, "--scopes", "orders:read", "--test"
    )
    raw = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(key_hash=hash_key(raw))
    assert key.retailer == store.retailer and key.test_mode and key.scopes == ["orders:read"]


def test_no_key_is_a_401_problem(anonymous_api, db):
    response = anonymous_api.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()) >= PROBLEM_KEYS
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_key_is_refused(partner_api):
    api_key_revoke(key=partner_api.key)
    assert partner_api.get("/api/v1/orders/").status_code == 401


def test_a_wrong_key_is_refused(partner_api):
    partner_api.credentials(HTTP_AUTHORIZATION="Bearer mr_live_nope")
    assert partner_api.get("/api/v1/orders/").status_code == 401


def test_use_is_recorded(partner_api):
    partner_api.get("/api/v1/orders/")
    assert ApiKey.objects.get(pk=partner_api.key.pk).last_used_at is not None


def test_a_missing_scope_is_a_403(read_only_api, order_body):
    response = read_only_api.post("/api/v1/orders/", order_body, format="json")
    assert response.status_code == 403
    assert ApiScope.ORDERS_WRITE in response.json()["detail"]
    assert read_only_api.get("/api/v1/orders/").status_code == 200


def test_field_errors_are_listed_with_their_path(partner_api, stock):
    body = {"store_id": stock.store_id, "items": [{"quantity": 0}], "address": {}, "recipient": {}}
    response = partner_api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/validation")
    fields = {e["field"] for e in problem["errors"]}
    assert {"items.0.quantity", "address.line1", "recipient.name"} <= fields


def test_throttling_is_per_key_with_retry_after(partner_api, retailer_api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/min"})
    assert partner_api.get("/api/v1/orders/").status_code == 200
    assert partner_api.get("/api/v1/orders/").status_code == 200
    response = partner_api.get("/api/v1/orders/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["status"] == 429
    assert retailer_api.get("/api/v1/orders/").status_code == 200  # another key's budget


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_schema_and_docs_are_served_without_a_cdn(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in body


def test_an_unknown_api_path_is_a_problem_404(client, db):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_throttle_keeps_one_counter_per_key_and_window(partner_api, monkeypatch):
    from orders.models import SharedCounter

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})
    now = [1_800_000_000.0]  # the start of a minute
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: now[0])
    for _ in range(3):
        assert partner_api.get("/api/v1/orders/").status_code == 200
    refused = partner_api.get("/api/v1/orders/")
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    counters = list(SharedCounter.objects.values_list("key", "count"))
    assert len(counters) == 1 and counters[0][1] == 4
    now[0] += 45
    assert partner_api.get("/api/v1/orders/")["Retry-After"] == "15"
    now[0] += 15  # the next minute: a fresh budget
    assert partner_api.get("/api/v1/orders/").status_code == 200


def _counter(prefix="throttle_api_key_key"):
    from orders.models import SharedCounter

    return list(
        SharedCounter.objects.filter(key__startswith=prefix).values_list("count", flat=True)
    )


def test_a_busy_key_reserves_its_budget_a_dozen_requests_at_a_time(partner_api, monkeypatch):
    from orders.api.throttling import lease_size

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "600/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_800_000_000.0)
    assert lease_size(600) == 12
    assert partner_api.get("/api/v1/orders/").status_code == 200
    assert _counter() == [12]  # one write reserved twelve requests
    for _ in range(11):
        assert partner_api.get("/api/v1/orders/").status_code == 200
    assert _counter() == [12]  # answered from the reservation
    assert partner_api.get("/api/v1/orders/").status_code == 200
    assert _counter() == [23]  # a fiftieth of the 588 it saw left: 11


def test_reservations_shrink_to_one_as_the_budget_runs_out(partner_api, monkeypatch):
    from orders.api.throttling import forget_leases
    from orders.models import SharedCounter

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "600/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_800_000_000.0)
    assert partner_api.get("/api/v1/orders/").status_code == 200
    SharedCounter.objects.update(count=560)  # other processes took most of the window
    forget_leases()
    for _ in range(12):
        assert partner_api.get("/api/v1/orders/").status_code == 200
    assert _counter() == [572]
    assert partner_api.get("/api/v1/orders/").status_code == 200
    assert _counter() == [573]  # 28 left: one at a time


def test_callers_of_past_windows_are_forgotten(partner_api, retailer_api, monkeypatch):
    from orders.api import throttling

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "600/min"})
    monkeypatch.setattr(throttling, "LEASES_MAX", 1)
    now = [1_800_000_000.0]
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: now[0])
    partner_api.get("/api/v1/orders/")
    now[0] += 60
    retailer_api.get("/api/v1/orders/")
    assert [lease.window for lease in throttling._leases.values()] == [30_000_001]


def test_processes_share_one_budget_and_stop_writing_once_it_is_spent(partner_api, monkeypatch):
    from orders.api.throttling import forget_leases
    from orders.models import SharedCounter

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "100/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_800_000_000.0)
    assert partner_api.get("/api/v1/orders/").status_code == 200  # this process holds 2
    (counter,) = SharedCounter.objects.all()
    # Other processes spent all but one of the window's 100 requests.
    SharedCounter.objects.filter(pk=counter.pk).update(count=99)
    forget_leases()  # as another process, holding nothing
    assert partner_api.get("/api/v1/orders/").status_code == 200  # the 100th
    assert partner_api.get("/api/v1/orders/").status_code == 429
    assert _counter() == [101]
    writes_before = _counter()
    for _ in range(3):
        assert partner_api.get("/api/v1/orders/").status_code == 429
    assert _counter() == writes_before  # a spent window is refused without writing


def test_small_budgets_are_counted_exactly(partner_api, monkeypatch):
    from orders.api.throttling import forget_leases

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "5/min"})
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_800_000_000.0)
    answers = []
    for _ in range(7):
        forget_leases()  # every request in a different process
        answers.append(partner_api.get("/api/v1/orders/").status_code)
    assert answers == [200] * 5 + [429] * 2
