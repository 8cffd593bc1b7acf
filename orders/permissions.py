"""Who may do what, in one place: views, the API, admin actions and services all ask here.

Actors:
- shopper: a signed-in person acting on their own orders;
- store staff: members of a store (manager or associate) acting on that store's orders;
- driver: acting on orders of the route they hold, and on offers made to them;
- ops: staff users (`is_staff`), acting anywhere;
- API client: a key that belongs to a retailer (its stores only) or a partner (its orders only);
- system: tasks, dispatch and the simulator, which act on behalf of the rules themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from orders.models import ActorKind, Order
from retailers.models import Store, StoreMembership

Status = Order.Status

# Which actor kinds may make each move of the order life (DESIGN.md, "Order life").
ORDER_TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.PLACED, Status.ACCEPTED): frozenset({"store", "ops", "api", "system"}),
    (Status.PLACED, Status.REJECTED): frozenset({"store", "ops", "api", "system"}),
    (Status.ACCEPTED, Status.READY): frozenset({"store", "ops", "api", "system"}),
    (Status.READY, Status.PICKED_UP): frozenset({"store", "ops", "api", "system"}),
    (Status.PICKED_UP, Status.DELIVERED): frozenset({"driver", "ops", "system"}),
    (Status.PICKED_UP, Status.DELIVERY_FAILED): frozenset({"driver", "ops", "system"}),
    (Status.DELIVERY_FAILED, Status.RETURNED): frozenset({"store", "ops", "api", "system"}),
    (Status.PLACED, Status.CANCELLED): frozenset({"shopper", "store", "ops", "api", "system"}),
    (Status.ACCEPTED, Status.CANCELLED): frozenset({"shopper", "store", "ops", "api", "system"}),
    (Status.READY, Status.CANCELLED): frozenset({"shopper", "store", "ops", "api", "system"}),
}

# Moves that a store associate may not make; they need a manager (none today: associates
# run orders and pick/pack, managers also run catalog, settings and staff).
MANAGER_ONLY_ORDER_MOVES: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Actor:
    """Who is acting. Built by the surface the request came through, never from user input."""

    kind: str
    user: object | None = None
    label: str = ""
    retailer_id: int | None = None  # API keys that belong to a retailer
    partner: str = ""  # API keys that belong to a marketplace partner

    @classmethod
    def shopper(cls, user) -> Actor:
        return cls(ActorKind.SHOPPER, user=user, label=user.get_username())

    @classmethod
    def store_staff(cls, user) -> Actor:
        return cls(ActorKind.STORE, user=user, label=user.get_username())

    @classmethod
    def driver(cls, user) -> Actor:
        return cls(ActorKind.DRIVER, user=user, label=user.get_username())

    @classmethod
    def ops(cls, user) -> Actor:
        return cls(ActorKind.OPS, user=user, label=user.get_username())

    @classmethod
    def api(cls, label: str, *, retailer_id: int | None = None, partner: str = "") -> Actor:
        return cls(ActorKind.API, label=label, retailer_id=retailer_id, partner=partner)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, label=label)

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)


# --- Reading --------------------------------------------------------------------------


def is_ops(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def membership(user, store: Store | int) -> StoreMembership | None:
    if not user.is_authenticated:
        return None
    store_id = store.pk if isinstance(store, Store) else store
    return StoreMembership.objects.filter(user=user, store_id=store_id).first()


def is_store_member(user, store: Store | int) -> bool:
    return membership(user, store) is not None


def is_store_manager(user, store: Store | int) -> bool:
    m = membership(user, store)
    return m is not None and m.role == StoreMembership.Role.MANAGER


def driver_of(user):
    """The user's driver profile, or None."""
    if not user.is_authenticated:
        return None
    from drivers.models import Driver

    return Driver.objects.filter(user=user).first()


def driver_holds_order(driver, order: Order) -> bool:
    """True when the order is on a live route that this driver holds."""
    from drivers.models import Route, RouteStop

    return (
        RouteStop.objects.filter(
            order=order,
            kind=RouteStop.Kind.DROPOFF,
            route__driver=driver,
            route__status__in=Route.HELD_STATUSES,
        )
        .exclude(status=RouteStop.Status.CANCELLED)
        .exists()
    )


def can_view_order(user, order: Order) -> bool:
    if not user.is_authenticated:
        return False
    if is_ops(user):
        return True
    if order.shopper_id and order.shopper.user_id == user.pk:
        return True
    if is_store_member(user, order.store_id):
        return True
    driver = driver_of(user)
    return driver is not None and driver_holds_order(driver, order)


