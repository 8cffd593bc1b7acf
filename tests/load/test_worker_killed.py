"""A task worker killed in the middle of a burst loses nothing.

A real django-q2 cluster (`manage.py qcluster`, production settings module, the ORM broker on
the test database) works through a burst queued by the test: the fan-out of 90 order events
(each posts to two webhook endpoints, a receiver thread in this test) and the dispatch cycles
of three malls. When a third of the webhooks have arrived the whole cluster is SIGKILLed, then
started again. Afterwards every event has been delivered to every endpoint under one
webhook-id (repeats are allowed: at-least-once, and the receiver can drop them by id), every
task finished, and every order is on exactly one route.

How it recovers: the ORM broker hands out a task again when it was not acknowledged within
`retry` seconds; a webhook attempt claimed by the dead worker is held only for the cluster's
`timeout` (orders.webhooks.sending_lease) so the re-run sends it; a fan-out run again keeps
the deliveries (and webhook-ids) it already wrote; a dispatch lock held by a dead cycle
expires after MALLRUN_DISPATCH_LOCK_SECONDS. Those are shortened here (retry 15 s, timeout and
lock 10 s) so the test takes seconds, not minutes.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule, Task
from django_q.tasks import async_task

from drivers.models import DispatchRun, Route, RouteStop
from orders.models import Order, OrderEvent, WebhookDelivery
from orders.permissions import Actor
from orders.services import CartItem, checkout_place, order_accept, order_mark_ready
from orders.webhooks import webhook_endpoint_create
from retailers import clock
from tests import factories as f

from .conftest import NOON_ISH

pytestmark = [
    pytest.mark.load,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

MALLS = 3
ORDERS_PER_MALL = 10
ENDPOINTS_PER_RETAILER = 2
EVENTS = MALLS * ORDERS_PER_MALL * 3  # placed, accepted, ready


class Cluster:
    """`manage.py qcluster` in its own process group, so one SIGKILL takes sentinel, pusher,
    workers and monitor down together, the way a lost machine would."""

    def __init__(self, log_dir: Path):
        db = connection.settings_dict
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "MALLRUN_", "Q_", "DATABASE_URL", "REDIS_URL"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DJANGO_DEBUG="0",
            # The test process signs the tasks it queues; the cluster must verify them.
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
            DATABASE_URL=(
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            ),
            DJANGO_MAILER_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            DJANGO_CACHE_BACKEND="django.core.cache.backends.locmem.LocMemCache",
            MALLRUN_SMS_BACKEND="orders.notifications.LocmemSmsBackend",
            MALLRUN_LOG_FORMAT="plain",
            MALLRUN_DISPATCH_ON_EVENTS="1",
            MALLRUN_DISPATCH_POLICY="greedy",
            MALLRUN_DISPATCH_LOCK_SECONDS="10",
            Q_WORKERS="2",
            Q_TIMEOUT="10",
            Q_RETRY="15",
            # Keep every finished task's row: the test counts them (the default keeps 500).
            Q_SAVE_LIMIT="0",
        )
        self.env = env
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"qcluster-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def log_tail(self) -> str:
        path = self.log_dir / f"qcluster-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.kill()


def _wait_for(condition, *, seconds: float, what: str, cluster: Cluster):
    """Poll until `condition()` is truthy; a stuck recovery fails with the worker's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if cluster.proc.poll() is not None:
            pytest.fail(f"the cluster exited while waiting for {what}:\n{cluster.log_tail()}")
        time.sleep(0.05)
    unsent = list(
        WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).values_list(
            "pk", "order_id", "sequence", "status", "attempts", "next_attempt_at"
        )[:20]
    )
    pytest.fail(
        f"gave up waiting for {what}: {OrmQ.objects.count()} tasks queued, unsent deliveries "
        f"{unsent}\n{cluster.log_tail()}"
    )


