"""django-q2 entry points for orders: take ids, load rows, call a service. Nothing else."""

from django_q.tasks import async_task

from orders.models import OrderEvent
from orders.notifications import notify_shopper


def enqueue_order_event(event_id: int) -> None:
    """Called on commit of every order change: the slow side effects run in the worker."""
    async_task("orders.tasks.order_event_fanout", event_id, task_name=f"order-event-{event_id}")


def order_event_fanout(event_id: int) -> None:
    event = OrderEvent.objects.select_related("order__store__mall").get(pk=event_id)
    notify_shopper(event)
