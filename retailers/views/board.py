"""The live order board, one order's page (accept, reject, pick, ready, hand-over, return)
and the printable pick list."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from orders import services as order_services
from orders.board_cache import cached_page, shared_render
from orders.models import Order, OrderLine
from retailers import clock
from retailers.forms import (
    AcceptForm,
    HandoverForm,
    ReadyForm,
    RejectForm,
    UnavailableForm,
)
from retailers.selectors import board_orders, membership_for, memberships_of, store_order
from retailers.views.common import Access, actor, nav_context, staff_view

S = Order.Status


def _annotate(order: Order, store, now: dt.datetime) -> Order:
    """Minutes since placed and to the promise, and whether the order is late, for display."""
    order.age_minutes = int((now - order.placed_at).total_seconds() // 60)
    order.left_minutes = int((order.promised_by - now).total_seconds() // 60)
    if order.status == S.PLACED:
        order.is_late = order.age_minutes >= store.acceptance_minutes or order.left_minutes < 0
    elif order.status in (S.ACCEPTED, S.READY):
        order.is_late = order.left_minutes < 0 or bool(order.ready_by and order.ready_by < now)
    else:
        order.is_late = False
    return order


def _columns_context(store) -> dict:
    now = clock.now()
    local = store.mall.local(now)
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    orders = [_annotate(o, store, now) for o in board_orders(store, since=start_of_day)]
    columns = [
        ("new", "New", [o for o in orders if o.status == S.PLACED]),
        ("accepted", "Accepted", [o for o in orders if o.status == S.ACCEPTED]),
        ("ready", "Ready", [o for o in orders if o.status == S.READY]),
        (
            "handed",
            "Handed over today",
            [o for o in orders if o.picked_up_at and o.status != S.DELIVERY_FAILED][::-1],
        ),
    ]
    returns = [o for o in orders if o.status == S.DELIVERY_FAILED]
    return {
        "store": store,
        "columns": columns,
        "returns": returns,
        "now": now,
        "poll_url": reverse("store:board", args=[store.slug]),
        "poll_seconds": getattr(settings, "MALLRUN_BOARD_POLL_SECONDS", 10),
        # Order links are this prefix + number + "/" (one reverse() instead of one per card).
        "order_base": reverse("store:order", args=[store.slug, "0"])[:-2],
    }


def _columns_html(request, store) -> str:
    """The board's columns: the same for all the store's staff, so shared between their
    screens for a few seconds and re-rendered as soon as an order changes."""

    def render(csrf_token: str) -> str:
        context = {**_columns_context(store), "csrf_token": csrf_token}
        return render_to_string("retailers/board.html#columns", context)

    return shared_render(
        request,
        kind="store",
        pk=store.pk,
        stamp=(store.paused_until, store.prep_minutes, store.acceptance_minutes),
        render=render,
    )


@login_required
@vary_on_headers("HX-Request")
def home(request):
    """Store staff's landing page: the board of their store (members of several pick one)."""
    memberships = tuple(memberships_of(request.user))
    if not memberships:
        raise Http404("You are not a member of any store.")
    wanted = request.GET.get("store")
    membership = membership_for(request.user, wanted, memberships) if wanted else memberships[0]
    if membership is None:
        raise Http404("No such store.")
    request.access = Access(store=membership.store, membership=membership, memberships=memberships)
    return _render_board(request, membership.store)


@staff_view(polled=True)
@vary_on_headers("HX-Request")
def board(request, store):
    return _render_board(request, store)


def _render_board(request, store):
    columns = _columns_html(request, store)
    if request.htmx:
        return HttpResponse(columns)
    access = request.access
    # The page around the columns shows the person, their stores and role: kept per person
    # and store under what it shows (orders/board_cache.py), the columns put in per response.
    stamp = (
        request.user.get_username(),
        tuple(
            (m.pk, m.role, m.store.pk, m.store.slug, m.store.name, m.store.location_in_mall)
            + (m.store.mall.name,)
            for m in access.memberships
        ),
        access.membership.pk,
    )
    return cached_page(
        request,
        "retailers/board.html",
        {**nav_context(request, store, "board"), "stores": access.stores},
        key=f"page:store-board:{request.user.pk}:{store.pk}",
        stamp=stamp,
        seconds=settings.MALLRUN_BOARD_CACHE_SECONDS,
        holes={"columns_html": columns},
    )


# --- One order ------------------------------------------------------------------------------


def _order_or_404(store, number) -> Order:
    order = store_order(store, number)
    if order is None:
        raise Http404("No such order.")
    return order


def _detail(request, store, order, status=200, **forms):
    now = clock.now()
    _annotate(order, store, now)
    lines = list(order.lines.all())
    context = {
        **nav_context(request, store, "board"),
        "order": order,
        "lines": lines,
        "all_picked": all(ln.picked_at for ln in lines),
        "events": order.events.select_related("actor_user").all(),
        "accept_form": forms.get("accept_form")
        or AcceptForm(initial={"prep_minutes": store.prep_minutes}),
        "reject_form": forms.get("reject_form") or RejectForm(),
        "ready_form": forms.get("ready_form") or ReadyForm(initial={"bags": order.bags}),
        "handover_form": forms.get("handover_form") or HandoverForm(),
        "error": forms.get("error", ""),
    }
    return render(request, "retailers/order.html", context, status=status)