def _production_schedules() -> None:
    import importlib

    from django.apps import apps

    for module, function in (
        ("orders.migrations.0004_webhook_schedule", "create_schedules"),
        ("drivers.migrations.0003_dispatch_schedule", "create_schedule"),
        ("retailers.migrations.0003_schedule_acceptance_check", "add_schedule"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
    assert Schedule.objects.filter(name="webhooks-due-every-minute").exists()


def _burst(receiver) -> list[str]:
    """Orders placed, accepted and made ready at three malls (90 events, queued, not yet run)
    and one dispatch task per mall. Returns the dispatch tasks' ids."""
    system = Actor.system("load test")
    malls = []
    for m in range(MALLS):
        stock = f.StockFactory(on_hand=100)
        malls.append(stock.store.mall)
        for e in range(ENDPOINTS_PER_RETAILER):
            webhook_endpoint_create(
                url=f"{receiver.url}/{m}/{e}", retailer=stock.store.retailer, events=[]
            )
        for i in range(ORDERS_PER_MALL):
            shopper = f.ShopperFactory()
            (order,) = checkout_place(
                actor=Actor.shopper(shopper.user),
                shopper=shopper,
                address=f.AddressFactory(shopper=shopper),
                recipient_name=f"Shopper {m}-{i}",
                recipient_email=f"shopper{m}-{i}@example.com",
                items=[CartItem(stock.store_id, stock.product_id, 1)],
            )
            order_accept(order=order, actor=system)
            order_mark_ready(order=order, actor=system)
    return [async_task("drivers.tasks.dispatch_mall", mall.pk, "load burst") for mall in malls]


def test_killing_the_task_cluster_mid_burst_loses_no_webhook_and_no_dispatch(
    receiver, cluster, monkeypatch
):
    # This process queues into the real broker (the suite otherwise runs tasks inline).
    monkeypatch.setattr(Conf, "SYNC", False)
    # The schedules production has (data migrations; an earlier test's flush may have emptied
    # the table): the minute sweep re-queues any delivery whose task was lost with a worker.
    _production_schedules()
    with clock.frozen_at(NOON_ISH):
        dispatch_tasks = _burst(receiver)
    assert OrderEvent.objects.count() == EVENTS
    assert WebhookDelivery.objects.count() == 0  # nothing has run yet: it is all queued
    queued = OrmQ.objects.count()
    expected = EVENTS * ENDPOINTS_PER_RETAILER

    # Two kills: one while the fan-out writes deliveries, one while they are being sent.
    kill_when = [
        ("fan-out", lambda: WebhookDelivery.objects.count() >= expected // 3),
        ("sending", lambda: len(receiver.ids()) >= expected // 2),
    ]
    started = time.monotonic()
    at_kill = {}
    for phase, condition in kill_when:
        cluster.start()
        _wait_for(condition, seconds=90, what=f"the {phase} phase", cluster=cluster)
        cluster.kill()
        at_kill[phase] = {
            "after s": round(time.monotonic() - started, 1),
            "webhooks received": len(receiver.ids()),
            "deliveries written": WebhookDelivery.objects.count(),
            "deliveries mid-send": WebhookDelivery.objects.filter(status="sending").count(),
            "tasks finished": Task.objects.count(),
            "tasks queued": OrmQ.objects.count(),
            "tasks handed out, not acknowledged": OrmQ.objects.filter(
                lock__gt=timezone.now()
            ).count(),
            "dispatch runs unfinished": DispatchRun.objects.filter(finished_at=None).count(),
        }
        # Each kill really happened mid-burst.
        assert at_kill[phase]["tasks queued"] > 0
    assert at_kill["fan-out"]["deliveries written"] < expected
    assert at_kill["sending"]["webhooks received"] < expected
    killed_at = time.monotonic()

    cluster.start()

    def all_done():
        delivered = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SUCCEEDED)
        return (
            delivered.count() == expected
            and not OrmQ.objects.exists()
            and not WebhookDelivery.objects.exclude(status="succeeded").exists()
            and len(set(receiver.ids())) >= expected
        )

    _wait_for(all_done, seconds=240, what="the queue to drain after the restart", cluster=cluster)
    recovered_at = time.monotonic()
    cluster.kill()

    # Every event reached every endpoint under exactly one delivery, so one webhook-id.
    deliveries = list(WebhookDelivery.objects.all())
    per_event = Counter((d.order_id, d.sequence, d.endpoint_id) for d in deliveries)
    assert len(per_event) == expected and set(per_event.values()) == {1}
    assert {d.status for d in deliveries} == {WebhookDelivery.Status.SUCCEEDED}
    seen = receiver.ids()
    assert set(seen) == {d.message_id for d in deliveries}
    duplicates = len(seen) - len(set(seen))
    # Each payload is the event it says it is (sequence 1, 2, 3 = placed, accepted, ready).
    by_id = {d.message_id: d for d in deliveries}
    for msg_id, payload in receiver.seen:
        delivery = by_id[msg_id]
        assert payload["data"]["sequence"] == delivery.sequence
        assert (
            payload["data"]["event"]["to_status"]
            == ["placed", "accepted", "ready"][delivery.sequence - 1]
        )

    # Every task the cluster took on finished, the killed ones included (handed out again).
    assert not Task.objects.filter(success=False).exists(), list(
        Task.objects.filter(success=False).values_list("func", "result")
    )
    succeeded = set(Task.objects.filter(success=True).values_list("id", flat=True))
    assert set(dispatch_tasks) <= succeeded
    fanouts = Task.objects.filter(func="orders.tasks.order_event_fanout", success=True)
    assert fanouts.values("name").distinct().count() == EVENTS

    # Dispatch: every order on exactly one route, planned once (never a second drop-off).
    live = Route.objects.exclude(status=Route.Status.CANCELLED)
    for order in Order.objects.all():
        stops = RouteStop.objects.filter(order=order, kind=RouteStop.Kind.DROPOFF)
        assert stops.count() == 1, order
        assert live.filter(pk=stops.get().route_id).exists(), order
    unfinished = DispatchRun.objects.filter(finished_at=None).count()
    # Only a cycle a kill interrupted can be unfinished (two kills, two workers each).
    assert unfinished <= 4
    assert DispatchRun.objects.filter(outcome=DispatchRun.Outcome.FAILED).count() == 0

    runs = Counter(DispatchRun.objects.values_list("outcome", flat=True))
    print(
        f"worker kill: {queued} tasks queued; at the kills {at_kill}; "
        f"recovered {recovered_at - killed_at:.1f} s after the second kill; "
        f"{expected} webhooks delivered, receiver saw {len(seen)} posts ({duplicates} repeats "
        f"by webhook-id); {Task.objects.count()} tasks finished; "
        f"dispatch runs {dict(runs)}, {unfinished} cut short; {live.count()} routes"
    )
