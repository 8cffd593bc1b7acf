"""Operations admin for orders: read the life of an order, cancel through the service.

Orders are created by checkout and moved only by `orders.services`: here the status and
history are read-only, there is no "add order", and the cancel action calls `order_cancel`.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from orders.models import (
    Address,
    Cart,
    CartLine,
    IdempotencyKey,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Quote,
    Shopper,
)
from orders.permissions import Actor
from orders.services import OrderError, order_cancel
from retailers import clock
from retailers.admin import (
    BOTH_LOCATIONS,
    ChangedFieldsOnlyMixin,
    ViewOnlyAdminMixin,
    ViewOnlyInline,
    dollars,
    local_time,
    with_reason,
)

Status = Order.Status


# --- Shoppers and addresses ---------------------------------------------------------------


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    show_change_link = True
    fields = ["label", "line1", "line2", "city", "state", "zip_code", "latitude", "longitude"]


@admin.register(Shopper)
class ShopperAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "created_at"]
    list_select_related = ["user"]
    search_fields = [
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "phone",
    ]
    autocomplete_fields = ["user"]
    date_hierarchy = "created_at"
    inlines = [AddressInline]

    @admin.display(description="Email", ordering="user__email")
    def email(self, obj):
        return obj.user.email


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["one_line", "label", "shopper", "zip_code", "created_at"]
    list_filter = ["state"]
    list_select_related = ["shopper__user"]
    search_fields = ["line1", "city", "zip_code", "shopper__user__email", "shopper__phone"]
    autocomplete_fields = ["shopper"]
    date_hierarchy = "created_at"


# --- Orders -------------------------------------------------------------------------------


class OrderLineInline(ViewOnlyInline):
    model = OrderLine
    fields = ["product", "sku", "title", "quantity", "unit_price", "line_total"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @admin.display(description="Unit price")
    def unit_price(self, obj):
        return dollars(obj.unit_price_cents)

    @admin.display(description="Line total")
    def line_total(self, obj):
        return dollars(obj.line_total_cents)


class OrderEventInline(ViewOnlyInline):
    model = OrderEvent
    fields = ["created_local", "from_status", "to_status", "actor_kind", "actor_display", "note"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order__store__mall")

    @admin.display(description="When (local)")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.order.store.mall)

    @admin.display(description="Who")
    def actor_display(self, obj):
        return obj.actor_display


class LateFilter(admin.SimpleListFilter):
    """Open orders past their promise: what ops chase first."""

    title = "promise"
    parameter_name = "promise"

    def lookups(self, request, model_admin):
        return [("late", "Late (open, past promise)"), ("on_time", "Open, on time")]

    def queryset(self, request, queryset):
        now = clock.now()
        if self.value() == "late":
            return queryset.filter(status__in=Order.OPEN_STATUSES, promised_by__lt=now)
        if self.value() == "on_time":
            return queryset.filter(status__in=Order.OPEN_STATUSES, promised_by__gte=now)
        return queryset


@admin.register(Order)
class OrderAdmin(ChangedFieldsOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "store",
        "mall",
        "placed_local",
        "promised_local",
        "total",
        "recipient_name",
        "channel",
    ]
    list_filter = ["status", LateFilter, "channel", "test_mode", "store__mall", "store__retailer"]
    list_select_related = ["store__mall"]
    search_fields = [
        "number",
        "recipient_name",
        "recipient_email",
        "recipient_phone",
        "external_ref",
        "partner",
        "shopper__user__email",
        "store__name",
    ]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline, OrderEventInline]
    actions = ["cancel_selected_orders"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "status_reason",
                    "store",
                    "mall",
                    "channel",
                    "partner",
                    "external_ref",
                    "group",
                ]
            },
        ),
        (
            "Recipient",
            {
                "fields": [
                    "shopper",
                    "address",
                    "recipient_name",
                    "recipient_phone",
                    "recipient_email",
                    "delivery_pin",
                ]
            },
        ),
        ("Money", {"fields": ["subtotal", "fee", "tip", "total"]}),
        (
            "Times (mall's local zone)",
            {
                "fields": [
                    "placed_local",
                    "promised_local",
                    "prep_minutes",
                    "ready_by_local",
                    "ready_local",
                    "picked_up_local",
                    "delivered_local",
                ]
            },
        ),
        ("Delivery", {"fields": ["bags", "route_link"]}),
    ]
    # Only the recipient's contact details are editable; everything else is the services'.
    readonly_fields = [
        "number",
        "status",
        "status_reason",
        "store",
        "mall",
        "channel",
        "partner",
        "external_ref",
        "group",
        "shopper",
        "address",
        "delivery_pin",
        "subtotal",
        "fee",
        "tip",
        "total",
        "placed_local",
        "promised_local",
        "prep_minutes",
        "ready_by_local",
        "ready_local",
        "picked_up_local",
        "delivered_local",
        "bags",
        "route_link",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store__mall")

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def has_delete_permission(self, request, obj=None):
        return False  # deleting would strand reserved stock and history: cancel instead

    @admin.display(description="Mall", ordering="store__mall__name")
    def mall(self, obj):
        return obj.store.mall

    @admin.display(description="Placed (local)", ordering="placed_at")
    def placed_local(self, obj):
        return local_time(obj.placed_at, obj.store.mall)

    @admin.display(description="Promised by (local)", ordering="promised_by")
    def promised_local(self, obj):
        return local_time(obj.promised_by, obj.store.mall)

    @admin.display(description="Ready by (local)")
    def ready_by_local(self, obj):
        return local_time(obj.ready_by, obj.store.mall)

    @admin.display(description="Ready at (local)")
    def ready_local(self, obj):
        return local_time(obj.ready_at, obj.store.mall)

    @admin.display(description="Picked up (local)")
    def picked_up_local(self, obj):
        return local_time(obj.picked_up_at, obj.store.mall)

    @admin.display(description="Delivered (local)")
    def delivered_local(self, obj):
        return local_time(obj.delivered_at, obj.store.mall)

    @admin.display(description="Subtotal")
    def subtotal(self, obj):
        return dollars(obj.subtotal_cents)

    @admin.display(description="Fee")
    def fee(self, obj):
        return dollars(obj.fee_cents)

    @admin.display(description="Tip")
    def tip(self, obj):
        return dollars(obj.tip_cents)

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj):
        return dollars(obj.total_cents)

    @admin.display(description="Route")
    def route_link(self, obj):
        from drivers.services import route_for_order

        route = route_for_order(obj)
        if route is None:
            return "Not on a live route"
        url = reverse("admin:drivers_route_change", args=[route.pk])
        return format_html('<a href="{}">Route {} ({})</a>', url, route.pk, route.status)

    @admin.action(description="Cancel selected orders…", location=BOTH_LOCATIONS)
    def cancel_selected_orders(self, request, queryset):
        return with_reason(
            self,
            request,
            queryset,
            action="cancel_selected_orders",
            title="Cancel orders",
            button="Cancel these orders",
            apply=lambda order, reason: order_cancel(
                order=order, actor=Actor.ops(request.user), reason=reason
            ),
            errors=(OrderError, PermissionDenied),
            done="cancelled",
        )


@admin.register(OrderLine)
class OrderLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["order", "sku", "title", "quantity", "unit_price", "line_total"]
    list_select_related = ["order"]
    search_fields = ["=order__number", "sku", "title"]
    list_filter = ["order__store__mall"]

    @admin.display(description="Unit price", ordering="unit_price_cents")
    def unit_price(self, obj):
        return dollars(obj.unit_price_cents)

    @admin.display(description="Line total")
    def line_total(self, obj):
        return dollars(obj.line_total_cents)


@admin.register(OrderEvent)
class OrderEventAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_label",
        "created_local",
        "note",
    ]
    list_filter = ["to_status", "actor_kind", "order__store__mall"]
    list_select_related = ["order__store__mall"]
    search_fields = ["=order__number", "actor_label", "note"]
    date_hierarchy = "created_at"

    @admin.display(description="When (local)", ordering="created_at")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.order.store.mall)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: deleting a key would let a retried request place a second order."""

    list_display = ["scope", "key", "group", "response_status", "created_at"]
    list_filter = ["response_status"]
    search_fields = ["scope", "key"]
    date_hierarchy = "created_at"


