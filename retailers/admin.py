"""Operations admin for malls, retailers, stores and their catalog and stock.

This module also holds the small helpers the orders and drivers admins share: money in
dollars, times in the mall's zone, saving only the fields a form changed, and actions that
ask ops for a reason before they call a service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import ActionLocation
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse

from retailers import clock
from retailers.models import (
    AuditEntry,
    DeliveryFeeTier,
    Mall,
    Product,
    Retailer,
    Stock,
    StockAdjustment,
    Store,
    StoreClosure,
    StoreHours,
    StoreMembership,
)
from retailers.templatetags.mallrun import money

admin.site.site_header = "Mallrun operations"
admin.site.site_title = "Mallrun operations"
admin.site.index_title = "Malls, stores, orders and drivers"

# Service-backed actions work from the list and from one object's page.
BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


# --- Display helpers ----------------------------------------------------------------------


def dollars(cents: int | None) -> str:
    """Stored cents as dollars for list columns: 1299 -> $12.99."""
    return money(cents)


def local_time(moment: dt.datetime | None, mall: Mall | None) -> str:
    """A UTC moment in the mall's own zone, sortable and unambiguous for ops."""
    if moment is None or mall is None:
        return ""
    return mall.local(moment).strftime("%Y-%m-%d %H:%M %Z")


def related_count(model, fk: str, **filters) -> Coalesce:
    """Count of `model` rows pointing at the outer row, as a subquery.

    A subquery rather than `Count()` over a join, so two of them on one list don't multiply
    each other's rows.
    """
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), Value(0))


def related_sum(model, fk: str, field: str, **filters) -> Coalesce:
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")}, **filters)
        .order_by()
        .values(fk)
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(rows), Value(0))


# --- Saving ------------------------------------------------------------------------------


class ChangedFieldsOnlyMixin:
    """Save only the columns the form changed.

    The admin loads a row, applies the form and saves every column. A service that moved
    the row on in between (a status, reserved stock) would be silently undone; writing only
    the edited fields leaves the services' columns alone.
    """

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in concrete]
        if not fields:
            return None
        fields += [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=fields)
        return None


class AuditedSaveMixin:
    """Admin edits of malls, stores and products leave an audit entry: who, the fields the
    form changed, before and after, in the same transaction as the save."""

    def save_model(self, request, obj, form, change):
        from orders.permissions import Actor
        from retailers.audit import audit_record, snapshot

        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in concrete]
        before = {}
        if change and fields:
            before = snapshot(type(obj).objects.get(pk=obj.pk), fields)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if fields or not change:
                audit_record(
                    actor=Actor.ops(request.user),
                    action=f"{obj._meta.model_name}.{'change' if change else 'add'}",
                    obj=obj,
                    mall=obj.pk if isinstance(obj, Mall) else getattr(obj, "mall_id", None),
                    before=before,
                    after=snapshot(obj, fields),
                )


