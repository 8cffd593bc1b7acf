"""django-q2 entry points for orders: take ids, load rows, call a service. Nothing else."""

import contextlib
import contextvars
from collections.abc import Iterator

from django_q.tasks import async_task

from orders.models import OrderEvent
from orders.notifications import notify_shopper

_quiet = contextvars.ContextVar("mallrun_quiet_side_effects", default=False)

# Order moves that start the mall's dispatch cycle: a new order to plan, or one to take off.
DISPATCH_ON = frozenset({"accepted", "ready", "cancelled"})


@contextlib.contextmanager
def side_effects_muted() -> Iterator[None]:
    """For bulk loads of history (demo data, simulator set-up): events are written, but no
    messages go out for them."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def side_effects_are_muted() -> bool:
    return _quiet.get()


def enqueue_order_event(
    event_id: int, *, store_id: int | None = None, mall_id: int | None = None
) -> None:
    """Called on commit of every order change: the boards showing the order are stale now,
    and the slow side effects run in the worker."""
    if store_id is not None and mall_id is not None:
        from orders.board_cache import orders_changed

        orders_changed(store_id=store_id, mall_id=mall_id)
    if _quiet.get():
        return
    async_task("orders.tasks.order_event_fanout", event_id, task_name=f"order-event-{event_id}")


def order_event_fanout(event_id: int) -> None:
    event = OrderEvent.objects.select_related("order__store__mall", "order__shopper").get(
        pk=event_id
    )
    from orders.webhooks import webhooks_for_event

    # Sandbox (API test-mode) orders: webhooks only. No messages to a made-up recipient, and
    # no real dispatch (the sandbox hands them to its own driver).
    sandbox = event.order.test_mode
    if not sandbox:
        notify_shopper(event)
    webhooks_for_event(event)
    if event.to_status in DISPATCH_ON and not sandbox:
        from drivers.dispatch.triggers import enqueue_mall_dispatch

        enqueue_mall_dispatch(event.order.store.mall_id, reason=f"order {event.to_status}")


def enqueue_route_assigned(route_id: int) -> None:
    """Called on commit when a driver accepts a route: `route.assigned` webhooks."""
    if _quiet.get():
        return
    async_task("orders.tasks.route_assigned_fanout", route_id, task_name=f"route-{route_id}")


def route_assigned_fanout(route_id: int) -> None:
    from orders.webhooks import webhooks_for_route_assigned

    webhooks_for_route_assigned(route_id)


def enqueue_driver_location(driver_id: int) -> None:
    """Called on commit when a driver's phone reports its position: `driver.location`."""
    if _quiet.get():
        return
    async_task("orders.tasks.driver_location_fanout", driver_id)


def driver_location_fanout(driver_id: int) -> None:
    from orders.webhooks import webhooks_for_driver_location

    webhooks_for_driver_location(driver_id)


def api_housekeeping() -> None:
    """Periodic: forget API idempotency keys older than 24 hours, API rate windows and
    sign-in counts that are over, and expired sessions."""
    from config.login_throttle import housekeeping
    from config.sessions import SessionStore
    from orders.api.idempotency import idempotency_purge
    from orders.counters import counters_purge

    idempotency_purge()
    housekeeping()
    counters_purge()
    SessionStore.clear_expired()
