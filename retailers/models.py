import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from retailers import clock


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/Chicago).")


class Mall(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField("ZIP code", max_length=10)
    latitude = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    service_radius_km = models.DecimalField(max_digits=5, decimal_places=1, default=15)
    same_day_cutoff = models.TimeField(
        default=dt.time(18, 0), help_text="Local time after which orders are no longer same-day."
    )
    pickup_instructions = models.TextField(
        blank=True, help_text="Where drivers park and meet store staff."
    )
    delivery_fee_cents = models.PositiveIntegerField(default=599)
    pay_base_cents = models.PositiveIntegerField(default=400, help_text="Driver pay per route.")
    pay_per_stop_cents = models.PositiveIntegerField(default=250, help_text="Per drop-off.")
    pay_per_km_cents = models.PositiveIntegerField(default=60)
    is_active = models.BooleanField(default=True)
    is_sandbox = models.BooleanField(
        default=False,
        help_text="The API sandbox (retailers.sandbox): only test-mode API keys see it; never "
        "shown to shoppers, drivers, dispatch or the ops board.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service_radius_km__gt=0), name="mall_radius_positive"
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180)
                & Q(longitude__lte=180),
                name="mall_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)

    def local_now(self) -> dt.datetime:
        return self.local(clock.now())

    @property
    def address_line(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


class Retailer(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    website = models.URLField(blank=True)
    support_email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="stores")
    retailer = models.ForeignKey(Retailer, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(max_length=160)
    slug = models.SlugField(unique=True)
    location_in_mall = models.CharField(
        max_length=160, blank=True, help_text="e.g. Level 2, next to the food court"
    )
    phone = models.CharField(max_length=32, blank=True)
    prep_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    acceptance_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="Minutes staff have to accept a new order before ops is alerted."
    )
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True)
    pickup_instructions = models.TextField(
        blank=True, help_text="For drivers: which door, where to wait, whom to ask."
    )

    class Meta:
        ordering = ["mall__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(prep_minutes__gte=1, prep_minutes__lte=240),
                name="store_prep_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_paused(self, at: dt.datetime | None = None) -> bool:
        at = at or clock.now()
        return self.paused_until is not None and self.paused_until > at

    def hours_on(self, weekday: int) -> "StoreHours | None":
        for hours in self.hours.all():
            if hours.weekday == weekday:
                return hours
        return None

    def closed_on(self, day: dt.date) -> "StoreClosure | None":
        """The special closure covering this local date, if any (uses prefetched closures)."""
        for closure in self.closures.all():
            if closure.starts_on <= day <= closure.ends_on:
                return closure
        return None

    def is_open_at(self, at: dt.datetime | None = None) -> bool:
        local = self.mall.local(at or clock.now())
        if self.closed_on(local.date()) is not None:
            return False
        hours = self.hours_on(local.weekday())
        return hours is not None and hours.opens_at <= local.time() < hours.closes_at


class StoreHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["store", "weekday"]
        verbose_name_plural = "store hours"
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday"], name="store_hours_one_per_day"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="store_hours_close_after_open"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="store_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class StoreMembership(models.Model):
    class Role(models.TextChoices):
        MANAGER = "manager", "Manager"
        ASSOCIATE = "associate", "Associate"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ASSOCIATE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="membership_once_per_store"),
            models.CheckConstraint(
                condition=Q(role__in=["manager", "associate"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.store} ({self.role})"


class Product(models.Model):
    retailer = models.ForeignKey(Retailer, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price_cents = models.PositiveIntegerField()
    category = models.CharField(max_length=80, db_index=True)
    image = models.ImageField(upload_to="products/", blank=True)
    bags = models.PositiveSmallIntegerField(
        default=1, help_text="How many delivery bags one unit takes (for vehicle capacity)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["retailer", "title"]
        constraints = [
            models.UniqueConstraint(fields=["retailer", "sku"], name="product_sku_per_retailer"),
            models.CheckConstraint(
                condition=Q(price_cents__gte=0), name="product_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.sku})"


class Stock(models.Model):
    """How many units of a product a store holds, and how many are promised to open orders."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock")
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.UniqueConstraint(fields=["store", "product"], name="stock_once_per_store"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")),
                name="stock_reserved_within_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.store}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class DeliveryFeeTier(models.Model):
    """Extra delivery fee by distance from the mall: the first tier that reaches the address.

    The fee a shopper pays is the mall's base fee plus the tier's extra; with no tiers, the
    base fee alone.
    """

    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="fee_tiers")
    up_to_km = models.DecimalField(max_digits=5, decimal_places=1)
    extra_cents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["mall", "up_to_km"]
        constraints = [
            models.UniqueConstraint(fields=["mall", "up_to_km"], name="fee_tier_once_per_distance"),
            models.CheckConstraint(condition=Q(up_to_km__gt=0), name="fee_tier_distance_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.mall}: up to {self.up_to_km} km +{self.extra_cents / 100:.2f}"


class StoreClosure(models.Model):
    """A special closure (a holiday, a stocktake): whole local days, first to last inclusive."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["store", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="store_closure_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store}: closed {self.starts_on}–{self.ends_on}"


class StockAdjustment(models.Model):
    """One row per manual change of a store's stock: the history of who changed what and why."""

    class Reason(models.TextChoices):
        RECEIVED = "received", "Delivery received"
        COUNT = "count", "Stock count correction"
        DAMAGED = "damaged", "Damaged or lost"
        IMPORT = "import", "CSV import"
        ORDER = "order", "Order adjustment"
        OTHER = "other", "Other"

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="adjustments")
    delta = models.IntegerField(help_text="Change of units on hand (negative: fewer).")
    on_hand_after = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stock}: {self.delta:+d} ({self.get_reason_display()})"


class AuditEntry(models.Model):
    """One change made by a person or an API key that no other history row records: store
    settings and pauses, driver reviews, ops interventions, admin edits, API keys and webhooks.

    Written only by `retailers.audit.audit_record`; the audit trail reads these together with
    order and route events, stock adjustments and dispatch decisions.
    """

    # The same kinds as orders.models.ActorKind (not imported: orders depends on retailers).
    actor_kind = models.CharField(max_length=16)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(max_length=64, db_index=True, help_text="e.g. store.pause")
    object_type = models.CharField(max_length=64, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    mall = models.ForeignKey(
        Mall, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    reason = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.actor_label or self.actor_kind}: {self.action} {self.object_repr}"
