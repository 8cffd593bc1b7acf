"""Read replicas: only marked views read from one, never inside a transaction, never writes."""

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from config import db_router
from config.db_router import ReplicaRouter, reads_from_replica, replica_databases
from orders.models import Order


def test_replica_urls_become_mirrored_aliases():
    replicas = replica_databases(
        ["postgres://app:pw@replica-a:5432/mallrun", "postgres://app:pw@replica-b/mallrun"],
        conn_max_age=600,
    )
    assert sorted(replicas) == ["replica1", "replica2"]
    assert replicas["replica1"]["HOST"] == "replica-a"
    assert replicas["replica2"]["CONN_MAX_AGE"] == 600
    assert replicas["replica1"]["TEST"] == {"MIRROR": "default"}


def test_reads_go_to_the_primary_unless_the_view_asks():
    assert ReplicaRouter().db_for_read(Order) == "default"


@pytest.fixture
def one_replica(monkeypatch):
    monkeypatch.setattr(db_router, "replica_aliases", lambda: ["replica1"])


def test_a_marked_view_reads_from_a_replica_and_only_while_it_runs(one_replica):
    seen = {}

    @reads_from_replica
    def view(request):
        seen["read"] = ReplicaRouter().db_for_read(Order)
        seen["write"] = ReplicaRouter().db_for_write(Order)
        return HttpResponse("ok")

    view(RequestFactory().get("/"))
    assert seen == {"read": "replica1", "write": "default"}
    assert ReplicaRouter().db_for_read(Order) == "default"


@pytest.mark.django_db
def test_inside_a_transaction_reads_stay_on_the_primary(one_replica):
    seen = {}

    @reads_from_replica
    def view(request):
        with transaction.atomic():
            seen["read"] = ReplicaRouter().db_for_read(Order)
        return HttpResponse("ok")

    view(RequestFactory().get("/"))
    assert seen["read"] == "default"


def test_without_replicas_the_decorator_changes_nothing():
    @reads_from_replica
    def view(request):
        return HttpResponse(ReplicaRouter().db_for_read(Order))

    assert view(RequestFactory().get("/")).content == b"default"


def test_migrations_only_run_on_the_primary():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "orders") is True
    assert router.allow_migrate("replica1", "orders") is False
