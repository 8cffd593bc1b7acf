"""Health endpoints, request ids and structured log lines."""

import datetime as dt
import json
import logging

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from config.observability import JsonFormatter, RequestIdFilter, request_id_var


def test_web_health_checks_the_database_only(client, db):
    response = client.get(reverse("health_web"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_web_health_is_503_when_the_database_fails(client, db, monkeypatch):
    from config import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    response = client.get(reverse("health_web"))
    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_health_in_sync_mode_reports_the_queue_as_inline(client, db):
    body = client.get(reverse("health")).json()
    assert body["status"] == "ok"
    assert body["task_queue"] == {"status": "ok", "mode": "sync"}


@pytest.fixture
def queued_mode(monkeypatch):
    """As in production: tasks go through the ORM broker to a separate cluster."""
    monkeypatch.setattr(Conf, "SYNC", False)
    stats = []
    monkeypatch.setattr("django_q.status.Stat.get_all", staticmethod(lambda broker=None: stats))
    return stats


def test_health_with_a_running_cluster_and_a_fresh_queue_is_ok(client, db, queued_mode):
    queued_mode.append(object())
    OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="x", lock=timezone.now())
    response = client.get(reverse("health"))
    assert response.status_code == 200, response.json()
    queue = response.json()["task_queue"]
    assert queue["status"] == "ok"
    assert queue["clusters"] == 1
    assert queue["queued"] == 1


def test_health_is_503_when_no_cluster_runs(client, db, queued_mode):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["task_queue"]["reason"] == "no task cluster is running"


def test_health_is_503_when_tasks_wait_too_long(client, db, queued_mode, settings):
    queued_mode.append(object())
    settings.MALLRUN_HEALTH_MAX_QUEUE_SECONDS = 60
    OrmQ.objects.create(
        key=Conf.CLUSTER_NAME, payload="x", lock=timezone.now() - dt.timedelta(minutes=5)
    )
    response = client.get(reverse("health"))
    assert response.status_code == 503
    queue = response.json()["task_queue"]
    assert queue["reason"] == "tasks are waiting too long"
    assert queue["oldest_queued_seconds"] >= 299


def test_health_is_503_when_the_broker_is_down(client, db, queued_mode, monkeypatch):
    def refuse(self):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("django_q.brokers.orm.ORM.queue_size", refuse)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["task_queue"] == {
        "status": "error",
        "reason": "broker: ConnectionError",
    }


def test_every_response_carries_a_request_id(client, db):
    first = client.get(reverse("health_web"))["X-Request-ID"]
    second = client.get(reverse("health_web"))["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_sane_incoming_request_id_is_kept_and_junk_is_replaced(client, db):
    kept = client.get(reverse("health_web"), headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    junk = client.get(reverse("health_web"), headers={"X-Request-ID": "<script>\nx"})
    assert junk["X-Request-ID"] != "<script>\nx"
    assert len(junk["X-Request-ID"]) == 32


def test_the_access_line_carries_request_id_status_and_user(client, db, caplog, shopper):
    client.force_login(shopper.user)
    with caplog.at_level(logging.INFO, logger="mallrun.request"):
        response = client.get(reverse("health_web"), headers={"X-Request-ID": "trace-abc-123"})
    (record,) = [r for r in caplog.records if r.name == "mallrun.request"]
    RequestIdFilter().filter(record)
    assert response.status_code == 200
    assert record.request_id == "trace-abc-123"
    assert record.status == 200
    assert record.path == "/health/web/"
    assert record.user_id == shopper.user.pk
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "trace-abc-123"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["level"] == "INFO"


def test_json_lines_carry_exceptions_and_the_current_request_id():
    token = request_id_var.set("req-123456789")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("x").makeRecord(
                "x", logging.ERROR, __file__, 1, "failed %s", ("it",), exc_info=True
            )
            import sys

            record.exc_info = sys.exc_info()
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed it"
    assert line["request_id"] == "req-123456789"
    assert "ValueError: boom" in line["exception"]


def test_tasks_inherit_the_request_id_of_the_request_that_queued_them():
    from config.observability import _adopt_task_id, _tag_task

    token = request_id_var.set("checkout-42-abcdef")
    task = {"id": "f" * 32}
    try:
        _tag_task(sender="django_q", task=task)
    finally:
        request_id_var.reset(token)
    assert task["request_id"] == "checkout-42-abcdef"
    _adopt_task_id(sender="django_q", func=None, task=task)
    assert request_id_var.get() == "checkout-42-abcdef"
    _adopt_task_id(sender="django_q", func=None, task={"id": "a" * 32, "request_id": "-"})
    assert request_id_var.get() == "task-aaaaaaaaaaaa"
    request_id_var.set("-")


def test_djangos_own_error_lines_carry_the_request_id(client, db, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-such-page/", headers={"X-Request-ID": "trace-404-abc"})
    assert response.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    RequestIdFilter().filter(record)
    assert record.request_id == "trace-404-abc"
