"""What the schema shows: one realistic body per shape, and the problem bodies each operation
can answer with. Views document an operation with `ok(...)` (the success response and its
example), `problems(...)` (its error responses) and `body(...)` (a request example).

Every example is checked against its schema by tests/api/test_schema_examples.py.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from orders.api import serializers as s
from orders.api.auth import DRIVER_REFUSALS, sandbox_store_refusal
from orders.api.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, TITLES

# --- Success bodies -----------------------------------------------------------------------

AT = "2026-11-25T19:00:00Z"
STORE = {"id": 3, "slug": "sephora-fashion-show", "name": "Sephora", "mall": "Fashion Show"}

ORDER = {
    "id": "MR-C4X7QPA",
    "external_id": "mkt-10042",
    "status": "accepted",
    "status_reason": "",
    "store": STORE,
    "lines": [
        {
            "id": 11,
            "product_id": 7,
            "sku": "LG-1",
            "title": "Lip Gloss",
            "quantity": 2,
            "unit_price_cents": 1800,
        }
    ],
    "subtotal_cents": 3600,
    "fee_cents": 599,
    "tip_cents": 0,
    "total_cents": 4199,
    "bags": 1,
    "placed_at": AT,
    "eta": "2026-11-25T19:55:00Z",
    "ready_by": "2026-11-25T19:15:00Z",
    "ready_at": None,
    "picked_up_at": None,
    "delivered_at": None,
    "tracking_url": "https://mallrun.example/track/6f1c1f7e-8a51-4a4e-9d7e-0c6f3f8b9a10/",
    "test_mode": False,
    "events": [
        {
            "sequence": 1,
            "from_status": "",
            "to_status": "placed",
            "note": "",
            "actor": "API key mr_live_abcd…",
            "created_at": AT,
        },
        {
            "sequence": 2,
            "from_status": "placed",
            "to_status": "accepted",
            "note": "Ready in about 15 min",
            "actor": "store1",
            "created_at": "2026-11-25T19:01:00Z",
        },
    ],
    "proof_of_delivery": None,
}
PLACED_ORDER = {
    **ORDER,
    "status": "placed",
    "events": ORDER["events"][:1],
}

# The sandbox (test-mode keys): its own mall and stores, never a real store.
SANDBOX_STORE = {
    "id": 41,
    "slug": "sandbox-outfitters",
    "name": "Sandbox Outfitters",
    "mall": "Mallrun Sandbox",
}
SANDBOX_ORDER = {
    **ORDER,
    "id": "MR-T8S2KBX",
    "external_id": "sbx-1",
    "store": SANDBOX_STORE,
    "lines": [
        {
            "id": 12,
            "product_id": 903,
            "sku": "SBX-MUG",
            "title": "Sandbox Mug",
            "quantity": 2,
            "unit_price_cents": 1200,
        }
    ],
    "subtotal_cents": 2400,
    "total_cents": 2999,
    "tracking_url": "https://mallrun.example/track/0b5e2c8e-41f4-4c6e-9a3d-7f2b8c1d9e42/",
    "test_mode": True,
    "events": [
        {**ORDER["events"][0], "actor": "API key mr_test_wxyz…"},
        {**ORDER["events"][1], "note": "", "actor": "Sandbox"},
    ],
}


def store_not_found(at: str) -> list[tuple[str, dict]]:
    """The 404s of an operation naming a store: unknown (or another retailer's, or a
    sandbox store with a live key), and a real store with a test-mode key."""
    return [
        ("No such store", problem(404, "No Store matches the given query.", at=at)),
        ("Test-mode key, a real store", problem(404, sandbox_store_refusal(), at=at)),
    ]


QUOTE = {
    "id": "6f1c1f7e-8a51-4a4e-9d7e-0c6f3f8b9a10",
    "store": STORE,
    "eligible": True,
    "reasons": [],
    "fee_cents": 599,
    "distance_km": 2.4,
    "ready_by": "2026-11-25T19:15:00Z",
    "promised_by": "2026-11-25T19:55:00Z",
    "items": [[7, 2]],
    "created_at": AT,
    "expires_at": "2026-11-25T19:15:00Z",
}

AVAILABILITY = {
    "store": STORE,
    "product": {
        "id": 7,
        "sku": "LG-1",
        "title": "Lip Gloss",
        "category": "Makeup",
        "price_cents": 1800,
    },
    "available": 12,
    "promise": {
        "eligible": True,
        "fee_cents": 599,
        "promised_by": "2026-11-25T19:55:00Z",
        "reasons": [],
    },
}

INVENTORY = {"created": 1, "updated": 1, "unchanged": 0}

PICKUP = {
    "id": 41,
    "sequence": 1,
    "kind": "pickup",
    "status": "pending",
    "store": "Sephora",
    "order": "MR-C4X7QPA",
    "address": None,
    "planned_arrival": "2026-11-25T19:20:00Z",
}
DROPOFF = {
    "id": 42,
    "sequence": 2,
    "kind": "dropoff",
    "status": "pending",
    "store": None,
    "order": "MR-C4X7QPA",
    "address": "1 Main St, Las Vegas, NV 89109",
    "planned_arrival": "2026-11-25T19:50:00Z",
}
ROUTE = {
    "id": 12,
    "status": "accepted",
    "mall": "Fashion Show",
    "handover_code": "482915",
    "planned_km": 7.4,
    "planned_minutes": 38,
    "stops": [PICKUP, DROPOFF],
}
OFFER = {
    "id": 30,
    "status": "pending",
    "pay_cents": 1150,
    "expires_at": "2026-11-25T19:17:00Z",
    "route": {**ROUTE, "status": "offered"},
}

WEBHOOK_ENDPOINT = {
    "id": 5,
    "url": "https://acme.example/hooks/mallrun",
    "events": ["order.accepted", "order.delivered"],
    "is_active": True,
    "disabled_reason": "",
    "test_mode": False,
    "created_at": AT,
}
WEBHOOK_ENDPOINT_CREATED = {
    **WEBHOOK_ENDPOINT,
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
WEBHOOK_DELIVERY = {
    "id": 88,
    "message_id": "msg_2b7e0c1f9d3a4e5f8a6b7c8d9e0f1a2b",
    "endpoint_id": 5,
    "event_type": "order.accepted",
    "order": "MR-C4X7QPA",
    "sequence": 2,
    "status": "succeeded",
    "attempts": 1,
    "next_attempt_at": None,
    "created_at": "2026-11-25T19:01:00Z",
    "delivered_at": "2026-11-25T19:01:01Z",
    "log": [
        {
            "at": "2026-11-25T19:01:01Z",
            "status_code": 200,
            "duration_ms": 184,
            "response_excerpt": "ok",
            "error": "",
        }
    ],
}
WEBHOOK_TEST_QUEUED = {
    **WEBHOOK_DELIVERY,
    "id": 89,
    "message_id": "msg_9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "event_type": "webhook.test",
    "order": None,
    "sequence": 0,
    "status": "pending",
    "attempts": 0,
    "next_attempt_at": AT,
    "created_at": AT,
    "delivered_at": None,
    "log": [],
}

DRIVER_TOKEN = {
    "prefix": "mrd_Xq3vT9aB",
    "name": "Pixel 8",
    "driver": "dan-driver",
    "created_at": AT,
    "last_used_at": None,
    "revoked_at": None,
}
DRIVER_TOKEN_CREATED = {
    **DRIVER_TOKEN,
    "token": "mrd_Xq3vT9aBk2LmN8pQr4StUv6WxYz0A1bC3dE5fG7hJ9k",
}


def ok(status: int, serializer, summary: str, value, *more: tuple[str, object]) -> dict:
    """The success response with its example(s): `value`, then any (summary, value) pairs.
    A list serializer takes one item as the example; the schema wraps it in the list (and
    the page, for paginated lists)."""
    examples = [OpenApiExample(summary, value=value)]
    examples += [OpenApiExample(name, value=other) for name, other in more]
    return {status: OpenApiResponse(serializer, examples=examples)}


def body(summary: str, value: dict, *, media_type: str | None = None) -> OpenApiExample:
    """A request example (JSON unless a media type is named)."""
    return OpenApiExample(summary, value=value, request_only=True, media_type=media_type)


# --- Problem bodies -----------------------------------------------------------------------

# Who is calling decides what a 401 or 403 means.
KEY = "key"  # partner and retailer endpoints: an API key with scopes
DRIVER = "driver"  # driver endpoints: the web view's session or a driver token
SIGN_IN = "sign_in"  # POST driver/tokens/: a username and password
DRIVER_TOKEN_ONLY = "driver_token"  # DELETE driver/tokens/current/: the token itself

# code -> (description, the example's detail or [(summary, detail)], problem type)
_COMMON = {
    400: ("Invalid request: the fields in error are listed", "", "validation"),
    404: ("Not found, or not within the caller's reach", "Not found.", "not_found"),
    409: (
        "Conflict: the thing is in the wrong state, or the same Idempotency-Key is in flight",
        "Order MR-C4X7QPA is picked up; it can't be moved to cancelled.",
        "invalid_transition",
    ),
    422: (
        "Refused by a business rule, or an Idempotency-Key reused with another body",
        "This Idempotency-Key was already used with a different request body.",
        "idempotency_key_reused",
    ),
    429: (
        "Too many requests: wait Retry-After seconds",
        "Request was throttled. Expected available in 12 seconds.",
        "throttled",
    ),
}
_BY_CALLER = {
    KEY: {
        401: (
            "Missing, unknown or revoked API key",
            "This API key is unknown or revoked.",
            "authentication_failed",
        ),
        403: (
            "The API key lacks the scope this endpoint needs",
            "This API key lacks the scope {scope}.",
            "permission_denied",
        ),
    },
    DRIVER: {
        401: (
            "No session or driver token, or a token that is unknown or revoked (API keys too)",
            "This driver token is unknown or revoked.",
            "authentication_failed",
        ),
        403: (
            "Not a driver, or a suspended (or rejected) driver's token",
            [
                (
                    "Suspended driver's token",
                    DRIVER_REFUSALS["suspended"] + " Reason: Repeated late deliveries.",
                ),
                ("Signed in, not a driver", "Only a signed-in driver may use this endpoint."),
            ],
            "permission_denied",
        ),
    },
    SIGN_IN: {
        401: (
            "Wrong username or password",
            "Wrong username or password.",
            "authentication_failed",
        ),
        403: (
            "Right password, but not a driver, or a suspended or rejected driver",
            DRIVER_REFUSALS["suspended"] + " Reason: Repeated late deliveries.",
            "permission_denied",
        ),
        429: (
            "Too many requests, or too many wrong passwords for this username or address: "
            "wait Retry-After seconds",
            "Request was throttled. Expected available in 1740 seconds.",
            "throttled",
        ),
    },
    DRIVER_TOKEN_ONLY: {
        401: (
            "No driver token, or one that is unknown or already revoked",
            "This driver token is unknown or revoked.",
            "authentication_failed",
        ),
    },
}
_ALWAYS = {KEY: (401, 403, 429), DRIVER: (401, 403, 429), SIGN_IN: (401, 403, 429)}


def problem(status: int, detail: str, *, at: str, kind: str = "", **extra) -> dict:
    """A problem-details body as the API renders it (orders.api.errors)."""
    kind = kind or _COMMON.get(status, ("", "", "error"))[2]
    return {
        "type": PROBLEM_BASE + kind,
        "title": TITLES[status],
        "status": status,
        "detail": detail,
        "instance": at,
        **extra,
    }


def field_errors(at: str, *errors: tuple[str, str]) -> dict:
    """A 400 body listing (field, message) pairs, the way the handler flattens them."""
    listed = [{"field": field, "message": message} for field, message in errors]
    detail = "Some fields are invalid: " + "; ".join(f"{f}: {m}" for f, m in errors)
    return problem(400, detail, at=at, kind="validation", errors=listed)


def problems(
    *codes: int,
    at: str,
    caller: str = KEY,
    scope: str = "",
    say: dict[int, str | dict | list[tuple[str, dict]]] | None = None,
) -> dict:
    """The error responses of one operation, each with a problem example.

    Always 401 and 429 (and 403 except for the token-only revoke), plus `codes`. `at` is the
    example request path. `say` replaces a code's example: a detail string, a whole body
    (see `problem`, `field_errors`) or several `(summary, body)` pairs."""
    say = say or {}
    described = {**_COMMON, **_BY_CALLER[caller]}
    out = {}
    for code in dict.fromkeys((*_ALWAYS.get(caller, (401, 429)), *codes)):
        description, detail, kind = described[code]
        wanted = say.get(code)
        if isinstance(wanted, list):
            bodies = wanted
        elif isinstance(wanted, dict):
            bodies = [(TITLES[code], wanted)]
        elif code == 400 and wanted is None:
            bodies = [(TITLES[code], field_errors(at, ("reason", "This field is required.")))]
        else:
            texts = [(TITLES[code], wanted)] if wanted else detail
            if isinstance(texts, str):
                texts = [(TITLES[code], texts)]
            bodies = []
            for summary, text in texts:
                text = text.format(scope=scope)
                extra = {"retry_after": int(text.split()[-2])} if code == 429 else {}
                bodies.append((summary, problem(code, text, at=at, kind=kind, **extra)))
        out[(code, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
            s.Problem,
            description=description,
            examples=[OpenApiExample(summary, value=value) for summary, value in bodies],
        )
    return out