def _back(store, order):
    return redirect("store:order", store.slug, order.number)


@staff_view()
def order_detail(request, store, number):
    return _detail(request, store, _order_or_404(store, number))


@staff_view()
def pick_list(request, store, number):
    order = _order_or_404(store, number)
    lines = sorted(order.lines.all(), key=lambda ln: (ln.product.category, ln.title))
    return render(
        request,
        "retailers/pick_list.html",
        {**nav_context(request, store, "board"), "order": order, "lines": lines},
    )


def _attempt(request, store, order, call, *, form_name: str, form, field: str | None, done: str):
    """Call a service; a refusal is shown next to the field (or on top) and nothing changes."""
    try:
        call()
    except order_services.OrderError as exc:
        if field and not isinstance(exc, order_services.InvalidTransition):
            form.add_error(field, str(exc))
            return _detail(
                request, store, _order_or_404(store, order.number), 400, **{form_name: form}
            )
        return _detail(request, store, _order_or_404(store, order.number), 409, error=str(exc))
    messages.success(request, done)
    return _back(store, order)


@require_POST
@staff_view()
def order_accept(request, store, number):
    order = _order_or_404(store, number)
    form = AcceptForm(request.POST)
    if not form.is_valid():
        return _detail(request, store, order, 400, accept_form=form)
    return _attempt(
        request,
        store,
        order,
        lambda: order_services.order_accept(
            order=order, actor=actor(request), prep_minutes=form.cleaned_data["prep_minutes"]
        ),
        form_name="accept_form",
        form=form,
        field="prep_minutes",
        done=f"Accepted {order.number}: ready in {form.cleaned_data['prep_minutes']} min.",
    )


@require_POST
@staff_view()
def order_reject(request, store, number):
    order = _order_or_404(store, number)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, store, order, 400, reject_form=form)
    return _attempt(
        request,
        store,
        order,
        lambda: order_services.order_reject(
            order=order, actor=actor(request), reason=form.reason_text()
        ),
        form_name="reject_form",
        form=form,
        field=None,
        done=f"Rejected {order.number}; the shopper is told.",
    )


@require_POST
@staff_view()
def order_ready(request, store, number):
    order = _order_or_404(store, number)
    form = ReadyForm(request.POST)
    if not form.is_valid():
        return _detail(request, store, order, 400, ready_form=form)
    return _attempt(
        request,
        store,
        order,
        lambda: order_services.order_mark_ready(
            order=order, actor=actor(request), bags=form.cleaned_data["bags"]
        ),
        form_name="ready_form",
        form=form,
        field="bags",
        done=f"{order.number} is ready for the driver.",
    )


@require_POST
@staff_view()
def order_handover(request, store, number):
    order = _order_or_404(store, number)
    form = HandoverForm(request.POST)
    if not form.is_valid():
        return _detail(request, store, order, 400, handover_form=form)
    return _attempt(
        request,
        store,
        order,
        lambda: order_services.order_pick_up(
            order=order, actor=actor(request), handover_code=form.cleaned_data["code"]
        ),
        form_name="handover_form",
        form=form,
        field="code",
        done=f"{order.number} handed over to the driver.",
    )


@require_POST
@staff_view()
def order_return(request, store, number):
    order = _order_or_404(store, number)
    return _attempt(
        request,
        store,
        order,
        lambda: order_services.order_return(
            order=order, actor=actor(request), note="Received back at the store"
        ),
        form_name="",
        form=None,
        field=None,
        done=f"{order.number} received back; its items are on the shelf again.",
    )


def _line(store, number, line_id) -> OrderLine:
    return get_object_or_404(
        OrderLine.objects.select_related("order", "product"),
        pk=line_id,
        order__number=number,
        order__store=store,
    )


@require_POST
@staff_view()
@vary_on_headers("HX-Request")
def order_line_pick(request, store, number, line_id):
    line = _line(store, number, line_id)
    picked = request.POST.get("picked") == "1"
    try:
        line = order_services.order_line_pick(line=line, actor=actor(request), picked=picked)
    except order_services.OrderError as exc:
        if request.htmx:
            line.error = str(exc)
            return render(
                request,
                "retailers/order.html#line",
                {"line": line, "order": line.order, "store": store},
                status=409,
            )
        messages.error(request, str(exc))
        return _back(store, line.order)
    if request.htmx:
        line = OrderLine.objects.select_related("product", "order").get(pk=line.pk)
        return render(
            request,
            "retailers/order.html#line",
            {"line": line, "order": line.order, "store": store},
        )
    return _back(store, line.order)


@require_POST
@staff_view()
def order_line_unavailable(request, store, number, line_id):
    line = _line(store, number, line_id)
    form = UnavailableForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter how many you found (0 or more).")
        return _back(store, line.order)
    try:
        order = order_services.order_line_unavailable(
            line=line, actor=actor(request), available=form.cleaned_data["available"]
        )
    except order_services.OrderError as exc:
        messages.error(request, str(exc))
        return _back(store, line.order)
    if order.status == S.REJECTED:
        messages.warning(request, f"Nothing was left of {order.number}: it was rejected.")
    else:
        messages.success(
            request, f"{order.number} adjusted; the shopper is told. New total shown below."
        )
    return _back(store, order)
