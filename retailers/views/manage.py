"""Manager pages: store settings (hours, closures, prep, acceptance window, pausing,
pickup instructions), staff, and reports."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from config.db_router import reads_from_replica
from retailers import clock, services
from retailers.forms import (
    WEEKDAYS,
    ClosureForm,
    DayHoursForm,
    PauseForm,
    ReportForm,
    RoleForm,
    SettingsForm,
    StaffAddForm,
)
from retailers.models import StoreClosure, StoreMembership
from retailers.selectors import store_report
from retailers.views.common import actor, nav_context, staff_view


def _day_forms(store, data=None):
    by_day = {h.weekday: h for h in store.hours.all()}
    forms = []
    for weekday, label in WEEKDAYS:
        h = by_day.get(weekday)
        initial = {"opens_at": h.opens_at, "closes_at": h.closes_at} if h else {"closed": True}
        form = DayHoursForm(data, prefix=f"d{weekday}", initial=initial)
        form.weekday, form.label = weekday, label
        forms.append(form)
    return forms


def _settings_page(request, store, status=200, **forms):
    context = {
        **nav_context(request, store, "settings"),
        "form": forms.get("form")
        or SettingsForm(
            initial={
                "prep_minutes": store.prep_minutes,
                "acceptance_minutes": store.acceptance_minutes,
                "pickup_instructions": store.pickup_instructions,
            }
        ),
        "day_forms": forms.get("day_forms") or _day_forms(store),
        "closure_form": forms.get("closure_form") or ClosureForm(),
        "pause_form": forms.get("pause_form") or PauseForm(),
        "closures": store.closures.filter(ends_on__gte=store.mall.local_now().date()),
        "paused": store.is_paused(),
    }
    return render(request, "retailers/settings.html", context, status=status)


@staff_view(manager=True)
def settings(request, store):
    if request.method != "POST":
        return _settings_page(request, store)
    form = SettingsForm(request.POST)
    day_forms = _day_forms(store, request.POST)
    days_valid = [f.is_valid() for f in day_forms]  # every day, so each shows its errors
    if not (form.is_valid() and all(days_valid)):
        return _settings_page(request, store, 400, form=form, day_forms=day_forms)
    hours = [
        services.DayHours(
            f.weekday,
            None if f.cleaned_data["closed"] else f.cleaned_data["opens_at"],
            None if f.cleaned_data["closed"] else f.cleaned_data["closes_at"],
        )
        for f in day_forms
    ]
    try:
        services.store_settings_update(
            store=store, actor=actor(request), hours=hours, **form.cleaned_data
        )
    except services.StoreError as exc:
        form.add_error(None, str(exc))
        return _settings_page(request, store, 400, form=form, day_forms=day_forms)
    messages.success(request, "Settings saved.")
    return redirect("store:settings", store.slug)


@require_POST
@staff_view(manager=True)
def pause(request, store):
    with timezone.override(store.mall.tz):  # "until" is typed in the mall's local time
        form = PauseForm(request.POST)
        valid = form.is_valid()
    if not valid:
        return _settings_page(request, store, 400, pause_form=form)
    data = form.cleaned_data
    until = data["until"] or clock.now() + dt.timedelta(minutes=int(data["duration"]))
    try:
        services.store_pause(store=store, actor=actor(request), until=until, reason=data["reason"])
    except services.StoreError as exc:
        form.add_error("until", str(exc))
        return _settings_page(request, store, 400, pause_form=form)
    messages.success(request, "Paused: shoppers can't order until you resume or the time passes.")
    return redirect("store:settings", store.slug)


@require_POST
@staff_view(manager=True)
def resume(request, store):
    services.store_resume(store=store, actor=actor(request))
    messages.success(request, "Taking orders again.")
    return redirect("store:settings", store.slug)


@require_POST
@staff_view(manager=True)
def closure_add(request, store):
    form = ClosureForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, store, 400, closure_form=form)
    services.store_closure_add(store=store, actor=actor(request), **form.cleaned_data)
    messages.success(request, "Closure added.")
    return redirect("store:settings", store.slug)


@require_POST
@staff_view(manager=True)
def closure_remove(request, store, pk):
    closure = get_object_or_404(StoreClosure, pk=pk, store=store)
    services.store_closure_remove(closure=closure, actor=actor(request))
    messages.success(request, "Closure removed.")
    return redirect("store:settings", store.slug)


# --- Staff -------------------------------------------------------------------------------


def _staff_page(request, store, status=200, add_form=None, error=""):
    members = store.memberships.select_related("user").order_by("-role", "user__email")
    return render(
        request,
        "retailers/staff.html",
        {
            **nav_context(request, store, "staff"),
            "members": members,
            "add_form": add_form or StaffAddForm(),
            "roles": StoreMembership.Role.choices,
            "error": error,
        },
        status=status,
    )


@staff_view(manager=True)
def staff(request, store):
    return _staff_page(request, store)


@require_POST
@staff_view(manager=True)
def staff_add(request, store):
    form = StaffAddForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, store, 400, add_form=form)
    try:
        m = services.staff_add(store=store, actor=actor(request), **form.cleaned_data)
    except services.StoreError as exc:
        form.add_error("email", str(exc))
        return _staff_page(request, store, 400, add_form=form)
    messages.success(request, f"{m.user.email} added as {m.get_role_display().lower()}.")
    return redirect("store:staff", store.slug)


def _member(store, pk) -> StoreMembership:
    return get_object_or_404(
        StoreMembership.objects.select_related("user", "store"), pk=pk, store=store
    )


@require_POST
@staff_view(manager=True)
def staff_change(request, store, pk):
    member = _member(store, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, store, 400, error="Choose manager or associate.")
    try:
        services.staff_change_role(
            membership=member, actor=actor(request), role=form.cleaned_data["role"]
        )
    except services.StoreError as exc:
        return _staff_page(request, store, 400, error=str(exc))
    messages.success(
        request, f"{member.user.email or member.user}: now {member.get_role_display().lower()}."
    )
    return redirect("store:staff", store.slug)


@require_POST
@staff_view(manager=True)
def staff_remove(request, store, pk):
    member = _member(store, pk)
    try:
        services.staff_remove(membership=member, actor=actor(request))
    except services.StoreError as exc:
        return _staff_page(request, store, 400, error=str(exc))
    messages.success(request, f"{member.user.email or member.user} no longer works here.")
    if member.user_id == request.user.pk:
        return redirect("home")
    return redirect("store:staff", store.slug)


# --- Reports -------------------------------------------------------------------------------


def _chart(days) -> dict:
    """Bars for orders per day and a polyline for on-time rate, in SVG user units."""
    width, height = max(len(days), 1) * 24, 120
    top = max([d["orders"] for d in days] + [1])
    bars = []
    for i, d in enumerate(days):
        h = round(d["orders"] / top * (height - 20))
        bars.append({"x": i * 24 + 4, "y": height - h, "h": h, "d": d})
    points = " ".join(
        f"{i * 24 + 12},{height - round(d['on_time_pct'] / 100 * (height - 20))}"
        for i, d in enumerate(days)
        if d["on_time_pct"] is not None
    )
    return {"width": width, "height": height, "bars": bars, "points": points, "top": top}


@staff_view(manager=True)
@reads_from_replica
def reports(request, store):
    today = store.mall.local_now().date()
    form = ReportForm(request.GET or {"start": today - dt.timedelta(days=13), "end": today})
    if not form.is_valid():
        return render(
            request,
            "retailers/reports.html",
            {**nav_context(request, store, "reports"), "form": form},
            status=400,
        )
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    days = store_report(store, start=start, end=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{store.slug}-{start}-{end}.csv"'
        w = csv.writer(response)
        w.writerow(
            [
                "day",
                "orders",
                "sales",
                "avg_accept_minutes",
                "avg_prep_minutes",
                "rejected",
                "rejections_by_reason",
                "delivered",
                "on_time_pct",
            ]
        )
        for d in days:
            w.writerow(
                [
                    d["day"],
                    d["orders"],
                    f"{d['sales_cents'] / 100:.2f}",
                    d["avg_accept_minutes"] or "",
                    d["avg_prep_minutes"] or "",
                    d["rejected"],
                    "; ".join(f"{k}: {v}" for k, v in sorted(d["rejections"].items())),
                    d["delivered"],
                    "" if d["on_time_pct"] is None else d["on_time_pct"],
                ]
            )
        return response
    totals = {
        "orders": sum(d["orders"] for d in days),
        "sales_cents": sum(d["sales_cents"] for d in days),
        "rejected": sum(d["rejected"] for d in days),
        "delivered": sum(d["delivered"] for d in days),
    }
    reasons: dict[str, int] = {}
    for d in days:
        for k, v in d["rejections"].items():
            reasons[k] = reasons.get(k, 0) + v
    return render(
        request,
        "retailers/reports.html",
        {
            **nav_context(request, store, "reports"),
            "form": form,
            "days": days,
            "totals": totals,
            "reasons": sorted(reasons.items(), key=lambda kv: -kv[1]),
            "chart": _chart(days),
            "csv_query": f"start={start}&end={end}&format=csv",
        },
    )
