"""Thin views of the ops board: check ops, parse the form, call a service, render."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from config.db_router import reads_from_replica
from drivers.models import Driver, Route
from drivers.services import DriverError, RouteError
from drivers.services import driver_review as driver_review_service
from orders.board_cache import cached_page, ops_changed, shared_render
from orders.models import Order
from orders.ops import selectors, services
from orders.ops.forms import (
    AuditFilterForm,
    BoostForm,
    PauseForm,
    ReasonForm,
    ReassignForm,
    ReviewForm,
)
from orders.permissions import Actor, is_ops
from orders.services import OrderError
from retailers import clock
from retailers.models import Mall, Store
from retailers.services import StoreError
from retailers.services import store_pause as store_pause_service
from retailers.services import store_resume as store_resume_service

DOMAIN_ERRORS = (OrderError, RouteError, DriverError, StoreError, PermissionDenied)


def ops_view(view):
    """Ops staff only. Everyone else (anonymous, shoppers, store staff, drivers) gets a 404:
    the board's addresses are nobody else's business. A poll from a lapsed session stops."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_ops(request.user):
            if getattr(request, "htmx", False):
                return HttpResponseStopPolling()
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _actor(request) -> Actor:
    return Actor.ops(request.user)


def _malls():
    """Real malls: the API sandbox's is never on the board (its orders are in admin)."""
    return list(Mall.objects.filter(is_active=True, is_sandbox=False).order_by("name"))


def _confirm(
    request, *, form, title, lede, back, act, done, template="ops/confirm.html", extra=None
):
    """The confirmation step of every intervention: GET shows what will happen and asks
    for a reason; POST with a valid form calls `act(form.cleaned_data)`. A refusal from the
    service is shown on the form, nothing changed."""
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data)
        except DOMAIN_ERRORS as exc:
            form.add_error(None, exc.args[0] if exc.args else str(exc))
        else:
            ops_changed()
            messages.success(request, done)
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": title, "lede": lede, "back": back, **(extra or {})}
    return render(request, template, context, status=status)


@ops_view
def home(request):
    malls = _malls()
    if not malls:
        return render(request, "ops/home.html", {"malls": malls})
    return redirect("ops:board", slug=malls[0].slug)


@ops_view
@vary_on_headers("HX-Request")
def board(request, slug):
    # One query for the mall and the switcher's list (this page is polled by every ops screen).
    malls = selectors.malls_for_board(slug)
    mall = next((m for m in malls if m.slug == slug), None)
    if mall is None:
        raise Http404("No such mall.")

    def render_live(csrf_token: str) -> str:
        context = {
            "board": selectors.board_for_mall(mall),
            "mall": mall,
            "poll_seconds": getattr(settings, "MALLRUN_OPS_POLL_SECONDS", 10),
            "csrf_token": csrf_token,
        }
        return render_to_string("ops/board.html#live", context)

    # The same for every ops screen on this mall: shared for a few seconds, re-rendered as
    # soon as an order of the mall changes or anyone intervenes (orders/board_cache.py).
    live = shared_render(request, kind="mall", pk=mall.pk, stamp=(), render=render_live)
    if request.htmx:
        return HttpResponse(live)
    listed = [m for m in malls if m.is_active]
    return cached_page(
        request,
        "ops/board.html",
        {"mall": mall, "malls": listed},
        key=f"page:ops-board:{request.user.pk}:{mall.pk}",
        stamp=(request.user.get_username(), mall.name, tuple((m.slug, m.name) for m in listed)),
        seconds=settings.MALLRUN_BOARD_CACHE_SECONDS,
        holes={"live_html": live},
    )


@ops_view
def order_cancel(request, number):
    order = get_object_or_404(Order.objects.select_related("store__mall"), number=number)
    form = ReasonForm(request.POST or None)
    return _confirm(
        request,
        form=form,
        title=f"Cancel order {order.number}?",
        lede=f"{order.store.name} · {order.get_status_display()} · for {order.recipient_name}. "
        "Stock is released and the order leaves its route. Refused once the driver has it.",
        back=reverse("ops:board", args=[order.store.mall.slug]),
        act=lambda d: services.ops_order_cancel(
            order=order, actor=_actor(request), reason=d["reason"]
        ),
        done=f"Order {order.number} cancelled.",
        extra={"submit": "Cancel the order", "danger": True},
    )


@ops_view
def route_reassign(request, pk):
    route = get_object_or_404(Route.objects.select_related("mall", "driver__user"), pk=pk)
    candidates = selectors.reassign_candidates(route)
    form = ReassignForm(request.POST or None, drivers=candidates)

    def act(data):
        driver = form.drivers.get(data["driver"])
        if driver is None:  # not offered on the form: not eligible now
            raise RouteError("That driver can't take a route now.")
        services.ops_route_reassign(
            route=route, driver=driver, actor=_actor(request), reason=data["reason"]
        )

    held = f" It is held by {route.driver}, who loses it." if route.driver_id else ""
    return _confirm(
        request,
        form=form,
        title=f"Reassign route {route.pk}?",
        lede=f"{route.get_status_display()}.{held} The chosen driver gets the offer now. "
        "Refused once anything was collected.",
        back=reverse("ops:board", args=[route.mall.slug]),
        act=act,
        done=f"Route {route.pk} offered to the chosen driver.",
        extra={"submit": "Reassign", "no_candidates": not candidates},
    )


