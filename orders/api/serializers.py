"""Input and output shapes of API v1. Validation only: no business rule lives here."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderEvent, OrderLine, Quote

# --- Shared -----------------------------------------------------------------------------


class ProblemFieldError(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class Problem(serializers.Serializer):
    """RFC 9457 problem details: every error response has this shape."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField()
    errors = ProblemFieldError(many=True, required=False)
    retry_after = serializers.IntegerField(
        required=False, help_text="429 only: seconds to wait (also the Retry-After header)."
    )


class StoreRef(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    mall = serializers.CharField(source="mall.name")


class ItemIn(serializers.Serializer):
    product_id = serializers.IntegerField(required=False, min_value=1)
    sku = serializers.CharField(required=False, max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)

    def validate(self, attrs):
        if not attrs.get("product_id") and not attrs.get("sku"):
            raise serializers.ValidationError("Give product_id or sku.")
        return attrs


class Location(serializers.Serializer):
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    zip_code = serializers.RegexField(r"^\d{5}(-\d{4})?$", required=False)

    def validate(self, attrs):
        has_point = "latitude" in attrs and "longitude" in attrs
        if not has_point and not attrs.get("zip_code"):
            raise serializers.ValidationError("Give latitude and longitude, or a zip_code.")
        return attrs


# --- Availability -----------------------------------------------------------------------


class AvailabilityQuery(Location):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    store = serializers.SlugField(required=False, help_text="A store's slug.")
    category = serializers.CharField(required=False, max_length=80)


class ProductOut(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    price_cents = serializers.IntegerField()


class PromiseOut(serializers.Serializer):
    eligible = serializers.BooleanField()
    fee_cents = serializers.IntegerField()
    promised_by = serializers.DateTimeField(allow_null=True)
    reasons = serializers.ListField(child=serializers.DictField())


class AvailabilityOut(serializers.Serializer):
    store = StoreRef()
    product = ProductOut()
    available = serializers.IntegerField()
    promise = serializers.SerializerMethodField()

    @extend_schema_field(PromiseOut(allow_null=True))
    def get_promise(self, row):
        promise = self.context["promises"].get(row.store_id)
        if promise is None:
            return None
        return PromiseOut(
            {
                "eligible": promise.eligible,
                "fee_cents": promise.fee_cents,
                "promised_by": promise.promised_by,
                "reasons": promise.reasons,
            }
        ).data


# --- Quotes -----------------------------------------------------------------------------


class QuoteIn(Location):
    store_id = serializers.IntegerField(min_value=1)
    items = ItemIn(many=True, required=False, max_length=100)


class QuoteOut(serializers.ModelSerializer):
    store = StoreRef()
    distance_km = serializers.FloatField()

    class Meta:
        model = Quote
        fields = [
            "id",
            "store",
            "eligible",
            "reasons",
            "fee_cents",
            "distance_km",
            "ready_by",
            "promised_by",
            "items",
            "created_at",
            "expires_at",
        ]


# --- Orders -----------------------------------------------------------------------------


class AddressIn(serializers.Serializer):
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    state = serializers.RegexField(r"^[A-Za-z]{2}$")
    zip_code = serializers.RegexField(r"^\d{5}(-\d{4})?$")
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    instructions = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class RecipientIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class OrderIn(serializers.Serializer):
    quote_id = serializers.UUIDField(required=False)
    store_id = serializers.IntegerField(required=False, min_value=1)
    items = ItemIn(many=True, required=False, max_length=100)
    address = AddressIn()
    recipient = RecipientIn()
    external_id = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    tip_cents = serializers.IntegerField(min_value=0, max_value=100_000, default=0)

    def validate(self, attrs):
        if attrs.get("quote_id"):
            if attrs.get("store_id") or attrs.get("items"):
                raise serializers.ValidationError(
                    "Give a quote_id or store_id with items, not both."
                )
        elif not attrs.get("store_id") or not attrs.get("items"):
            raise serializers.ValidationError("Give a quote_id, or store_id with items.")
        return attrs


class LineOut(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product_id", "sku", "title", "quantity", "unit_price_cents"]


class EventOut(serializers.ModelSerializer):
    sequence = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor_display")

    class Meta:
        model = OrderEvent
        fields = ["sequence", "from_status", "to_status", "note", "actor", "created_at"]

    def get_sequence(self, event) -> int:
        return self.context.get("sequence", {}).get(event.pk, 0)


_DATETIME = serializers.DateTimeField()
_SAMPLE_GROUP = uuid.UUID(int=0)


class ProofOut(serializers.Serializer):
    delivered_at = serializers.DateTimeField(source="created_at")
    pin_verified = serializers.BooleanField()
    photo = serializers.BooleanField(source="photo.name", help_text="Whether a photo was taken.")
    recipient_name = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)


class OrderOut(serializers.ModelSerializer):
    id = serializers.CharField(source="number")
    external_id = serializers.CharField(source="external_ref")
    store = StoreRef()
    lines = LineOut(many=True)
    eta = serializers.DateTimeField(source="promised_by")
    tracking_url = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    proof_of_delivery = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "status",
            "status_reason",
            "store",
            "lines",
            "subtotal_cents",
            "fee_cents",
            "tip_cents",
            "total_cents",
            "bags",
            "placed_at",
            "eta",
            "ready_by",
            "ready_at",
            "picked_up_at",
            "delivered_at",
            "tracking_url",
            "test_mode",
            "events",
            "proof_of_delivery",
        ]

    def to_representation(self, order):
        """The declared fields above, written out: DRF's field-by-field walk cost most of a
        50-order page. tests/api/test_orders.py checks it against the generic one."""
        when = _DATETIME.to_representation
        store = order.store
        return {
            "id": order.number,
            "external_id": order.external_ref,
            "status": order.status,
            "status_reason": order.status_reason,
            "store": {
                "id": store.id,
                "slug": store.slug,
                "name": store.name,
                "mall": store.mall.name,
            },
            "lines": [
                {
                    "id": line.id,
                    "product_id": line.product_id,
                    "sku": line.sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                }
                for line in order.lines.all()
            ],
            "subtotal_cents": order.subtotal_cents,
            "fee_cents": order.fee_cents,
            "tip_cents": order.tip_cents,
            "total_cents": order.total_cents,
            "bags": order.bags,
            "placed_at": when(order.placed_at) if order.placed_at else None,
            "eta": when(order.promised_by) if order.promised_by else None,
            "ready_by": when(order.ready_by) if order.ready_by else None,
            "ready_at": when(order.ready_at) if order.ready_at else None,
            "picked_up_at": when(order.picked_up_at) if order.picked_up_at else None,
            "delivered_at": when(order.delivered_at) if order.delivered_at else None,
            "tracking_url": self.get_tracking_url(order),
            "test_mode": order.test_mode,
            "events": self.get_events(order),
            "proof_of_delivery": self.get_proof_of_delivery(order),
        }

    def get_tracking_url(self, order) -> str:
        # reverse() once per page, not per order: the group is the only part that changes.
        base = self.context.setdefault(
            "_tracking_base",
            settings.MALLRUN_SITE_URL.rstrip("/")
            + reverse("shop:track", kwargs={"group": _SAMPLE_GROUP}),
        )
        return base.replace(str(_SAMPLE_GROUP), str(order.group))

    @extend_schema_field(EventOut(many=True))
    def get_events(self, order):
        # EventOut's shape, written out: building a ModelSerializer per order cost more than
        # the rest of a 50-order page (tests/api check both give the same JSON).
        return [
            {
                "sequence": sequence,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "actor": e.actor_display,
                "created_at": _DATETIME.to_representation(e.created_at),
            }
            for sequence, e in enumerate(order.events.all(), start=1)
        ]

    @extend_schema_field(ProofOut(allow_null=True))
    def get_proof_of_delivery(self, order):
        proof = getattr(order, "proof", None)
        try:
            return ProofOut(proof).data if proof is not None else None
        except Exception:  # noqa: BLE001 - a missing related row reads as no proof
            return None


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


# --- Inventory --------------------------------------------------------------------------


class InventoryRowIn(serializers.Serializer):
    sku = serializers.CharField(max_length=200, allow_blank=True)
    title = serializers.CharField(max_length=400, allow_blank=True)
    price_cents = serializers.IntegerField(min_value=0)
    category = serializers.CharField(max_length=200, allow_blank=True)
    quantity = serializers.IntegerField(min_value=0)


class InventoryIn(serializers.Serializer):
    items = InventoryRowIn(many=True, max_length=5000, allow_empty=False)


class InventoryOut(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


# --- Store order actions ----------------------------------------------------------------


class AcceptIn(serializers.Serializer):
    prep_minutes = serializers.IntegerField(required=False, min_value=1, max_value=240)


class ReadyIn(serializers.Serializer):
    bags = serializers.IntegerField(required=False, min_value=1, max_value=50)


class HandOverIn(serializers.Serializer):
    handover_code = serializers.CharField(max_length=12)


class UnavailableIn(serializers.Serializer):
    available = serializers.IntegerField(min_value=0, default=0)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Driver -----------------------------------------------------------------------------


class StopOut(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    store = serializers.CharField(source="store.name", allow_null=True, default=None)
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    address = serializers.CharField(source="order.address.one_line", allow_null=True, default=None)
    planned_arrival = serializers.DateTimeField(allow_null=True)


class RouteOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    mall = serializers.CharField(source="mall.name")
    handover_code = serializers.CharField()
    planned_km = serializers.FloatField()
    planned_minutes = serializers.IntegerField()
    stops = StopOut(many=True)


class OfferOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    pay_cents = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    route = RouteOut()


class DeliverIn(serializers.Serializer):
    pin = serializers.RegexField(r"^\d{4}$", required=False)
    photo = serializers.ImageField(required=False)
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)


class DriverTokenIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    name = serializers.CharField(
        max_length=80,
        required=False,
        allow_blank=True,
        default="",
        help_text="The device, shown to the driver and ops, e.g. 'Pixel 8'.",
    )


class DriverTokenOut(serializers.Serializer):
    prefix = serializers.CharField(help_text="The token's first characters, to tell it apart.")
    name = serializers.CharField()
    driver = serializers.CharField(source="driver.user.username")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class DriverTokenCreated(DriverTokenOut):
    token = serializers.CharField(help_text="mrd_…: shown in this response only.")


class DeclineIn(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SandboxAdvanceIn(serializers.Serializer):
    to = serializers.ChoiceField(
        choices=[
            "",
            "accepted",
            "ready",
            "picked_up",
            "delivered",
            "delivery_failed",
            "returned",
            "rejected",
            "cancelled",
        ],
        required=False,
        default="",
        help_text="Where to take the order; empty: one step along the happy path.",
    )


# --- Webhooks ---------------------------------------------------------------------------


class WebhookEndpointIn(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[]), required=False, default=list
    )

    def __init__(self, *args, **kwargs):
        from orders.webhooks import EVENT_TYPES

        super().__init__(*args, **kwargs)
        self.fields["events"].child.choices = EVENT_TYPES


class WebhookEndpointOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    test_mode = serializers.BooleanField(
        help_text="Made with a test-mode key: hears sandbox orders only."
    )
    created_at = serializers.DateTimeField()


class WebhookEndpointCreated(WebhookEndpointOut):
    secret = serializers.CharField(help_text="whsec_…: shown at creation and rotation only.")


class WebhookAttemptOut(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField()
    error = serializers.CharField()


class WebhookDeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    message_id = serializers.CharField()
    endpoint_id = serializers.IntegerField()
    event_type = serializers.CharField()
    order = serializers.CharField(source="order.number", allow_null=True, default=None)
    sequence = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    log = WebhookAttemptOut(many=True)
