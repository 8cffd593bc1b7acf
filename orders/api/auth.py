"""API keys: creation (the secret is shown once), Bearer authentication, scope permissions.

A key is `mr_live_…` or `mr_test_…`; only its SHA-256 is stored. A retailer's key reaches
that retailer's stores and their orders; a partner's key reaches the orders it placed.

Driver tokens (`mrd_…`, also hashed, shown once) are a driver's sign-in from a native app:
they authenticate on the driver endpoints only, beside the web view's session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from orders.models import ApiKey, ApiScope, DriverToken, Order
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


def bearer_secret(request, what: str) -> str | None:
    """The secret in `Authorization: Bearer <secret>`; None when there is no Bearer header."""
    header = authentication.get_authorization_header(request).decode("latin-1").split()
    if not header or header[0].lower() != "bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed(f"Send exactly one {what}: 'Bearer <{what}>'.")
    return header[1]


def api_key_by_hash(key_hash: str) -> ApiKey | None:
    """The key with this hash and its retailer: one hand-written SELECT on every API request
    (the ORM's `select_related(...).first()` cost three times as long; config/hot_reads.py)."""
    rows = _api_key_read().rows([key_hash])
    if not rows:
        return None
    key, retailer = rows[0]
    key.retailer = retailer
    return key


@cache
def _api_key_read():
    from config.hot_reads import Columns, HotRead, table
    from retailers.models import Retailer

    def build(connection, qn, k_cols, r_cols):
        k, r = qn("k"), qn("r")
        return (
            f"SELECT {k_cols}, {r_cols} FROM {table(ApiKey, connection)} {k} "
            f"LEFT JOIN {table(Retailer, connection)} {r} "
            f"ON {r}.{qn('id')} = {k}.{qn('retailer_id')} "
            f"WHERE {k}.{qn('key_hash')} = %s"
        )

    return HotRead(build, Columns(ApiKey, "k"), Columns(Retailer, "r"))


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mr_…`. request.user stays anonymous; request.auth is the key."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_secret(request, "key")
        if raw is None:
            return None
        key = api_key_by_hash(hash_key(raw))
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


def _stores_in_mode(key: ApiKey) -> QuerySet[Store]:
    """Test-mode keys live in the sandbox mall only; live keys never see it."""
    return Store.objects.select_related("mall", "retailer").filter(mall__is_sandbox=key.test_mode)


def stores_for(key: ApiKey) -> QuerySet[Store]:
    """Stores a key may order from (partners: all active; retailers: their own), in the
    sandbox mall for test-mode keys and in real malls for live ones."""
    qs = _stores_in_mode(key)
    return qs.filter(retailer_id=key.retailer_id) if key.retailer_id else qs


def managed_stores_for(key: ApiKey) -> QuerySet[Store]:
    """Stores whose inventory and orders a key may run: only a retailer's own (its sandbox
    store for a test-mode key)."""
    qs = _stores_in_mode(key)
    return qs.filter(retailer_id=key.retailer_id) if key.retailer_id else qs.none()


def orders_for(key: ApiKey) -> QuerySet[Order]:
    """Test-mode keys reach sandbox orders only (test-mode orders placed in real stores
    before the sandbox mall existed stay out of every key's reach)."""
    qs = Order.objects.filter(test_mode=key.test_mode, store__mall__is_sandbox=key.test_mode)
    if key.retailer_id:
        return qs.filter(store__retailer_id=key.retailer_id)
    return qs.filter(partner=key.partner)


def orders_sql(key: ApiKey, qn) -> tuple[list[str], list]:
    """`orders_for(key)` as SQL conditions over `o` (the order), `s` (its store) and `m` (its
    mall), for the order list's hand-written page query (tests/api check both agree)."""
    where = [f"o.{qn('test_mode')} = %s", f"m.{qn('is_sandbox')} = %s"]
    params: list = [key.test_mode, key.test_mode]
    if key.retailer_id:
        where.append(f"s.{qn('retailer_id')} = %s")
        params.append(key.retailer_id)
    else:
        where.append(f"o.{qn('partner')} = %s")
        params.append(key.partner)
    return where, params


def sandbox_store_refusal() -> str:
    """The 404 detail for a test-mode key naming a store outside the sandbox."""
    from retailers.sandbox import TEST_ADDRESS

    return (
        "No such store for this key. Test-mode keys work with the sandbox stores only: find "
        f"them with GET /api/v1/availability/?zip_code={TEST_ADDRESS['zip_code']} (or "
        f"latitude={TEST_ADDRESS['latitude']}&longitude={TEST_ADDRESS['longitude']}) and "
        "this key."
    )


def store_in_reach(key: ApiKey, pk, *, managed: bool = False) -> Store:
    """The store with this id if the key may use it; otherwise a 404 that, for a test-mode
    key, says where its stores are."""
    from rest_framework.exceptions import NotFound

    qs = managed_stores_for(key) if managed else stores_for(key)
    store = qs.filter(pk=pk).first()
    if store is not None:
        return store
    if key.test_mode:
        raise NotFound(sandbox_store_refusal())
    raise NotFound("No Store matches the given query.")


def sandbox_prepare(key: ApiKey) -> None:
    """On a test-mode key's calls: make the sandbox mall (and the retailer's sandbox store)
    if it isn't there yet. One query once it is."""
    if not key.test_mode:
        return
    from retailers.sandbox import ensure_sandbox

    ensure_sandbox(retailer=key.retailer if key.retailer_id else None)


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
    """A driver signed in to the web view (session) or holding a driver token. A suspended
    (or rejected) driver is refused with the reason, whichever way they signed in."""

    message = "Only a signed-in driver may use this endpoint."

    def has_permission(self, request, view) -> bool:
        from orders.permissions import driver_of

        if isinstance(request.auth, DriverToken):
            driver = request.auth.driver
        elif request.user and request.user.is_authenticated:
            driver = driver_of(request.user)
        else:
            driver = None
        if driver is None:
            return False
        refusal = driver_refusal(driver)
        if refusal:
            self.message = refusal
            return False
        return True


class HoldsDriverToken(permissions.BasePermission):
    """Signed in with a driver token (whatever the driver's status: a suspended driver may
    still sign their app out)."""

    message = "Send the driver token to revoke: 'Authorization: Bearer mrd_…'."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, DriverToken)


# --- Driver tokens (a native app's sign-in) -----------------------------------------------

DRIVER_TOKEN_PREFIX = "mrd_"
# Who may sign in to the app: refused statuses get a 403 with these words.
DRIVER_REFUSALS = {
    "suspended": (
        "This driver account is suspended: the driver app and API are closed to it. "
        "Contact support."
    ),
    "rejected": "This driver application was not approved; it can't use the driver app.",
}


def driver_refusal(driver) -> str:
    """Why this driver may not use the app now ('' when they may: approved or pending)."""
    message = DRIVER_REFUSALS.get(driver.status, "")
    if message and driver.status_reason:
        message = f"{message} Reason: {driver.status_reason}"
    return message


def driver_token_create(*, driver, name: str = "") -> tuple[DriverToken, str]:
    """A new token for the driver's app; returns the row and the secret (shown once). The
    sign-in is in the audit trail (prefix and device, never the secret or its hash)."""
    raw = f"{DRIVER_TOKEN_PREFIX}{secrets.token_urlsafe(32)}"
    token = DriverToken.objects.create(
        driver=driver, name=name.strip(), prefix=raw[:12], token_hash=hash_key(raw)
    )
    _audit_token(Actor.driver(driver.user), "drivertoken.create", token)
    return token, raw


def driver_token_revoke(*, token: DriverToken, actor: Actor) -> DriverToken:
    """Revoke a token (the driver signing the app out, or ops). Revoking twice is a no-op."""
    revoked = DriverToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    token.refresh_from_db(fields=["revoked_at"])
    if revoked:
        _audit_token(actor, "drivertoken.revoke", token)
    return token


def _audit_token(actor: Actor, action: str, token: DriverToken) -> None:
    from retailers.audit import audit_record

    audit_record(
        actor=actor,
        action=action,
        obj=token,
        object_repr=f"{token.prefix}… ({token.driver})",
        mall=token.driver.home_mall_id,
        after={"prefix": token.prefix, "name": token.name},
    )


class DriverTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mrd_…` on the driver endpoints. request.user is the driver's
    user, request.auth the token. API keys are not driver tokens: they are refused here."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = bearer_secret(request, "token")
        if raw is None:
            return None
        if raw.startswith(("mr_live_", "mr_test_")):
            raise exceptions.AuthenticationFailed(
                "API keys don't work on driver endpoints: sign in with POST "
                "/api/v1/driver/tokens/ for a driver token."
            )
        token = (
            DriverToken.objects.select_related("driver__user")
            .filter(token_hash=hash_key(raw))
            .first()
        )
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This driver token is unknown or revoked.")
        if not token.driver.user.is_active:
            raise exceptions.AuthenticationFailed("This driver's account is deactivated.")
        now = clock.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            DriverToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.driver.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="mallrun-driver"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: `Authorization: Bearer mr_live_…` (or `mr_test_…`).",
        }


class DriverTokenScheme(OpenApiAuthenticationExtension):
    target_class = DriverTokenAuthentication
    name = "DriverToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A driver token from `POST /api/v1/driver/tokens/`: "
            "`Authorization: Bearer mrd_…` (driver endpoints only).",
        }
