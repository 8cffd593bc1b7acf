import secrets
import uuid

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from retailers import clock
from retailers.models import Product, Store


def new_order_number() -> str:
    # Unambiguous letters and digits only: staff read these aloud over the counter.
    alphabet = "ACDEFGHJKLMNPQRTUVWXY34679"
    return "MR-" + "".join(secrets.choice(alphabet) for _ in range(7))


def new_delivery_pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


class ActorKind(models.TextChoices):
    SHOPPER = "shopper", "Shopper"
    STORE = "store", "Store staff"
    DRIVER = "driver", "Driver"
    OPS = "ops", "Operations"
    API = "api", "API client"
    SYSTEM = "system", "System"


class ActorFields(models.Model):
    """Who made a change: a person (user), an API client, or the system (a task, the simulator)."""

    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)

    class Meta:
        abstract = True

    @property
    def actor_display(self) -> str:
        return self.actor_label or self.get_actor_kind_display()


class Shopper(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shopper"
    )

    class Notify(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"
        BOTH = "both", "Email and text"

    phone = models.CharField(max_length=32, blank=True)
    notify_by = models.CharField(max_length=8, choices=Notify.choices, default=Notify.BOTH)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class Address(models.Model):
    shopper = models.ForeignKey(
        Shopper, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(max_length=40, blank=True, help_text="e.g. Home, Work")
    line1 = models.CharField("Street address", max_length=200)
    line2 = models.CharField("Apartment, suite", max_length=100, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP code", max_length=10)
    latitude = models.FloatField()
    longitude = models.FloatField()
    instructions = models.CharField("Drop-off instructions", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180)
                & Q(longitude__lte=180),
                name="address_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.one_line

    @property
    def one_line(self) -> str:
        unit = f" {self.line2}" if self.line2 else ""
        return f"{self.line1}{unit}, {self.city}, {self.state} {self.zip_code}"


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        ACCEPTED = "accepted", "Accepted"
        READY = "ready", "Ready for pick-up"
        PICKED_UP = "picked_up", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        DELIVERY_FAILED = "delivery_failed", "Delivery failed"
        RETURNED = "returned", "Returned to store"
        REJECTED = "rejected", "Rejected by store"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.PLACED, Status.ACCEPTED, Status.READY, Status.PICKED_UP)
    FINAL_STATUSES = (Status.DELIVERED, Status.RETURNED, Status.REJECTED, Status.CANCELLED)

    class Channel(models.TextChoices):
        STOREFRONT = "storefront", "Storefront"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        SIMULATOR = "simulator", "Simulator"

    number = models.CharField(max_length=16, unique=True, default=new_order_number)
    group = models.UUIDField(
        default=uuid.uuid4, db_index=True, help_text="Orders from one checkout share a group."
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    shopper = models.ForeignKey(
        Shopper, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="orders")
    recipient_name = models.CharField(max_length=120)
    recipient_phone = models.CharField(max_length=32, blank=True)
    recipient_email = models.EmailField(blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.STOREFRONT)
    partner = models.CharField(
        max_length=80, blank=True, help_text="The marketplace that sent the order, if any."
    )
    external_ref = models.CharField(max_length=80, blank=True)
    test_mode = models.BooleanField(
        default=False, help_text="Placed with a sandbox API key: may be advanced by hand."
    )

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    status_reason = models.CharField(max_length=300, blank=True)

    subtotal_cents = models.PositiveIntegerField()
    fee_cents = models.PositiveIntegerField(default=0)
    tip_cents = models.PositiveIntegerField(default=0)
    total_cents = models.PositiveIntegerField()
    bags = models.PositiveSmallIntegerField(default=1)

    placed_at = models.DateTimeField(db_index=True)
    promised_by = models.DateTimeField(help_text="Latest promised delivery time.")
    prep_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    ready_by = models.DateTimeField(null=True, blank=True, help_text="Store's estimate.")
    ready_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    attention = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why ops should look at this order now (slow to accept, promise at risk).",
    )
    attention_since = models.DateTimeField(null=True, blank=True)

    delivery_pin = models.CharField(max_length=4, default=new_delivery_pin)
    tracking_token = models.CharField(max_length=32, unique=True, default=new_tracking_token)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["store", "status"], name="order_store_status"),
            models.Index(fields=["status", "promised_by"], name="order_status_promise"),
            # The API's order list for a partner key, newest first (orders/api/representations.py):
            # read in order from the index and stopped after a page, whatever the statistics say.
            models.Index(fields=["partner", "-id"], name="order_partner_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cents=F("subtotal_cents") + F("fee_cents") + F("tip_cents")),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "placed",
                        "accepted",
                        "ready",
                        "picked_up",
                        "delivered",
                        "delivery_failed",
                        "returned",
                        "rejected",
                        "cancelled",
                    ]
                ),
                name="order_status_valid",
            ),
            models.CheckConstraint(condition=Q(bags__gte=1), name="order_bags_positive"),
            models.UniqueConstraint(
                fields=["partner", "external_ref"],
                condition=~Q(external_ref=""),
                name="order_external_ref_once_per_partner",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def mall(self):
        return self.store.mall

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField(max_length=200)
    unit_price_cents = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    picked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_product_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


class OrderEvent(ActorFields):
    """One row per change of an order's status: the history people read and tasks react to."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    # The shopper's message for this event: claimed before sending, marked sent after, so a
    # task run twice (a worker killed and its task handed out again) doesn't message twice.
    notice_claimed_at = models.DateTimeField(null=True, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_channels = models.JSONField(
        default=list, blank=True, help_text="Channels sent (email, sms): a retry skips them."
    )
    # Its webhooks are still to be written (the fan-out task hasn't run): a later event's
    # delivery writes them first, so it can't overtake this one. Muted history never is.
    webhooks_due = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order}: {self.from_status or '∅'} → {self.to_status}"

    @property
    def to_label(self) -> str:
        return Order.Status(self.to_status).label


class IdempotencyKey(models.Model):
    """A client's promise that a retried request means the same request.

    The unique (scope, key) row is inserted inside the same transaction that creates the
    orders, so two concurrent retries cannot both create: the second waits, then finds it.
    """

    scope = models.CharField(max_length=80, help_text="Whose key: a user, an API key.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request.")
    group = models.UUIDField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    # The one clock (retailers.clock), as the 24-hour expiry reads it.
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class Quote(models.Model):
    """What Mallrun promised for one store, one address and a basket, for 15 minutes.

    Kept so the API can place an order from a quote id, and so a promise can be audited.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="quotes")
    latitude = models.FloatField()
    longitude = models.FloatField()
    items = models.JSONField(default=list, help_text="[[product_id, quantity], …]")
    eligible = models.BooleanField()
    reasons = models.JSONField(default=list, help_text="[{code, message}, …] when not eligible")
    fee_cents = models.PositiveIntegerField(default=0)
    distance_km = models.DecimalField(max_digits=6, decimal_places=2)
    ready_by = models.DateTimeField(null=True, blank=True)
    promised_by = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(eligible=False) | Q(promised_by__isnull=False),
                name="quote_eligible_has_promise",
            )
        ]

    def __str__(self) -> str:
        return f"Quote {self.pk} · {self.store}"


