"""API keys: creation (the secret is shown once), Bearer authentication, scope permissions.

A key is `mr_live_…` or `mr_test_…`; only its SHA-256 is stored. A retailer's key reaches
that retailer's stores and their orders; a partner's key reaches the orders it placed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from orders.models import ApiKey, ApiScope, Order
from orders.permissions import Actor
from retailers import clock
from retailers.models import Retailer, Store

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scopes: list[str],
    partner: str = "",
    retailer: Retailer | None = None,
    test_mode: bool = False,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for a partner or a retailer; returns the row and the secret (shown once).
    With an actor, the creation is in the audit trail (never the secret or its hash)."""
    if bool(partner) == bool(retailer):
        raise ValueError("A key belongs to a partner or to a retailer, not both or neither.")
    unknown = set(scopes) - set(ApiScope.values)
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(sorted(unknown))}.")
    raw = f"mr_{'test' if test_mode else 'live'}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name,
        partner=partner,
        retailer=retailer,
        prefix=raw[:16],
        key_hash=hash_key(raw),
        scopes=sorted(set(scopes)),
        test_mode=test_mode,
    )
    _audit(actor, "apikey.create", key)
    return key, raw


def api_key_revoke(*, key: ApiKey, actor: Actor | None = None) -> ApiKey:
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    key.refresh_from_db()
    if revoked:
        _audit(actor, "apikey.revoke", key)
    return key


def _audit(actor: Actor | None, action: str, key: ApiKey) -> None:
    if actor is None:
        return
    from retailers.audit import audit_record

    audit_record(
        actor=actor,
        action=action,
        obj=key,
        object_repr=f"{key.prefix}… ({key.owner_label})",
        after={"prefix": key.prefix, "scopes": key.scopes, "test_mode": key.test_mode},
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mr_…`. request.user stays anonymous; request.auth is the key."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send exactly one key: 'Bearer <key>'.")
        key = ApiKey.objects.select_related("retailer").filter(key_hash=hash_key(header[1])).first()
        if key is None or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key is unknown or revoked.")
        now = clock.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return 'Bearer realm="mallrun"'


def key_of(request) -> ApiKey:
    return request.auth


def actor_for(key: ApiKey) -> Actor:
    label = f"API key {key.prefix}… ({key.name})"
    if key.retailer_id:
        return Actor.api(label, retailer_id=key.retailer_id)
    return Actor.api(label, partner=key.partner)


def stores_for(key: ApiKey) -> QuerySet[Store]:
    """Stores a key may order from (partners: all active; retailers: their own)."""
    qs = Store.objects.select_related("mall", "retailer")
    return qs.filter(retailer_id=key.retailer_id) if key.retailer_id else qs


def managed_stores_for(key: ApiKey) -> QuerySet[Store]:
    """Stores whose inventory and orders a key may run: only a retailer's own."""
    qs = Store.objects.select_related("mall", "retailer")
    return qs.filter(retailer_id=key.retailer_id) if key.retailer_id else qs.none()


def orders_for(key: ApiKey) -> QuerySet[Order]:
    qs = Order.objects.filter(test_mode=key.test_mode)
    if key.retailer_id:
        return qs.filter(store__retailer_id=key.retailer_id)
    return qs.filter(partner=key.partner)


class HasScope(permissions.BasePermission):
    """The view names `required_scopes` (per method when a dict)."""

    message = "This API key lacks the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        needed = getattr(view, "required_scopes", ())
        if isinstance(needed, dict):
            needed = needed.get(request.method, ())
        missing = [s for s in needed if s not in key.scopes]
        if missing:
            self.message = f"This API key lacks the scope {', '.join(missing)}."
            return False
        return True


class IsDriver(permissions.BasePermission):
    message = "Only a signed-in driver may use this endpoint."

    def has_permission(self, request, view) -> bool:
        from orders.permissions import driver_of

        return bool(request.user and request.user.is_authenticated) and (
            driver_of(request.user) is not None
        )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer mr_live_…` (or `mr_test_…`).",
        }
