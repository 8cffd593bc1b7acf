"""Shared renders of the polled boards: a store's order board and a mall's ops board.

Every open board polls every few seconds, and every member of a store's staff (every ops
person watching a mall) sees the same board. So one render is shared for up to
`MALLRUN_BOARD_CACHE_SECONDS` and dropped as soon as one of the board's orders changes: the
order services bump the store's and the mall's board version when an order event commits, and
ops interventions bump the ops boards. What a person just did shows at once; what happened
elsewhere (a driver moving along a route, a block booked) shows within those seconds.

Forms in a shared render carry a placeholder where the CSRF token goes; each response puts
the viewer's own token there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from orders.counters import bump_counter, read_counters

CSRF_PLACEHOLDER = "mallrun-csrf-placeholder-4f1c"


def _version_key(kind: str, pk: int) -> str:
    return f"board-version:{kind}:{pk}"


def bump(kind: str, pk: int) -> None:
    # A counter row, not a cache entry: one statement on any database (the database cache's
    # incr costs five), and never evicted by other keys.
    bump_counter(_version_key(kind, pk), expires_at=timezone.now() + dt.timedelta(days=365))


def orders_changed(*, store_id: int, mall_id: int) -> None:
    """An order of this store changed: its store board and its mall's ops board are stale."""
    if settings.MALLRUN_BOARD_CACHE_SECONDS > 0:
        bump("store", store_id)
        bump("mall", mall_id)


def ops_changed() -> None:
    """An ops intervention: every ops board is stale (they are few, interventions rare)."""
    if settings.MALLRUN_BOARD_CACHE_SECONDS > 0:
        bump("ops", 0)


def shared_render(
    request, *, kind: str, pk: int, stamp: tuple, render: Callable[[str], str]
) -> SafeString:
    """The board's HTML: `render(csrf_token)` at most once per version and time window.

    `stamp` holds whatever else the render depends on (a paused-until time, a setting)."""
    seconds = settings.MALLRUN_BOARD_CACHE_SECONDS
    if seconds <= 0:
        return mark_safe(render(get_token(request)))
    mine, everyone = _version_key(kind, pk), _version_key("ops", 0)
    versions = read_counters([mine, everyone])
    full_stamp = (versions.get(mine, 0), versions.get(everyone, 0), *stamp)
    html_key = f"board-html:{kind}:{pk}"
    entry = cache.get(html_key)
    if entry is not None and entry[0] == full_stamp:
        html = entry[1]
    else:
        html = render(CSRF_PLACEHOLDER)
        cache.set(html_key, (full_stamp, html), seconds)
    return mark_safe(html.replace(CSRF_PLACEHOLDER, get_token(request)))
