"""`Idempotency-Key` for every API POST that creates something.

The key row is committed *before* the work starts (response_status empty = in flight), so:
- same key, same body, finished → the first response is replayed (status and body);
- same key, different body → 422;
- same key while the first is still running → 409 (the client retries later);
- a 5xx or crash frees the key so a retry can run again. Keys are kept 24 hours.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework import exceptions
from rest_framework.response import Response

from orders.api.errors import Conflict, Unprocessable
from orders.models import IdempotencyKey
from retailers import clock

KEEP_FOR = dt.timedelta(hours=24)
HEADER = "Idempotency-Key"


def idempotency_purge(now: dt.datetime | None = None) -> int:
    """Forget keys older than 24 hours (run periodically)."""
    cutoff = (now or clock.now()) - KEEP_FOR
    return IdempotencyKey.objects.filter(scope__startswith="api:", created_at__lt=cutoff).delete()[
        0
    ]


def _claim(scope: str, key: str, fingerprint: str) -> tuple[IdempotencyKey | None, bool]:
    """Commit the key as in flight: (the new row, True) when this request is the first
    within 24 hours, else (the row found, or None if it was just freed, False). A key older
    than 24 hours is forgotten and claimed afresh (looked at only when the insert collides,
    so a new key costs one statement)."""
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint
                ), True
        except IntegrityError:
            pass
        expired = IdempotencyKey.objects.filter(
            scope=scope, key=key, created_at__lt=clock.now() - KEEP_FOR
        ).delete()[0]
        if not expired:
            break
    return IdempotencyKey.objects.filter(scope=scope, key=key).first(), False


def idempotent(method):
    """Wrap an APIView's post(): the API key plus the path is the key's scope."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return method(self, request, *args, **kwargs)
        if len(key) > 255:
            raise exceptions.ValidationError({HEADER: ["At most 255 characters."]})
        path_hash = hashlib.sha256(request.path.encode()).hexdigest()[:16]
        scope = f"api:{request.auth.pk}:{path_hash}"
        fingerprint = hashlib.sha256(
            json.dumps(
                [request.method, request.path, request.data], sort_keys=True, default=str
            ).encode()
        ).hexdigest()
        record, first = _claim(scope, key, fingerprint)
        if not first:
            if record is None:  # freed meanwhile by a failed first attempt
                raise Conflict("A request with this Idempotency-Key just failed; retry.")
            if record.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused",
                )
            if record.response_status is None:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed.",
                    code="idempotency_in_flight",
                )
            return Response(
                record.response_body,
                status=record.response_status,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            response = method(self, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - rendered below like any API error
            try:
                response = self.handle_exception(exc)
            except Exception:
                record.delete()
                raise
        if response.status_code >= 500:
            record.delete()
            return response
        IdempotencyKey.objects.filter(pk=record.pk).update(
            response_status=response.status_code,
            response_body=json.loads(json.dumps(response.data, default=str)),
        )
        return response

    return wrapper
