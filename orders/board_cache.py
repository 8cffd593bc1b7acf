"""Shared renders of the polled boards: a store's order board and a mall's ops board.

Every open board polls every few seconds, and every member of a store's staff (every ops
person watching a mall) sees the same board. So one render is shared for up to
`MALLRUN_BOARD_CACHE_SECONDS` and dropped as soon as one of the board's orders changes: the
order services bump the store's and the mall's board version when an order event commits, and
ops interventions bump the ops boards. What a person just did shows at once; what happened
elsewhere (a driver moving along a route, a block booked) shows within those seconds.

Forms in a shared render carry a placeholder where the CSRF token goes; each response puts
the viewer's own token there.

Renders live in the shared cache and, for the same seconds, in this process's memory
(`_recent`): a poll then costs one read of the version counters and no cache round trip. The
version check comes first either way, so a change is never served stale from memory.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable

from django import shortcuts
from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

from orders.counters import bump_counters, read_counters


def _placeholder(name: str) -> str:
    """A marker where each response puts its viewer's own value. Derived from the secret key:
    the same in every process (renders are shared through the cache) and never sent to a
    browser, so a product title or a recipient's name can't carry it on purpose to have a
    viewer's token or nonce written into them."""
    digest = salted_hmac("mallrun.board_cache.placeholder", name, algorithm="sha256")
    return f"mallrun-{name}-{digest.hexdigest()[:24]}"


CSRF_PLACEHOLDER = _placeholder("csrf")

# key -> (stamp, html, rendered_at): the newest renders this process has used, a few hundred.
_recent: OrderedDict[str, tuple[tuple, str, float]] = OrderedDict()
RECENT_MAX = 256


def viewer_token(request) -> str:
    """The viewer's CSRF token for this response, masked once: Django masks it afresh on
    every `get_token` call (32 random draws), and a kept page puts it in two or three places
    (any masked form of the token is valid)."""
    token = getattr(request, "_mallrun_csrf_token", None)
    if token is None:
        token = request._mallrun_csrf_token = get_token(request)
    return token


def _remember(key: str, entry: tuple[tuple, str, float]) -> None:
    _recent[key] = entry
    _recent.move_to_end(key)
    while len(_recent) > RECENT_MAX:
        _recent.popitem(last=False)


def _fresh(entry: tuple | None, stamp: tuple, now: float, seconds: float) -> bool:
    """A kept (stamp, html, rendered_at) is for this stamp and young enough."""
    return entry is not None and entry[0] == stamp and now - entry[2] < seconds


def cached_render(
    key: str, *, stamp: tuple, seconds: float, render: Callable[[], str], shared: bool = True
) -> str:
    """`render()` for this stamp, shared for `seconds`: from this process's memory, else the
    shared cache, else rendered now (and put in both). With `shared=False` only this
    process's own cache of fragments keeps it (for renders too many and too personal to be
    worth a round trip to the shared cache, such as a visitor's listing frame)."""
    now = time.time()
    if not shared:
        local = caches["local"]
        entry = local.get(key)
        if not _fresh(entry, stamp, now, seconds):
            entry = (stamp, render(), now)
            local.set(key, entry, seconds)
        return entry[1]
    entry = _recent.get(key)
    if _fresh(entry, stamp, now, seconds):
        return entry[1]
    entry = cache.get(key)
    if not _fresh(entry, stamp, now, seconds):
        entry = (stamp, render(), now)
        cache.set(key, entry, seconds)
    _remember(key, entry)
    return entry[1]


def _version_key(kind: str, pk: int) -> str:
    return f"board-version:{kind}:{pk}"


def bump(*boards: tuple[str, int]) -> None:
    # Counter rows, not cache entries: one statement on any database (the database cache's
    # incr costs five per key), and never evicted by other keys.
    bump_counters(
        {_version_key(kind, pk): 1 for kind, pk in boards},
        expires_at=timezone.now() + dt.timedelta(days=365),
    )


def orders_changed(*, store_id: int, mall_id: int) -> None:
    """An order of this store changed: its store board and its mall's ops board are stale."""
    if settings.MALLRUN_BOARD_CACHE_SECONDS > 0:
        bump(("store", store_id), ("mall", mall_id))


def ops_changed() -> None:
    """An ops intervention: every ops board is stale (they are few, interventions rare)."""
    if settings.MALLRUN_BOARD_CACHE_SECONDS > 0:
        bump(("ops", 0))


def shared_render(
    request, *, kind: str, pk: int, stamp: tuple, render: Callable[[str], str]
) -> SafeString:
    """The board's HTML: `render(csrf_token)` at most once per version and time window.

    `stamp` holds whatever else the render depends on (a paused-until time, a setting)."""
    seconds = settings.MALLRUN_BOARD_CACHE_SECONDS
    if seconds <= 0:
        return mark_safe(render(viewer_token(request)))
    mine, everyone = _version_key(kind, pk), _version_key("ops", 0)
    versions = read_counters([mine, everyone])
    full_stamp = (versions.get(mine, 0), versions.get(everyone, 0), *stamp)
    html = cached_render(
        f"board-html:{kind}:{pk}",
        stamp=full_stamp,
        seconds=seconds,
        render=lambda: render(CSRF_PLACEHOLDER),
    )
    return mark_safe(html.replace(CSRF_PLACEHOLDER, viewer_token(request)))


NONCE_PLACEHOLDER = _placeholder("nonce")


def _hole(name: str) -> str:
    return f"<!--mallrun-hole:{name}-->"


def _has_messages(request) -> bool:
    """Messages waiting for this person (a page showing them is never shared or kept)."""
    storage = getattr(request, "_messages", None)
    if storage is None:
        return False
    return bool(storage._queued_messages or storage._loaded_messages)


def cached_page(
    request,
    template: str,
    context: dict,
    *,
    key: str,
    stamp: tuple,
    seconds: float,
    holes: dict[str, str],
    shared: bool = True,
) -> HttpResponse:
    """A whole page whose frame (header, navigation, headings) is the same on every visit,
    rendered once per `stamp` and kept like the live parts above; each response puts in the
    viewer's own CSRF token and CSP nonce and the `holes` (name → HTML: the live part, itself
    shared). `stamp` must hold everything the frame shows about the person and the page.
    A page with messages to show is rendered as usual (and marks them shown)."""
    if seconds <= 0 or _has_messages(request):
        return shortcuts.render(request, template, {**context, **holes})

    def render_frame() -> str:
        frame_context = {
            **context,
            "csrf_token": CSRF_PLACEHOLDER,
            "csp_nonce": NONCE_PLACEHOLDER,
            **{name: mark_safe(_hole(name)) for name in holes},
        }
        return render_to_string(template, frame_context, request)

    html = cached_render(key, stamp=stamp, seconds=seconds, render=render_frame, shared=shared)
    for name, value in holes.items():
        html = html.replace(_hole(name), value, 1)
    html = html.replace(CSRF_PLACEHOLDER, viewer_token(request))
    if NONCE_PLACEHOLDER in html:
        html = html.replace(NONCE_PLACEHOLDER, str(get_nonce(request)))
    return HttpResponse(html)
