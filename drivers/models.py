import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from config.storage import private_storage
from orders.models import ActorFields, Order
from retailers.models import Mall, Store


def new_handover_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


class Driver(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Application pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUSPENDED = "suspended", "Suspended"

    class Vehicle(models.TextChoices):
        CAR = "car", "Car"
        SUV = "suv", "SUV"
        VAN = "van", "Van"
        SCOOTER = "scooter", "Scooter"
        BIKE = "bike", "Bicycle"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="driver"
    )
    phone = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=300, blank=True)
    vehicle_type = models.CharField(max_length=16, choices=Vehicle.choices, default=Vehicle.CAR)
    capacity_bags = models.PositiveSmallIntegerField(default=12)
    plate = models.CharField("Licence plate", max_length=16, blank=True)
    home_mall = models.ForeignKey(
        Mall, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    licence_photo = models.ImageField(upload_to="licences/", storage=private_storage, blank=True)
    is_online = models.BooleanField(default=False)
    online_mall = models.ForeignKey(
        Mall, null=True, blank=True, on_delete=models.SET_NULL, related_name="online_drivers"
    )
    last_latitude = models.FloatField(null=True, blank=True)
    last_longitude = models.FloatField(null=True, blank=True)
    last_located_at = models.DateTimeField(null=True, blank=True)
    idle_since = models.DateTimeField(null=True, blank=True)
    offline_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the system last set this driver offline."
    )
    consented_at = models.DateTimeField(
        null=True, blank=True, help_text="When the driver agreed to the terms and background check."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_online=False) | Q(status="approved", online_mall__isnull=False),
                name="driver_online_only_when_approved_at_a_mall",
            ),
            models.CheckConstraint(
                condition=Q(capacity_bags__gte=1), name="driver_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class Block(models.Model):
    """A shift at a mall that drivers book in advance, with a guaranteed minimum pay."""

    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="blocks")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    slots = models.PositiveSmallIntegerField(default=5)
    guaranteed_pay_cents = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="block_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(slots__gte=1), name="block_slots_positive"),
        ]

    def __str__(self) -> str:
        local = self.mall.local(self.starts_at)
        return f"{self.mall} {local:%a %b %d %H:%M} ({self.duration_hours:g} h)"

    @property
    def duration_hours(self) -> float:
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 2)


class BlockBooking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        FORFEITED = "forfeited", "Forfeited"

    block = models.ForeignKey(Block, on_delete=models.CASCADE, related_name="bookings")
    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="bookings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    booked_at = models.DateTimeField()
    forfeited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["block", "driver"],
                condition=Q(status="booked"),
                name="block_booked_once_per_driver",
            )
        ]

    def __str__(self) -> str:
        return f"{self.driver} · {self.block} ({self.status})"


class Route(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        PICKING_UP = "picking_up", "Picking up"
        DELIVERING = "delivering", "Delivering"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    HELD_STATUSES = (Status.ACCEPTED, Status.PICKING_UP, Status.DELIVERING)
    ACTIVE_STATUSES = (Status.PLANNED, Status.OFFERED, *HELD_STATUSES)

    mall = models.ForeignKey(Mall, on_delete=models.PROTECT, related_name="routes")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.PROTECT, related_name="routes"
    )
    policy = models.CharField(max_length=32, blank=True, help_text="How dispatch planned it.")
    handover_code = models.CharField(
        max_length=6, default=new_handover_code, help_text="The driver shows it to store staff."
    )
    planned_km = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    planned_minutes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["accepted", "picking_up", "delivering", "completed"])
                | Q(driver__isnull=False),
                name="route_held_has_driver",
            ),
            models.UniqueConstraint(
                fields=["driver"],
                condition=Q(status__in=["accepted", "picking_up", "delivering"]),
                name="driver_one_active_route",
            ),
        ]

    def __str__(self) -> str:
        return f"Route {self.pk} · {self.mall} ({self.status})"

    @property
    def pay_cents(self) -> int:
        return sum(line.amount_cents for line in self.pay_lines.all())


