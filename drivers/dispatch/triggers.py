"""Starting a mall's dispatch cycle from events: always through the task queue, after commit.

Order events (ready, accepted, cancelled), declines, expiries and dropped routes call
`enqueue_mall_dispatch`. It does nothing while side effects are muted (bulk loads), while a
cycle is itself running in this context (its own expiries would re-trigger it), or when
MALLRUN_DISPATCH_ON_EVENTS is off (the test suite, unless a test turns it on).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from functools import partial

from django.conf import settings
from django.db import transaction

_in_cycle = contextvars.ContextVar("mallrun_in_dispatch_cycle", default=False)


@contextlib.contextmanager
def inside_cycle() -> Iterator[None]:
    token = _in_cycle.set(True)
    try:
        yield
    finally:
        _in_cycle.reset(token)


def enqueue_mall_dispatch(mall_id: int, *, reason: str = "") -> None:
    from orders import tasks as order_tasks

    if not settings.MALLRUN_DISPATCH_ON_EVENTS or _in_cycle.get():
        return
    if order_tasks._quiet.get():  # side_effects_muted(): history loads start no dispatch
        return
    queue_mall_dispatch(mall_id, reason)


def dispatch_queue(mall_id: int) -> str | None:
    """The task queue that runs this mall's cycles: with MALLRUN_DISPATCH_PARTITIONS = N > 0,
    mall m goes to `dispatch-{m mod N}` (a cluster started with Q_CLUSTER_NAME=dispatch-k
    serves it); with 0, the default queue. Cycles of one mall never overlap either way (the
    per-mall lock); partitions keep a busy mall's solver runs from delaying other malls and
    other tasks."""
    partitions = settings.MALLRUN_DISPATCH_PARTITIONS
    return f"dispatch-{mall_id % partitions}" if partitions > 0 else None


def queue_mall_dispatch(mall_id: int, reason: str) -> None:
    from django_q.tasks import async_task

    async_task("drivers.tasks.dispatch_mall", mall_id, reason, cluster=dispatch_queue(mall_id))


def dispatch_after_commit(mall_id: int, *, reason: str) -> None:
    """For services: run the mall's cycle once this change is committed."""
    transaction.on_commit(partial(enqueue_mall_dispatch, mall_id, reason=reason))
