"""One error shape for the whole API: RFC 9457 problem details (application/problem+json).

    {"type": "https://mallrun.dev/problems/validation", "title": "...", "status": 400,
     "detail": "...", "instance": "/api/v1/orders/", "errors": [{"field": "...", "message": "..."}]}

Domain errors from the services are mapped here, so views just call services.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

PROBLEM_BASE = "https://mallrun.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request was understood but refused."
    default_code = "unprocessable"

    def __init__(self, detail=None, code=None, errors=None, extra=None):
        super().__init__(detail, code)
        self.errors = errors or []
        self.extra = extra or {}


TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
}


def _flatten(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error dict/list → [{field: "items.0.quantity", message: ...}]."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out += _flatten(value, f"{prefix}.{name}".strip(".") if name else prefix)
    elif isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            out += [{"field": prefix or None, "message": str(v)} for v in detail]
        else:
            for index, value in enumerate(detail):
                if value:
                    out += _flatten(value, f"{prefix}.{index}".strip("."))
    else:
        out.append({"field": prefix or None, "message": str(detail)})
    return out


def _domain(exc):
    """Map service errors to API exceptions."""
    from drivers.services import DriverError, RouteError
    from orders.services import CheckoutError, IdempotencyConflict, InvalidTransition, OrderError
    from retailers.geocoding import GeocodingError
    from retailers.services import StoreError

    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, CheckoutError):
        return Unprocessable(
            str(exc),
            code="checkout_refused",
            errors=[
                {"field": f"items.{e['line']}" if e.get("line") is not None else None, **e}
                for e in exc.errors
            ],
        )
    if isinstance(exc, (InvalidTransition, IdempotencyConflict)):
        return Conflict(str(exc), code="invalid_transition")
    if isinstance(exc, (OrderError, RouteError, DriverError, StoreError, GeocodingError)):
        return Unprocessable(str(exc), code="refused")
    return exc


def problem_exception_handler(exc, context):
    exc = _domain(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging
    code = response.status_code
    request = context.get("request")
    body = {
        "type": PROBLEM_BASE + (getattr(exc, "default_code", None) or "error"),
        "title": TITLES.get(code, "Error"),
        "status": code,
        "detail": "",
        "instance": request.path if request is not None else "",
    }
    if isinstance(exc, exceptions.ValidationError):
        body["type"] = PROBLEM_BASE + "validation"
        body["errors"] = _flatten(exc.detail)
        body["detail"] = "Some fields are invalid: " + "; ".join(
            f"{e['field']}: {e['message']}" if e["field"] else e["message"]
            for e in body["errors"][:5]
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        body["detail"] = str(detail) if not isinstance(detail, (dict, list)) else "See errors."
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, str):
            body["type"] = PROBLEM_BASE + codes
    if isinstance(exc, Unprocessable):
        if exc.errors:
            body["errors"] = exc.errors
        body.update(exc.extra)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