class Cart(models.Model):
    """A shopper's basket: a signed-in person's (one per user) or an anonymous session's.

    Lines may come from several stores of one mall; each line remembers the price the shopper
    saw, so checkout can say what changed since.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.user or 'anonymous'})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    seen_price_cents = models.PositiveIntegerField(help_text="The price shown when it was added.")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["store_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "store", "product"], name="cart_line_once"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="cart_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id} @ {self.store_id}"


class Payment(models.Model):
    """A card authorisation for one checkout (a group of orders), from the payment provider."""

    class Status(models.TextChoices):
        AUTHORIZED = "authorized", "Authorized"
        DECLINED = "declined", "Declined"
        VOIDED = "voided", "Voided"

    reference = models.CharField(
        max_length=80, unique=True, help_text="Our idempotency reference for the provider."
    )
    group = models.UUIDField(null=True, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=40)
    provider_id = models.CharField(max_length=80, blank=True)
    amount_cents = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    card_last4 = models.CharField(max_length=4, blank=True)
    message = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.reference}: {self.status} {self.amount_cents / 100:.2f}"


# --- API v1 and webhooks ------------------------------------------------------------------


class ApiScope(models.TextChoices):
    AVAILABILITY_READ = "availability:read", "Read availability"
    QUOTES_WRITE = "quotes:write", "Create quotes"
    ORDERS_READ = "orders:read", "Read orders"
    ORDERS_WRITE = "orders:write", "Create and cancel orders"
    INVENTORY_WRITE = "inventory:write", "Upsert store inventory"
    STORE_ORDERS_WRITE = "store_orders:write", "Act on store orders"
    WEBHOOKS_WRITE = "webhooks:write", "Manage webhook endpoints and see deliveries"


class ApiKey(models.Model):
    """A secret for one partner (marketplace) or one retailer. Only its SHA-256 is stored;
    the prefix is shown so people can tell keys apart."""

    name = models.CharField(max_length=80, help_text="What the key is for, e.g. 'Shopify sync'.")
    partner = models.CharField(max_length=80, blank=True, help_text="Marketplace name.")
    retailer = models.ForeignKey(
        "retailers.Retailer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    prefix = models.CharField(max_length=24, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    test_mode = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(partner="") & Q(retailer__isnull=False))
                | (~Q(partner="") & Q(retailer__isnull=True)),
                name="api_key_partner_xor_retailer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.owner_label})"

    @property
    def owner_label(self) -> str:
        return self.partner or f"retailer:{self.retailer.slug}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class DriverToken(models.Model):
    """A driver's sign-in from a native app (`mrd_…`). Only its SHA-256 is stored; the prefix
    tells tokens apart. It works on the driver endpoints of the API and nowhere else."""

    driver = models.ForeignKey(
        "drivers.Driver", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=80, blank=True, help_text="The device, as the app named it, e.g. 'Pixel 8'."
    )
    prefix = models.CharField(max_length=24, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "driver token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.driver})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SharedCounter(models.Model):
    """A named number bumped by one atomic upsert (`orders.api.throttling.bump_counter`):
    API requests per caller and time window, and the boards' versions
    (orders/board_cache.py)."""

    key = models.CharField(max_length=150, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class SignInThrottle(models.Model):
    """Sign-in attempts counted per account name or per address (config/login_throttle.py).

    A row, not a cache entry: the count is taken under a row lock before the password is
    checked, so parallel guesses can't slip past the limit, and no flood of other cache keys
    can push a lock out."""

    key = models.CharField(max_length=120, unique=True, help_text="user:<hash> or ip:<address>")
    attempts = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class WebhookEndpoint(models.Model):
    """Where a partner or retailer wants order events posted (Standard Webhooks signing)."""

    partner = models.CharField(max_length=80, blank=True)
    retailer = models.ForeignKey(
        "retailers.Retailer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="whsec_… (base64 after the prefix).")
    events = models.JSONField(default=list, blank=True, help_text="Empty: every event.")
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(
        null=True, blank=True, help_text="After a rotation both secrets sign until then."
    )
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure since the last success."
    )
    disabled_reason = models.CharField(max_length=200, blank=True)
    test_mode = models.BooleanField(
        default=False,
        help_text="A sandbox endpoint: hears test-mode (sandbox) orders only; a live one only "
        "live orders.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(partner="") & Q(retailer__isnull=False))
                | (~Q(partner="") & Q(retailer__isnull=True)),
                name="webhook_endpoint_partner_xor_retailer",
            )
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint, tried until it succeeds or 24 hours have passed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=40)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    sequence = models.PositiveIntegerField(default=0, help_text="Per order, in event order.")
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at}: {self.status_code or self.error}"


class WebSession(AbstractBaseSession):
    """A browser's session: Django's session row plus who is signed in with it, so a request
    reads its session and its user in one query (config/sessions.py) and ops can sign a
    person out everywhere."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        # No database constraint: a session may outlive a deleted user's row for a moment;
        # the join then finds nobody and the visitor is signed out.
        db_constraint=False,
        related_name="web_sessions",
    )

    class Meta:
        verbose_name = "session"

    @classmethod
    def get_session_store_class(cls):
        from config.sessions import SessionStore

        return SessionStore