@admin.register(Quote)
class QuoteAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: a quote is what was promised at the time."""

    list_display = [
        "id",
        "store",
        "eligible",
        "fee",
        "distance_km",
        "promised_local",
        "created_at",
        "expires_at",
    ]
    list_filter = ["eligible", "store__mall"]
    list_select_related = ["store__mall"]
    search_fields = ["id", "store__name"]
    date_hierarchy = "created_at"

    @admin.display(description="Fee", ordering="fee_cents")
    def fee(self, obj):
        return dollars(obj.fee_cents)

    @admin.display(description="Promised by (local)", ordering="promised_by")
    def promised_local(self, obj):
        return local_time(obj.promised_by, obj.store.mall)


class CartLineInline(ViewOnlyInline):
    model = CartLine
    fields = ["store", "product", "quantity", "seen_price_cents", "added_at"]
    readonly_fields = fields


@admin.register(Cart)
class CartAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: carts belong to shoppers; support can look, not edit."""

    list_display = ["id", "user", "line_count", "updated_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "updated_at"
    inlines = [CartLineInline]

    def get_queryset(self, request):
        from retailers.admin import related_count

        return super().get_queryset(request).annotate(n_lines=related_count(CartLine, "cart"))

    @admin.display(description="Lines", ordering="n_lines")
    def line_count(self, obj):
        return obj.n_lines


@admin.register(CartLine)
class CartLineAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["cart", "store", "product", "quantity", "added_at"]
    list_select_related = ["cart", "store", "product"]
    search_fields = ["product__title", "product__sku", "store__name"]
    list_filter = ["store__mall"]


@admin.register(Payment)
class PaymentAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: what the payment provider answered."""

    list_display = ["reference", "user", "amount", "status", "provider", "card_last4", "created_at"]
    list_filter = ["status", "provider"]
    list_select_related = ["user"]
    search_fields = ["reference", "provider_id", "user__username", "group"]
    date_hierarchy = "created_at"

    @admin.display(description="Amount", ordering="amount_cents")
    def amount(self, obj):
        return dollars(obj.amount_cents)


# --- API keys and webhooks ----------------------------------------------------------------

from django import forms  # noqa: E402
from django.contrib import messages  # noqa: E402

from orders.models import (  # noqa: E402
    ApiKey,
    ApiScope,
    DriverToken,
    SharedCounter,
    SignInThrottle,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebSession,
)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ["name", "partner", "retailer", "scopes", "test_mode"]

    def clean(self):
        data = super().clean()
        if bool(data.get("partner")) == bool(data.get("retailer")):
            raise forms.ValidationError("Give a partner name or a retailer, not both.")
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made here (shown once, in the message after saving) and revoked, never edited."""

    form = ApiKeyForm
    list_display = ["prefix", "name", "owner", "test_mode", "last_used_at", "revoked_at"]
    list_filter = ["test_mode", "revoked_at"]
    search_fields = ["prefix", "name", "partner", "retailer__name"]
    list_select_related = ["retailer"]
    actions = ["revoke_selected"]

    @admin.display(description="Owner")
    def owner(self, obj):
        return obj.owner_label

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "name",
            "partner",
            "retailer",
            "scopes",
            "test_mode",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "partner", "retailer", "scopes", "test_mode"]
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        from orders.api.auth import api_key_create

        key, raw = api_key_create(
            name=obj.name,
            scopes=form.cleaned_data["scopes"],
            partner=obj.partner,
            retailer=obj.retailer,
            test_mode=obj.test_mode,
            actor=Actor.ops(request.user),
        )
        obj.pk = key.pk
        messages.warning(request, f"The new key, shown only this once: {raw}")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request, queryset):
        from orders.api.auth import api_key_revoke

        for key in queryset:
            api_key_revoke(key=key, actor=Actor.ops(request.user))
        messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(DriverToken)
class DriverTokenAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Drivers' app sign-ins: made by the app (POST /api/v1/driver/tokens/), never here; ops
    can revoke them (a lost phone). Only the prefix is known, never the token."""

    list_display = ["prefix", "driver", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "driver__user__username", "driver__user__last_name"]
    list_select_related = ["driver__user"]
    fields = ["prefix", "driver", "name", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    @admin.action(description="Revoke selected driver tokens")
    def revoke_selected(self, request, queryset):
        from orders.api.auth import driver_token_revoke

        for token in queryset.select_related("driver__user"):
            driver_token_revoke(token=token, actor=Actor.ops(request.user))
        messages.success(request, f"Revoked {queryset.count()} token(s).")


@admin.register(SharedCounter)
class CounterAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Counters: API requests per caller and window (housekeeping deletes windows that are
    over) and the boards' versions."""

    list_display = ["key", "count", "expires_at"]
    search_fields = ["key"]
    fields = ["key", "count", "expires_at"]


@admin.register(SignInThrottle)
class SignInThrottleAdmin(admin.ModelAdmin):
    """Sign-in counts and locks (config/login_throttle.py). Keys are a hash of the account
    name or the client address; ops can lift a lock (someone locked out on purpose)."""

    list_display = ["key", "attempts", "window_started_at", "locked_until"]
    list_filter = [("locked_until", admin.EmptyFieldListFilter)]
    search_fields = ["key"]
    readonly_fields = ["key", "attempts", "window_started_at", "locked_until"]
    actions = ["lift_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Lift the selected locks", permissions=["delete"])
    def lift_selected(self, request, queryset):
        count, _ = queryset.delete()
        messages.success(request, f"Lifted {count} lock(s).")