class ViewOnlyAdminMixin:
    """History and service-written rows: ops read them, nobody edits them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyInline(ViewOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


# --- Actions that call services ----------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the history, with your name.",
    )


def run_each(
    modeladmin,
    request,
    objects: Iterable,
    apply: Callable[[object], object],
    *,
    errors: tuple[type[BaseException], ...],
    done: str,
) -> None:
    """Apply a service call to each object in its own transaction.

    One refusal does not undo the others: each refused object is reported by name with the
    service's reason, the rest are summed up in one success message.
    """
    succeeded = []
    for obj in objects:
        try:
            with transaction.atomic():
                apply(obj)
        except errors as exc:
            messages.error(request, f"{obj} was not {done}: {exc}")
        else:
            succeeded.append(str(obj))
    if succeeded:
        opts = modeladmin.model._meta
        name = opts.verbose_name if len(succeeded) == 1 else opts.verbose_name_plural
        messages.success(
            request, f"{done.capitalize()} {len(succeeded)} {name}: {', '.join(succeeded)}."
        )


def with_reason(
    modeladmin,
    request,
    queryset,
    *,
    action: str,
    title: str,
    button: str,
    apply: Callable[[object, str], object],
    errors: tuple[type[BaseException], ...],
    done: str,
) -> TemplateResponse | None:
    """An action that first asks for a reason on a confirmation page, then calls a service.

    Works from the change list and from an object's page (Django's change-form actions):
    the confirmation posts back to the same URL with the same action field.
    """
    form_action_field = f"{ActionLocation.CHANGE_FORM.value}-action"
    action_field = form_action_field if form_action_field in request.POST else "action"
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        run_each(
            modeladmin,
            request,
            queryset,
            lambda obj: apply(obj, reason),
            errors=errors,
            done=done,
        )
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": opts,
        "objects": list(queryset),
        "form": form,
        "button": button,
        "action_name": action,
        "action_field": action_field,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/mallrun/reason_confirmation.html", context)


# --- Malls and retailers ------------------------------------------------------------------


class DeliveryFeeTierInline(admin.TabularInline):
    model = DeliveryFeeTier
    extra = 0


@admin.register(DeliveryFeeTier)
class DeliveryFeeTierAdmin(admin.ModelAdmin):
    list_display = ["mall", "up_to_km", "extra_cents"]
    list_filter = ["mall"]
    list_select_related = ["mall"]


@admin.register(Mall)
class MallAdmin(AuditedSaveMixin, admin.ModelAdmin):
    inlines = [DeliveryFeeTierInline]
    list_display = [
        "name",
        "city",
        "state",
        "timezone",
        "service_radius_km",
        "same_day_cutoff",
        "delivery_fee",
        "store_count",
        "is_active",
        "is_sandbox",
    ]
    list_filter = ["is_active", "is_sandbox", "state", "timezone"]
    search_fields = ["name", "slug", "city", "zip_code"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "is_sandbox"]}),
        (
            "Where",
            {
                "fields": [
                    "street",
                    "city",
                    "state",
                    "zip_code",
                    ("latitude", "longitude"),
                    "timezone",
                    "pickup_instructions",
                ]
            },
        ),
        ("Delivery promise", {"fields": ["service_radius_km", "same_day_cutoff"]}),
        (
            "Money (cents)",
            {
                "fields": [
                    "delivery_fee_cents",
                    "pay_base_cents",
                    "pay_per_stop_cents",
                    "pay_per_km_cents",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_stores=related_count(Store, "mall"))

    @admin.display(description="Delivery fee", ordering="delivery_fee_cents")
    def delivery_fee(self, obj):
        return dollars(obj.delivery_fee_cents)

    @admin.display(description="Stores", ordering="n_stores")
    def store_count(self, obj):
        return obj.n_stores


class ProductInline(admin.TabularInline):
    model = Product
    extra = 0
    show_change_link = True
    fields = ["sku", "title", "category", "price_cents", "bags", "is_active"]
    classes = ["collapse"]


@admin.register(Retailer)
class RetailerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "website", "support_email", "store_count", "product_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ProductInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_stores=related_count(Store, "retailer"),
                n_products=related_count(Product, "retailer"),
            )
        )

    @admin.display(description="Stores", ordering="n_stores")
    def store_count(self, obj):
        return obj.n_stores

    @admin.display(description="Products", ordering="n_products")
    def product_count(self, obj):
        return obj.n_products


# --- Stores ------------------------------------------------------------------------------


class StoreHoursInline(admin.TabularInline):
    model = StoreHours
    extra = 0
    max_num = 7


class StoreMembershipInline(admin.TabularInline):
    model = StoreMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class PausedFilter(admin.SimpleListFilter):
    title = "paused"
    parameter_name = "paused"

    def lookups(self, request, model_admin):
        return [("yes", "Paused now"), ("no", "Taking orders")]

    def queryset(self, request, queryset):
        now = clock.now()
        if self.value() == "yes":
            return queryset.filter(paused_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(paused_until__gt=now)
        return queryset


@admin.register(Store)
class StoreAdmin(AuditedSaveMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "mall",
        "retailer",
        "location_in_mall",
        "prep_minutes",
        "open_now",
        "paused",
        "paused_until_local",
        "pause_reason",
    ]
    list_filter = [PausedFilter, "mall", "retailer"]
    list_select_related = ["mall", "retailer"]
    search_fields = ["name", "slug", "retailer__name", "mall__name"]
    autocomplete_fields = ["mall", "retailer"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StoreHoursInline, StoreMembershipInline]
    actions = ["pause_one_hour", "resume"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("hours", "closures")

    @admin.display(boolean=True, description="Open now")
    def open_now(self, obj):
        return obj.is_open_at()

    @admin.display(boolean=True, description="Paused")
    def paused(self, obj):
        return obj.is_paused()

    @admin.display(description="Paused until (local)", ordering="paused_until")
    def paused_until_local(self, obj):
        return local_time(obj.paused_until, obj.mall) if obj.is_paused() else ""

    @admin.action(description="Pause selected stores for 1 hour")
    def pause_one_hour(self, request, queryset):
        # Through the service, so each pause is checked and lands in the audit trail.
        from orders.permissions import Actor
        from retailers.services import store_pause

        until = clock.now() + dt.timedelta(hours=1)
        actor = Actor.ops(request.user)
        reason = f"Paused by ops ({request.user.get_username()})"
        with transaction.atomic():
            for store in queryset:
                store_pause(store=store, actor=actor, until=until, reason=reason)
        count = len(queryset)
        self.message_user(request, f"Paused {count} store(s) for one hour.", messages.SUCCESS)

    @admin.action(description="Resume selected stores")
    def resume(self, request, queryset):
        from orders.permissions import Actor
        from retailers.services import store_resume

        actor = Actor.ops(request.user)
        with transaction.atomic():
            for store in queryset:
                store_resume(store=store, actor=actor, reason="Resumed from the admin")
        count = len(queryset)
        self.message_user(request, f"{count} store(s) are taking orders again.", messages.SUCCESS)


@admin.register(StoreHours)
class StoreHoursAdmin(admin.ModelAdmin):
    list_display = ["store", "mall", "weekday", "opens_at", "closes_at"]
    list_filter = ["weekday", "store__mall"]
    list_select_related = ["store__mall"]
    search_fields = ["store__name"]
    autocomplete_fields = ["store"]

    @admin.display(description="Mall", ordering="store__mall__name")
    def mall(self, obj):
        return obj.store.mall


@admin.register(StoreMembership)
class StoreMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "role", "created_at"]
    list_filter = ["role", "store__mall"]
    list_select_related = ["user", "store"]
    search_fields = ["user__username", "user__email", "user__last_name", "store__name"]
    autocomplete_fields = ["user", "store"]
    date_hierarchy = "created_at"


# --- Catalog and stock ---------------------------------------------------------------------


@admin.register(Product)
class ProductAdmin(AuditedSaveMixin, admin.ModelAdmin):
    list_display = ["title", "sku", "retailer", "category", "price", "bags", "is_active"]
    list_filter = ["is_active", "retailer", "category"]
    list_select_related = ["retailer"]
    search_fields = ["sku", "title", "category"]
    autocomplete_fields = ["retailer"]

    @admin.display(description="Price", ordering="price_cents")
    def price(self, obj):
        return dollars(obj.price_cents)


class StockForm(forms.ModelForm):
    class Meta:
        model = Stock
        fields = ["store", "product", "on_hand"]

    def clean_on_hand(self):
        on_hand = self.cleaned_data["on_hand"]
        reserved = self.instance.reserved if self.instance.pk else 0
        if on_hand < reserved:
            raise forms.ValidationError(
                f"{reserved} unit(s) are promised to open orders; on hand can't go below that."
            )
        return on_hand


@admin.register(Stock)
class StockAdmin(ChangedFieldsOnlyMixin, admin.ModelAdmin):
    form = StockForm
    list_display = ["product", "store", "on_hand", "reserved", "available", "updated_at"]
    list_filter = ["store__mall", "store__retailer"]
    list_select_related = ["product", "store"]
    search_fields = ["product__sku", "product__title", "store__name"]
    autocomplete_fields = ["store", "product"]
    # Reserved units belong to open orders: only the order services move them.
    readonly_fields = ["reserved", "updated_at"]
    date_hierarchy = "updated_at"

    @admin.display(description="Available")
    def available(self, obj):
        return obj.available


# --- Portal history and closures -----------------------------------------------------------


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Who changed a store's stock and why: written by the portal's services only."""

    list_display = ["created_at", "product", "store", "delta", "on_hand_after", "reason", "actor"]
    list_filter = ["reason", "stock__store__mall"]
    list_select_related = ["stock__product", "stock__store"]
    search_fields = ["stock__product__sku", "stock__product__title", "stock__store__name", "note"]
    date_hierarchy = "created_at"

    @admin.display(description="Product", ordering="stock__product__title")
    def product(self, obj):
        return obj.stock.product

    @admin.display(description="Store", ordering="stock__store__name")
    def store(self, obj):
        return obj.stock.store

    @admin.display(description="By")
    def actor(self, obj):
        return obj.actor_label


@admin.register(StoreClosure)
class StoreClosureAdmin(admin.ModelAdmin):
    list_display = ["store", "starts_on", "ends_on", "reason"]
    list_filter = ["store__mall"]
    list_select_related = ["store"]
    search_fields = ["store__name", "reason"]
    autocomplete_fields = ["store"]
    date_hierarchy = "starts_on"


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Who changed settings, reviewed drivers or intervened, before and after. Order and route
    events, stock adjustments and dispatch decisions have their own lists; /ops/audit/ shows
    them all together."""

    list_display = [
        "created_at",
        "actor_label",
        "actor_kind",
        "action",
        "object_repr",
        "mall",
        "reason",
    ]
    list_filter = ["actor_kind", "action", "object_type", "mall"]
    list_select_related = ["mall"]
    search_fields = ["action", "object_repr", "object_id", "actor_label", "reason"]
    date_hierarchy = "created_at"
