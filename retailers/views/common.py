"""Access to a store for the person asking: members only (404 otherwise, so other stores'
slugs don't leak), managers only for catalog, settings, staff and reports (403)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_htmx.http import HttpResponseStopPolling

from orders.permissions import Actor
from retailers.models import Store, StoreMembership
from retailers.selectors import membership_for, memberships_of


@dataclass(frozen=True)
class Access:
    store: Store
    membership: StoreMembership
    # All the person's memberships (this one included), for the store switcher.
    memberships: tuple = ()

    @property
    def stores(self) -> list[Store]:
        return [m.store for m in self.memberships]

    @property
    def is_manager(self) -> bool:
        return self.membership.role == StoreMembership.Role.MANAGER


def store_access(request, slug: str, *, manager: bool = False) -> Access:
    memberships = tuple(memberships_of(request.user))
    m = membership_for(request.user, slug, memberships)
    if m is None:
        raise Http404("No such store.")
    if manager and m.role != StoreMembership.Role.MANAGER:
        raise PermissionDenied("Only a manager of this store may do that.")
    return Access(store=m.store, membership=m, memberships=memberships)


def staff_view(manager: bool = False, *, polled: bool = False):
    """Decorator: log-in required, `slug` resolved to `request.access` with the role check.

    `polled` views tell htmx to stop polling (286) once the person no longer works there,
    instead of answering 404 every few seconds forever.
    """

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            try:
                request.access = store_access(request, slug, manager=manager)
            except Http404:
                if polled and getattr(request, "htmx", False):
                    return HttpResponseStopPolling()
                raise
            return view(request, request.access.store, *args, **kwargs)

        return wrapper

    return decorate


def actor(request) -> Actor:
    return Actor.store_staff(request.user)


def nav_context(request, store: Store, active: str) -> dict:
    return {"store": store, "access": request.access, "active": active}