@ops_view
def route_boost(request, pk):
    route = get_object_or_404(Route.objects.select_related("mall"), pk=pk)
    form = BoostForm(request.POST or None)
    return _confirm(
        request,
        form=form,
        title=f"Boost route {route.pk}?",
        lede=f"{route.get_status_display()} · pay now ${route.pay_cents / 100:.2f}. "
        "A boost pay line is added; open offers show the new pay.",
        back=reverse("ops:board", args=[route.mall.slug]),
        act=lambda d: services.ops_route_boost(
            route=route, actor=_actor(request), amount_cents=d["dollars"] * 100, reason=d["reason"]
        ),
        done=f"Route {route.pk} boosted.",
        extra={"submit": "Add the boost"},
    )


@ops_view
def redispatch(request, slug):
    mall = get_object_or_404(Mall, slug=slug, is_sandbox=False)
    form = ReasonForm(request.POST or None)
    return _confirm(
        request,
        form=form,
        title=f"Run dispatch at {mall.name} now?",
        lede="Pending orders are planned into routes and offered to drivers, in the task queue.",
        back=reverse("ops:board", args=[mall.slug]),
        act=lambda d: services.ops_mall_redispatch(
            mall=mall, actor=_actor(request), reason=d["reason"]
        ),
        done=f"Dispatch queued for {mall.name}.",
        extra={"submit": "Run dispatch"},
    )


@ops_view
def store_pause(request, pk):
    store = get_object_or_404(Store.objects.select_related("mall"), pk=pk)
    form = PauseForm(request.POST or None)
    return _confirm(
        request,
        form=form,
        title=f"Pause {store.name}?",
        lede="Shoppers and partners can't order from it until the pause ends.",
        back=reverse("ops:board", args=[store.mall.slug]),
        act=lambda d: store_pause_service(
            store=store,
            actor=_actor(request),
            until=clock.now() + dt.timedelta(minutes=d["minutes"]),
            reason=d["reason"],
        ),
        done=f"{store.name} is paused.",
        extra={"submit": "Pause the store", "danger": True},
    )


@ops_view
def store_resume(request, pk):
    store = get_object_or_404(Store.objects.select_related("mall"), pk=pk)
    form = ReasonForm(request.POST or None)
    return _confirm(
        request,
        form=form,
        title=f"Resume {store.name}?",
        lede=f"Paused: {store.pause_reason or 'no reason given'}. It takes orders again at once.",
        back=reverse("ops:board", args=[store.mall.slug]),
        act=lambda d: store_resume_service(store=store, actor=_actor(request), reason=d["reason"]),
        done=f"{store.name} takes orders again.",
        extra={"submit": "Resume"},
    )


@ops_view
def drivers(request):
    status = request.GET.get("status", Driver.Status.PENDING)
    rows = Driver.objects.select_related("user", "home_mall", "online_mall").order_by("created_at")
    if status in Driver.Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "ops/drivers.html",
        {"drivers": rows[:200], "status": status, "statuses": Driver.Status.choices},
    )


@ops_view
def driver_review(request, pk):
    driver = get_object_or_404(Driver.objects.select_related("user"), pk=pk)
    form = ReviewForm(request.POST or None, initial={"status": request.GET.get("status")})
    return _confirm(
        request,
        form=form,
        title=f"Review {driver}",
        lede=f"Now: {driver.get_status_display()}. Suspending ends their online state, pulls "
        "back their open offers and takes back a route they hold with nothing collected.",
        back=reverse("ops:drivers"),
        act=lambda d: driver_review_service(
            driver=driver, actor=_actor(request), status=d["status"], reason=d["reason"]
        ),
        done=f"{driver}: decision saved.",
        extra={"submit": "Save the decision"},
    )


@ops_view
@reads_from_replica
@vary_on_headers("HX-Request")
def audit(request):
    malls = _malls()
    form = AuditFilterForm(request.GET or None, malls=malls)
    rows = []
    if form.is_bound and not form.is_valid():
        rows = []
    else:
        data = form.cleaned_data if form.is_bound else {}
        rows = selectors.audit_trail(
            q=data.get("q", ""),
            source=data.get("source", ""),
            actor_kind=data.get("actor_kind", ""),
            mall=form.malls.get(data.get("mall") or ""),
            day=data.get("day"),
        )
    by_id = {m.pk: m for m in malls}
    for r in rows:  # shown in the mall's own time when the change belongs to one
        mall = by_id.get(r.mall_id)
        local = mall.local(r.at) if mall else r.at
        r.when = f"{local:%b %-d, %-I:%M %p} {local.tzname()}"
    context = {"form": form, "rows": rows, "sources": selectors.AUDIT_SOURCES}
    if request.htmx:
        return render(request, "ops/audit.html#results", context)
    return render(request, "ops/audit.html", context)


@ops_view
@reads_from_replica
def metrics(request, slug):
    mall = get_object_or_404(Mall, slug=slug, is_sandbox=False)
    try:
        days = max(1, min(31, int(request.GET.get("days", 7))))
    except ValueError:
        days = 7
    rows = selectors.mall_metrics(mall, days=days)
    peak = max([r.orders for r in rows] + [1])
    for i, r in enumerate(rows):
        r.bar = round(220 * r.orders / peak)
        r.bar_ok = round(220 * r.on_time / peak)
        r.y, r.label_y = i * 24, i * 24 + 13
    return render(
        request,
        "ops/metrics.html",
        {
            "mall": mall,
            "malls": _malls(),
            "rows": rows,
            "today": rows[-1],
            "days": days,
            "chart_height": len(rows) * 24,
        },
    )
