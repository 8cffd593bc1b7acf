"""django-q2 entry points for dispatch: take ids, load rows, call the cycle. Nothing else."""

from django.db.models import Q

from drivers.dispatch.triggers import queue_mall_dispatch
from drivers.models import Route
from orders.models import Order
from retailers.models import Mall


def dispatch_mall(mall_id: int, trigger: str = "") -> int | None:
    """One mall's cycle (skipped, and re-run by the holder, if another is running). The API
    sandbox mall never runs one (its orders go to its own driver): None, no run recorded."""
    from drivers.dispatch.cycle import dispatch_cycle

    mall = Mall.objects.get(pk=mall_id)
    if mall.is_sandbox:
        return None
    return dispatch_cycle(mall=mall, trigger=trigger or "task").pk


def dispatch_all_malls() -> list[int]:
    """The periodic schedule: one task per active mall with something to dispatch."""
    busy = (
        Mall.objects.filter(is_active=True, is_sandbox=False)
        .filter(
            Q(stores__orders__status__in=[Order.Status.ACCEPTED, Order.Status.READY])
            | Q(routes__status__in=[Route.Status.PLANNED, Route.Status.OFFERED])
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    mall_ids = list(busy)
    for mall_id in mall_ids:
        queue_mall_dispatch(mall_id, "periodic")
    return mall_ids