class RouteStop(models.Model):
    class Kind(models.TextChoices):
        PICKUP = "pickup", "Pick-up"
        DROPOFF = "dropoff", "Drop-off"
        RETURN = "return", "Return to store"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ARRIVED = "arrived", "Arrived"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    sequence = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=Kind.choices)
    store = models.ForeignKey(
        Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="route_stops"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    planned_arrival = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    wrong_pin_attempts = models.PositiveSmallIntegerField(default=0)
    fail_reason = models.CharField(max_length=200, blank=True)
    fail_photo = models.ImageField(upload_to="failed/", storage=private_storage, blank=True)

    class Meta:
        ordering = ["route", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["route", "sequence"], name="stop_sequence_unique"),
            models.CheckConstraint(
                condition=(Q(kind="pickup", store__isnull=False, order__isnull=True))
                | Q(kind="dropoff", order__isnull=False)
                | Q(kind="return", store__isnull=False, order__isnull=False),
                name="stop_kind_fields",
            ),
            # An order rides on at most one live route at a time.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(kind="dropoff") & ~Q(status="cancelled"),
                name="order_on_one_route",
            ),
        ]

    def __str__(self) -> str:
        target = self.store if self.kind == self.Kind.PICKUP else self.order
        return f"{self.sequence}. {self.get_kind_display()} {target}"


class RouteEvent(ActorFields):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.route}: {self.from_status or '∅'} → {self.to_status}"


class Offer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="offers")
    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    pay_cents = models.PositiveIntegerField(help_text="Total pay shown to the driver.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["route"],
                condition=Q(status="accepted"),
                name="offer_one_accepted_per_route",
            ),
            models.UniqueConstraint(
                fields=["route", "driver"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_driver",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="offer_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer {self.pk}: route {self.route_id} → {self.driver} ({self.status})"


class ProofOfDelivery(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="proof")
    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="proofs")
    photo = models.ImageField(upload_to="proofs/", storage=private_storage, blank=True)
    pin_verified = models.BooleanField(default=False)
    recipient_name = models.CharField(max_length=120, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "proofs of delivery"

    def __str__(self) -> str:
        return f"Proof for {self.order}"


class PayLine(models.Model):
    class Kind(models.TextChoices):
        BASE = "base", "Base"
        PER_STOP = "per_stop", "Per drop-off"
        PER_KM = "per_km", "Per km"
        BOOST = "boost", "Boost"
        TIP = "tip", "Tip"
        GUARANTEE = "guarantee", "Block guarantee top-up"
        ADJUSTMENT = "adjustment", "Adjustment"

    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.CASCADE, related_name="pay_lines"
    )
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.PROTECT, related_name="pay_lines"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=200, blank=True)
    amount_cents = models.IntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="adjustment") | Q(amount_cents__gte=0),
                name="payline_only_adjustments_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount_cents / 100:.2f}"


# --- Dispatch (drivers/dispatch) ----------------------------------------------------------


class DispatchLock(models.Model):
    """One row per mall: a cycle runs only while it holds the lease.

    Claimed with a conditional UPDATE (free or lease expired → mine) whose row count says who
    won, so it works the same on PostgreSQL and SQLite; a crashed worker's lease runs out.
    """

    mall = models.OneToOneField(Mall, on_delete=models.CASCADE, related_name="dispatch_lock")
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    rerun = models.BooleanField(
        default=False, help_text="Something changed while a cycle ran: run once more."
    )

    def __str__(self) -> str:
        return f"Dispatch lock · {self.mall}"


class DispatchRun(models.Model):
    """One dispatch cycle at a mall: what it found, how it planned, how long it took."""

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped (another cycle holds the mall)"
        FAILED = "failed", "Failed"

    mall = models.ForeignKey(Mall, on_delete=models.CASCADE, related_name="dispatch_runs")
    trigger = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.DONE)
    policy = models.CharField(max_length=32, help_text="The policy asked for.")
    method = models.CharField(max_length=32, blank=True, help_text="What produced the routes.")
    fallback_reason = models.CharField(max_length=300, blank=True)
    time_limit_ms = models.PositiveIntegerField(default=0)
    orders_considered = models.PositiveIntegerField(default=0)
    routes_planned = models.PositiveIntegerField(default=0)
    offers_made = models.PositiveIntegerField(default=0)
    offers_expired = models.PositiveIntegerField(default=0)
    routes_waiting = models.PositiveIntegerField(default=0)
    planned_km = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    solve_ms = models.PositiveIntegerField(default=0)
    cycle_ms = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Dispatch {self.pk} · {self.mall} ({self.outcome})"


class DispatchDecision(models.Model):
    """One decision of a cycle, in order: planned, offered to whom, boosted, waiting…"""

    class Kind(models.TextChoices):
        PLANNED = "planned", "Route planned"
        REPLANNED = "replanned", "Route dissolved for re-planning"
        OFFERED = "offered", "Offered"
        BOOSTED = "boosted", "Pay boosted"
        EXPIRED = "expired", "Offer expired"
        WAITING = "waiting", "No driver: route waits"
        AT_RISK = "at_risk", "Order flagged at risk"
        ERROR = "error", "Refused"

    run = models.ForeignKey(DispatchRun, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    driver = models.ForeignKey(
        Driver, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.detail}"