@admin.register(WebSession)
class WebSessionAdmin(admin.ModelAdmin):
    """Signed-in browsers: who and until when (never the session's data). Signing a session
    out deletes it; the person must sign in again on that device (a lost phone, a former
    employee still signed in)."""

    list_display = ["user", "expire_date"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "expire_date"]
    readonly_fields = ["user", "expire_date"]
    actions = ["sign_out_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__isnull=False)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Sign the selected sessions out", permissions=["delete"])
    def sign_out_selected(self, request, queryset):
        count, _ = queryset.delete()
        messages.success(request, f"Signed out {count} session(s).")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url",
        "partner",
        "retailer",
        "test_mode",
        "is_active",
        "failing_since",
        "created_at",
    ]
    list_filter = ["is_active", "test_mode"]
    search_fields = ["url", "partner", "retailer__name"]
    list_select_related = ["retailer"]
    readonly_fields = [
        "secret",
        "previous_secret",
        "previous_secret_until",
        "failing_since",
        "disabled_reason",
        "created_at",
    ]
    actions = ["send_test_event", "rotate_secret"]

    def save_model(self, request, obj, form, change):
        if not obj.secret:
            from orders.webhooks import new_secret

            obj.secret = new_secret()
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        from orders.webhooks import webhook_send_test

        for endpoint in queryset:
            webhook_send_test(endpoint=endpoint)
        messages.success(request, "Test event queued; see Webhook deliveries.")

    @admin.action(description="Rotate the secret (the old one signs too for 24 h)")
    def rotate_secret(self, request, queryset):
        from orders.webhooks import webhook_secret_rotate

        for endpoint in queryset:
            webhook_secret_rotate(endpoint=endpoint, actor=Actor.ops(request.user))
        messages.success(request, "Secret(s) rotated.")


class WebhookAttemptInline(ViewOnlyInline):
    model = WebhookAttempt
    fields = ["at", "status_code", "duration_ms", "response_excerpt", "error"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    """Each delivery with every attempt (time, status, duration, response); redeliver."""

    list_display = [
        "message_id",
        "event_type",
        "order",
        "sequence",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    search_fields = ["message_id", "order__number", "endpoint__url"]
    list_select_related = ["order", "endpoint"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Redeliver now")
    def redeliver(self, request, queryset):
        from orders.webhooks import webhook_redeliver

        for delivery in queryset:
            webhook_redeliver(delivery=delivery, actor=Actor.ops(request.user))
        messages.success(request, f"Queued {queryset.count()} delivery(ies) again.")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["delivery", "at", "status_code", "duration_ms", "error"]
    list_filter = ["status_code"]
    search_fields = ["delivery__message_id", "delivery__order__number", "error"]
    list_select_related = ["delivery__endpoint"]
    date_hierarchy = "at"
