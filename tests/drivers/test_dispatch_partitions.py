"""Dispatch partitioned by mall: each mall's cycles go to one named queue."""

from unittest import mock

from drivers.dispatch.triggers import dispatch_queue, queue_mall_dispatch
from drivers.tasks import dispatch_all_malls


def test_without_partitions_cycles_use_the_default_queue(settings):
    settings.MALLRUN_DISPATCH_PARTITIONS = 0
    assert dispatch_queue(7) is None


def test_partitions_spread_malls_and_keep_each_mall_on_one_queue(settings):
    settings.MALLRUN_DISPATCH_PARTITIONS = 3
    assert [dispatch_queue(m) for m in (1, 2, 3, 4)] == [
        "dispatch-1",
        "dispatch-2",
        "dispatch-0",
        "dispatch-1",
    ]
    assert dispatch_queue(4) == dispatch_queue(4)


def test_the_task_goes_to_the_malls_queue(settings):
    settings.MALLRUN_DISPATCH_PARTITIONS = 2
    with mock.patch("django_q.tasks.async_task") as task:
        queue_mall_dispatch(5, "order ready")
    task.assert_called_once_with(
        "drivers.tasks.dispatch_mall", 5, "order ready", cluster="dispatch-1"
    )


def test_the_minute_schedule_queues_each_busy_mall_on_its_own_queue(
    settings, store, stock, place_order, system
):
    from orders.services import order_accept

    settings.MALLRUN_DISPATCH_PARTITIONS = 4
    order_accept(order=place_order(stock), actor=system)
    with mock.patch("django_q.tasks.async_task") as task:
        malls = dispatch_all_malls()
    assert malls == [store.mall_id]
    task.assert_called_once_with(
        "drivers.tasks.dispatch_mall",
        store.mall_id,
        "periodic",
        cluster=f"dispatch-{store.mall_id % 4}",
    )
