"""The audit trail's writer: one row per change made by a person or an API key that no other
history row records (store settings and pauses, driver reviews, ops interventions, admin
edits of malls, stores and products, API keys and webhooks).

Call `audit_record` inside the transaction of the change it records, so a change that rolls
back leaves no entry. Before/after are small dicts of the fields that changed, JSON-safe.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models

from retailers import clock
from retailers.models import AuditEntry, Mall


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields) -> dict:
    """The named fields of a row, JSON-safe (foreign keys as ids)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = getattr(obj, field.attname)
    return _json_safe(out)


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    mall: Mall | int | None = None,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Write one audit entry. `actor` is an orders.permissions.Actor (kind, user, label)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    user = getattr(actor, "user", None)
    return AuditEntry.objects.create(
        actor_kind=str(actor.kind),
        actor_user=user if getattr(user, "pk", None) else None,
        actor_label=(actor.label or "")[:120],
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id or "")[:64],
        object_repr=object_repr[:200],
        mall_id=mall.pk if isinstance(mall, Mall) else mall,
        reason=(reason or "")[:300],
        before=_json_safe(before or {}),
        after=_json_safe(after or {}),
        created_at=clock.now(),
    )