def get_order_for_user_or_404(user, **lookup) -> Order:
    """Load an order the user may see; 404 (not 403) so others' order numbers don't leak."""
    from django.http import Http404

    order = (
        Order.objects.select_related("store__mall", "shopper", "address").filter(**lookup).first()
    )
    if order is None or not can_view_order(user, order):
        raise Http404("No such order.")
    return order


def home_url_for(user) -> str:
    """Where each party lands after login."""
    if is_ops(user):
        return reverse("ops:home")
    if StoreMembership.objects.filter(user=user).exists():
        return reverse("store:home")
    if driver_of(user) is not None:
        return reverse("driver:home")
    return reverse("orders:mine")


# --- Acting ---------------------------------------------------------------------------


def actor_may_act_on_order(actor: Actor, order: Order) -> bool:
    """Object-level right: is this order within the actor's reach at all?"""
    kind = actor.kind
    if kind == ActorKind.SYSTEM:
        return True
    if kind == ActorKind.OPS:
        return actor.user is not None and is_ops(actor.user)
    if kind == ActorKind.SHOPPER:
        return (
            actor.user is not None
            and order.shopper_id is not None
            and order.shopper.user_id == actor.user_id
        )
    if kind == ActorKind.STORE:
        return actor.user is not None and is_store_member(actor.user, order.store_id)
    if kind == ActorKind.DRIVER:
        driver = driver_of(actor.user) if actor.user is not None else None
        return driver is not None and driver_holds_order(driver, order)
    if kind == ActorKind.API:
        if actor.retailer_id is not None:
            return order.store.retailer_id == actor.retailer_id
        return bool(actor.partner) and order.partner == actor.partner
    return False


def check_order_move(actor: Actor, order: Order, to_status: str) -> None:
    """Raise PermissionDenied unless this actor may move this order to `to_status`.

    Whether the move exists at all is the service's question (it raises a domain error);
    this answers only "may this actor make it".
    """
    allowed = ORDER_TRANSITIONS.get((order.status, to_status), frozenset())
    if actor.kind not in allowed:
        raise PermissionDenied(
            f"A {actor.kind} may not move an order from {order.status} to {to_status}."
        )
    if not actor_may_act_on_order(actor, order):
        raise PermissionDenied("This order is not yours to change.")
    if (
        actor.kind == ActorKind.STORE
        and (order.status, to_status) in MANAGER_ONLY_ORDER_MOVES
        and not is_store_manager(actor.user, order.store_id)
    ):
        raise PermissionDenied("Only a store manager may do that.")


def check_store_manager(actor: Actor, store: Store) -> None:
    """Catalog, stock, settings and staff of a store: its managers, ops, its retailer's keys."""
    if actor.kind in (ActorKind.SYSTEM,):
        return
    if actor.kind == ActorKind.OPS and actor.user is not None and is_ops(actor.user):
        return
    if (
        actor.kind == ActorKind.STORE
        and actor.user is not None
        and is_store_manager(actor.user, store)
    ):
        return
    if actor.kind == ActorKind.API and actor.retailer_id == store.retailer_id:
        return
    raise PermissionDenied("Only a manager of this store may change it.")


def check_route_actor(actor: Actor, route, *, driver_action: bool) -> None:
    """Routes: the driver who holds (or is offered) it for driver actions; ops and system always."""
    if actor.kind == ActorKind.SYSTEM:
        return
    if actor.kind == ActorKind.OPS and actor.user is not None and is_ops(actor.user):
        return
    if driver_action and actor.kind == ActorKind.DRIVER and actor.user is not None:
        driver = driver_of(actor.user)
        if driver is not None and route.driver_id == driver.pk:
            return
    raise PermissionDenied("This route is not yours to change.")


def check_offer_answer(actor: Actor, offer) -> None:
    """Only the driver an offer was made to may accept or decline it."""
    if actor.kind == ActorKind.DRIVER and actor.user is not None:
        driver = driver_of(actor.user)
        if driver is not None and driver.pk == offer.driver_id:
            return
    if actor.kind == ActorKind.SYSTEM:
        return
    raise PermissionDenied("This offer was made to another driver.")


def check_ops(actor: Actor) -> None:
    if actor.kind == ActorKind.SYSTEM:
        return
    if actor.kind == ActorKind.OPS and actor.user is not None and is_ops(actor.user):
        return
    raise PermissionDenied("Only operations staff may do that.")
