"""Operations admin for drivers, blocks and routes.

Driver approval and suspension, and cancelling a route, go through `drivers.services`;
the statuses of drivers, routes and offers are read-only here, and route history, offers and
proofs of delivery are written only by the services.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html

from drivers.models import (
    Block,
    BlockBooking,
    DispatchDecision,
    DispatchLock,
    DispatchRun,
    Driver,
    Offer,
    PayLine,
    ProofOfDelivery,
    Route,
    RouteEvent,
    RouteStop,
)
from drivers.services import DriverError, RouteError, driver_review, route_cancel
from orders.permissions import Actor
from retailers import clock
from retailers.admin import (
    BOTH_LOCATIONS,
    ChangedFieldsOnlyMixin,
    ViewOnlyAdminMixin,
    ViewOnlyInline,
    dollars,
    local_time,
    related_count,
    related_sum,
    run_each,
    with_reason,
)

# --- Drivers ------------------------------------------------------------------------------


@admin.register(Driver)
class DriverAdmin(ChangedFieldsOnlyMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "username",
        "phone",
        "status",
        "vehicle_type",
        "capacity_bags",
        "is_online",
        "online_mall",
        "home_mall",
        "created_at",
    ]
    list_filter = ["status", "is_online", "vehicle_type", "home_mall", "online_mall"]
    list_select_related = ["user", "online_mall", "home_mall"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "phone",
        "plate",
    ]
    autocomplete_fields = ["user", "home_mall"]
    date_hierarchy = "created_at"
    # Approval and online state move only through the services (actions below, the driver app).
    readonly_fields = [
        "status",
        "status_reason",
        "is_online",
        "online_mall",
        "last_latitude",
        "last_longitude",
        "last_located_at",
        "idle_since",
        "created_at",
    ]
    actions = ["approve_drivers", "suspend_drivers", "reject_drivers"]

    @admin.display(description="Username", ordering="user__username")
    def username(self, obj):
        return obj.user.get_username()

    def _review(self, request, queryset, status, reason=""):
        run_each(
            self,
            request,
            queryset,
            lambda driver: driver_review(
                driver=driver, actor=Actor.ops(request.user), status=status, reason=reason
            ),
            errors=(DriverError, PermissionDenied),
            done=Driver.Status(status).label.lower(),
        )

    @admin.action(description="Approve selected drivers", location=BOTH_LOCATIONS)
    def approve_drivers(self, request, queryset):
        self._review(request, queryset, Driver.Status.APPROVED)

    @admin.action(description="Suspend selected drivers…", location=BOTH_LOCATIONS)
    def suspend_drivers(self, request, queryset):
        return self._review_with_reason(
            request, queryset, Driver.Status.SUSPENDED, "suspend_drivers", "Suspend drivers"
        )

    @admin.action(description="Reject selected driver applications…", location=BOTH_LOCATIONS)
    def reject_drivers(self, request, queryset):
        return self._review_with_reason(
            request, queryset, Driver.Status.REJECTED, "reject_drivers", "Reject drivers"
        )

    def _review_with_reason(self, request, queryset, status, action, title):
        return with_reason(
            self,
            request,
            queryset,
            action=action,
            title=title,
            button=title,
            apply=lambda driver, reason: driver_review(
                driver=driver, actor=Actor.ops(request.user), status=status, reason=reason
            ),
            errors=(DriverError, PermissionDenied),
            done=Driver.Status(status).label.lower(),
        )


# --- Blocks -------------------------------------------------------------------------------


class BlockBookingInline(ViewOnlyInline):
    model = BlockBooking
    fields = ["driver", "status", "booked_at", "forfeited_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("driver__user")


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "mall",
        "starts_local",
        "ends_local",
        "duration_hours",
        "slots",
        "booked",
        "guaranteed_pay",
    ]
    list_filter = ["mall"]
    list_select_related = ["mall"]
    search_fields = ["mall__name"]
    autocomplete_fields = ["mall"]
    date_hierarchy = "starts_at"
    inlines = [BlockBookingInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_booked=related_count(BlockBooking, "block", status=BlockBooking.Status.BOOKED)
            )
        )

    @admin.display(description="Starts (local)", ordering="starts_at")
    def starts_local(self, obj):
        return local_time(obj.starts_at, obj.mall)

    @admin.display(description="Ends (local)", ordering="ends_at")
    def ends_local(self, obj):
        return local_time(obj.ends_at, obj.mall)

    @admin.display(description="Booked", ordering="n_booked")
    def booked(self, obj):
        return obj.n_booked

    @admin.display(description="Guaranteed pay", ordering="guaranteed_pay_cents")
    def guaranteed_pay(self, obj):
        return dollars(obj.guaranteed_pay_cents)


@admin.register(BlockBooking)
class BlockBookingAdmin(admin.ModelAdmin):
    list_display = ["driver", "block", "status", "booked_at", "forfeited_at"]
    list_filter = ["status", "block__mall"]
    list_select_related = ["driver__user", "block__mall"]
    search_fields = ["driver__user__username", "driver__user__last_name", "block__mall__name"]
    autocomplete_fields = ["driver", "block"]
    date_hierarchy = "booked_at"


# --- Routes -------------------------------------------------------------------------------

_LIVE_STOPS = [s for s in RouteStop.Status.values if s != RouteStop.Status.CANCELLED]


class RouteStopInline(ViewOnlyInline):
    model = RouteStop
    fields = ["sequence", "kind", "store", "order", "status", "planned_local", "completed_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "order", "route__mall")

    @admin.display(description="Planned arrival (local)")
    def planned_local(self, obj):
        return local_time(obj.planned_arrival, obj.route.mall)


class RouteEventInline(ViewOnlyInline):
    model = RouteEvent
    fields = ["created_local", "from_status", "to_status", "driver", "actor_label", "note"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("route__mall", "driver__user")

    @admin.display(description="When (local)")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.route.mall)


class OfferInline(ViewOnlyInline):
    model = Offer
    fields = [
        "driver",
        "status",
        "pay",
        "created_at",
        "expires_at",
        "responded_at",
        "decline_reason",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("driver__user")

    @admin.display(description="Pay")
    def pay(self, obj):
        return dollars(obj.pay_cents)


class PayLineInline(admin.TabularInline):
    """Ops may add a boost, tip or adjustment; lines are corrected, never deleted."""

    model = PayLine
    extra = 0
    can_delete = False
    fields = ["kind", "description", "amount_cents", "order", "driver", "created_at"]
    readonly_fields = ["driver", "created_at"]
    autocomplete_fields = ["order"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "driver__user")


class RouteStatusFilter(admin.SimpleListFilter):
    title = "live"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Live (planned to delivering)"), ("held", "Held by a driver")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=Route.ACTIVE_STATUSES)
        if self.value() == "held":
            return queryset.filter(status__in=Route.HELD_STATUSES)
        return queryset


@admin.register(Route)
class RouteAdmin(ChangedFieldsOnlyMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "mall",
        "driver",
        "drop_offs",
        "planned_km",
        "planned_minutes",
        "pay",
        "created_local",
        "policy",
    ]
    list_filter = [RouteStatusFilter, "status", "mall", "policy"]
    list_select_related = ["mall", "driver__user"]
    search_fields = ["=id", "driver__user__username", "driver__user__last_name", "mall__name"]
    date_hierarchy = "created_at"
    inlines = [RouteStopInline, OfferInline, PayLineInline, RouteEventInline]
    actions = ["cancel_selected_routes"]
    # Dispatch and the route services own every column: the driver comes from an accepted
    # offer, the status from the route's life.
    readonly_fields = [
        "mall",
        "status",
        "driver",
        "policy",
        "handover_code",
        "planned_km",
        "planned_minutes",
        "pay",
        "created_local",
        "accepted_at",
        "completed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_drop_offs=related_count(
                    RouteStop, "route", kind=RouteStop.Kind.DROPOFF, status__in=_LIVE_STOPS
                ),
                pay_total=related_sum(PayLine, "route", "amount_cents"),
            )
        )

    def has_add_permission(self, request):
        return False  # routes come from dispatch (route_plan)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: deleting would drop the history and the pay lines

    def save_formset(self, request, form, formset, change):
        if formset.model is not PayLine:
            return super().save_formset(request, form, formset, change)
        route = form.instance
        for line in formset.save(commit=False):
            if line.created_at is None:
                line.created_at = clock.now()
            if line.pk is None and line.driver_id is None:
                line.driver_id = route.driver_id
            line.save()
        formset.save_m2m()
        return None

    @admin.display(description="Drop-offs", ordering="n_drop_offs")
    def drop_offs(self, obj):
        return obj.n_drop_offs

    @admin.display(description="Pay", ordering="pay_total")
    def pay(self, obj):
        return dollars(obj.pay_total)

    @admin.display(description="Created (local)", ordering="created_at")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.mall)

    @admin.action(description="Cancel selected routes…", location=BOTH_LOCATIONS)
    def cancel_selected_routes(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            action="cancel_selected_routes",
            title="Cancel routes",
            button="Cancel these routes",
            apply=lambda route, reason: route_cancel(
                route=route, actor=Actor.ops(request.user), reason=reason
            ),
            errors=(RouteError, PermissionDenied),
            done="cancelled",
        )


@admin.register(RouteStop)
class RouteStopAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "route",
        "sequence",
        "kind",
        "store",
        "order",
        "status",
        "planned_local",
        "arrived_at",
        "completed_at",
    ]
    list_filter = ["kind", "status", "route__mall"]
    list_select_related = ["route__mall", "store", "order"]
    search_fields = ["=route__id", "order__number", "store__name"]
    date_hierarchy = "route__created_at"

    @admin.display(description="Planned arrival (local)", ordering="planned_arrival")
    def planned_local(self, obj):
        return local_time(obj.planned_arrival, obj.route.mall)


@admin.register(RouteEvent)
class RouteEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "route",
        "from_status",
        "to_status",
        "driver",
        "actor_kind",
        "actor_label",
        "created_local",
        "note",
    ]
    list_filter = ["to_status", "actor_kind", "route__mall"]
    list_select_related = ["route__mall", "driver__user"]
    search_fields = ["=route__id", "actor_label", "note"]
    date_hierarchy = "created_at"

    @admin.display(description="When (local)", ordering="created_at")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.route.mall)


@admin.register(Offer)
class OfferAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "route",
        "driver",
        "status",
        "pay",
        "created_local",
        "expires_local",
        "responded_at",
        "decline_reason",
    ]
    list_filter = ["status", "route__mall"]
    list_select_related = ["route__mall", "driver__user"]
    search_fields = ["=route__id", "driver__user__username", "driver__user__last_name"]
    date_hierarchy = "created_at"
    # Offers are made, answered and expired only by the dispatch services.
    readonly_fields = [
        "route",
        "driver",
        "status",
        "pay",
        "created_at",
        "expires_at",
        "responded_at",
        "decline_reason",
    ]
    fields = readonly_fields

    @admin.display(description="Pay", ordering="pay_cents")
    def pay(self, obj):
        return dollars(obj.pay_cents)

    @admin.display(description="Offered (local)", ordering="created_at")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.route.mall)

    @admin.display(description="Expires (local)", ordering="expires_at")
    def expires_local(self, obj):
        return local_time(obj.expires_at, obj.route.mall)


@admin.register(ProofOfDelivery)
class ProofOfDeliveryAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "driver",
        "pin_verified",
        "has_photo",
        "recipient_name",
        "created_local",
    ]
    list_filter = ["pin_verified", "order__store__mall"]
    list_select_related = ["order__store__mall", "driver__user"]
    search_fields = ["order__number", "driver__user__username", "recipient_name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "order",
        "driver",
        "photo_link",
        "pin_verified",
        "recipient_name",
        "latitude",
        "longitude",
        "note",
        "created_at",
    ]
    fields = readonly_fields

    @admin.display(boolean=True, description="Photo")
    def has_photo(self, obj):
        return bool(obj.photo)

    @admin.display(description="Photo")
    def photo_link(self, obj):
        if not obj.photo:
            return "No photo"
        return format_html('<a href="{}">Open photo</a>', obj.photo.url)

    @admin.display(description="Delivered (local)", ordering="created_at")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.order.store.mall)


@admin.register(PayLine)
class PayLineAdmin(admin.ModelAdmin):
    """Boosts, tips and adjustments by hand; a wrong line is corrected with an adjustment."""

    list_display = ["__str__", "kind", "amount", "route", "driver", "order", "description"]
    list_filter = ["kind", "route__mall"]
    list_select_related = ["route__mall", "driver__user", "order"]
    search_fields = ["=route__id", "driver__user__username", "order__number", "description"]
    autocomplete_fields = ["route", "driver", "order"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if obj.created_at is None:
            obj.created_at = clock.now()
        if obj.driver_id is None and obj.route_id is not None:
            obj.driver_id = obj.route.driver_id  # the route's driver earns it, if it has one
        super().save_model(request, obj, form, change)

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return dollars(obj.amount_cents)


# --- Dispatch log ---------------------------------------------------------------------------


class DispatchDecisionInline(ViewOnlyInline):
    model = DispatchDecision
    fields = ["kind", "route", "driver", "order", "detail", "created_at"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("route", "driver__user", "order")


@admin.register(DispatchRun)
class DispatchRunAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Every dispatch cycle and its decisions, written only by drivers.dispatch."""

    list_display = [
        "__str__",
        "mall",
        "started_local",
        "trigger",
        "outcome",
        "policy",
        "method",
        "orders_considered",
        "routes_planned",
        "offers_made",
        "offers_expired",
        "routes_waiting",
        "solve_ms",
        "cycle_ms",
    ]
    list_filter = ["outcome", "method", "policy", "mall"]
    list_select_related = ["mall"]
    search_fields = ["=id", "trigger", "fallback_reason", "note"]
    date_hierarchy = "started_at"
    inlines = [DispatchDecisionInline]
    readonly_fields = [
        "mall",
        "trigger",
        "outcome",
        "policy",
        "method",
        "fallback_reason",
        "time_limit_ms",
        "orders_considered",
        "routes_planned",
        "planned_km",
        "offers_made",
        "offers_expired",
        "routes_waiting",
        "solve_ms",
        "cycle_ms",
        "note",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields

    @admin.display(description="Started (local)", ordering="started_at")
    def started_local(self, obj):
        return local_time(obj.started_at, obj.mall)


@admin.register(DispatchDecision)
class DispatchDecisionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["run", "kind", "route", "driver", "order", "detail", "created_at"]
    list_filter = ["kind", "run__mall"]
    list_select_related = ["run__mall", "route", "driver__user", "order"]
    search_fields = ["=run__id", "=route__id", "order__number", "driver__user__username", "detail"]
    date_hierarchy = "created_at"


@admin.register(DispatchLock)
class DispatchLockAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["mall", "holder", "locked_until", "claimed_at", "rerun"]
    list_select_related = ["mall"]
