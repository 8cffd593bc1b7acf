"""The happy path of one order through its whole life, end to end through the services."""

from django.core import mail

from drivers.models import Route
from drivers.services import offer_accept, route_offer, route_plan
from orders.models import Order
from orders.notifications import LocmemSmsBackend
from orders.permissions import Actor
from orders.services import order_accept, order_deliver, order_mark_ready, order_pick_up


def test_an_order_goes_from_placed_to_delivered(
    place_order, stock, manager, driver, ops_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(stock, quantity=2)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (10, 2)
    assert mail.outbox[-1].subject == f"Order {order.number} confirmed"
    assert LocmemSmsBackend.outbox[-1].to == "+17025550100"

    staff = Actor.store_staff(manager)
    order_accept(order=order, actor=staff, prep_minutes=10)
    order_mark_ready(order=order, actor=staff, bags=2)
    route = route_plan(mall=order.store.mall, orders=[order], actor=Actor.ops(ops_user))
    offer = route_offer(route=route, driver=driver, actor=Actor.system())
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    route.refresh_from_db()
    order_pick_up(order=order, actor=staff, handover_code=route.handover_code)
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (8, 0)
    route.refresh_from_db()
    assert route.status == Route.Status.DELIVERING

    order.refresh_from_db()
    order_deliver(order=order, actor=Actor.driver(driver.user), pin=order.delivery_pin)
    order.refresh_from_db()
    route.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    assert order.proof.pin_verified
    assert route.status == Route.Status.COMPLETED
    assert [e.to_status for e in order.events.all()] == [
        "placed",
        "accepted",
        "ready",
        "picked_up",
        "delivered",
    ]
