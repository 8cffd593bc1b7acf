"""Every write the retailer portal makes to a store: stock, catalog (and its CSV import),
settings, pausing, closures and staff.

Each function checks the actor through orders.permissions, runs in one transaction and
leaves nothing half-written. Order changes are not here: they live in orders.services.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from orders.permissions import Actor, check_store_manager
from retailers import clock
from retailers.audit import audit_record, snapshot
from retailers.models import (
    Product,
    Stock,
    StockAdjustment,
    Store,
    StoreClosure,
    StoreHours,
    StoreMembership,
)


class StoreError(Exception):
    """A business rule refused the change; the message is meant for the person acting."""


def _actor_fields(actor: Actor) -> dict:
    return {"actor_user": actor.user if actor.user_id else None, "actor_label": actor.label}


# --- Stock ---------------------------------------------------------------------------------


def stock_adjust(
    *,
    store: Store,
    product: Product,
    actor: Actor,
    delta: int,
    reason: str,
    note: str = "",
) -> Stock:
    """Add or remove units on hand, with a reason kept as history.

    Guarantees: never below the units reserved for open orders (so stock never goes
    negative), concurrent adjustments add up (an F() update on a locked row).
    """
    check_store_manager(actor, store)
    if product.retailer_id != store.retailer_id:
        raise StoreError("That product is not sold by this store.")
    if delta == 0:
        raise StoreError("Enter a change other than zero.")
    if reason not in StockAdjustment.Reason.values:
        raise StoreError("Choose a reason.")
    with transaction.atomic():
        row, _ = Stock.objects.select_for_update().get_or_create(store=store, product=product)
        if row.on_hand + delta < row.reserved:
            raise StoreError(
                f"Only {row.on_hand} on hand and {row.reserved} promised to open orders: "
                f"you can remove at most {row.on_hand - row.reserved}."
            )
        Stock.objects.filter(pk=row.pk).update(on_hand=F("on_hand") + delta)
        row.refresh_from_db()
        StockAdjustment.objects.create(
            stock=row,
            delta=delta,
            on_hand_after=row.on_hand,
            reason=reason,
            note=note.strip()[:300],
            created_at=clock.now(),
            **_actor_fields(actor),
        )
        return row


# --- Catalog -------------------------------------------------------------------------------


def product_save(
    *, store: Store, actor: Actor, product: Product | None = None, **values
) -> Product:
    """Create a product of the store's retailer (with a stock row here) or change one.

    `values` are already validated by a form (sku, title, description, price_cents,
    category, bags, is_active, image).
    """
    check_store_manager(actor, store)
    with transaction.atomic():
        if product is None:
            product = Product(retailer_id=store.retailer_id)
        elif product.retailer_id != store.retailer_id:
            raise StoreError("That product is not sold by this store.")
        sku = values.get("sku", product.sku)
        clash = Product.objects.filter(retailer_id=store.retailer_id, sku=sku)
        if product.pk:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            raise StoreError(f"Another product already uses SKU {sku}.")
        for name, value in values.items():
            if name == "image" and value is None:
                continue
            setattr(product, name, value)
        product.save()
        Stock.objects.get_or_create(store=store, product=product)
        return product


IMPORT_HEADERS = ("sku", "title", "price", "category", "quantity")


@dataclass
class ImportRow:
    line: int  # line number in the file (the header is line 1)
    sku: str = ""
    title: str = ""
    price_cents: int = 0
    category: str = ""
    quantity: int = 0
    errors: list[str] = field(default_factory=list)
    action: str = ""  # "new", "update", "unchanged" (set by the dry run)


@dataclass
class ImportPlan:
    rows: list[ImportRow]
    file_error: str = ""

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def good_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.good_rows if r.action == action)

    @property
    def count_new(self) -> int:
        return self.count("new")

    @property
    def count_update(self) -> int:
        return self.count("update")

    @property
    def count_unchanged(self) -> int:
        return self.count("unchanged")


def _cents(raw: str) -> int:
    value = Decimal(raw.replace("$", "").replace(",", "").strip())
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > Decimal("1000000"):
        raise InvalidOperation
    return int(value * 100)


def catalog_import_parse(data: bytes) -> ImportPlan:
    """Read a catalog CSV (sku,title,price,category,quantity) and check each row on its own.

    Never raises for bad content: a wrong encoding or missing headers is a `file_error`,
    anything wrong with a row is listed on that row.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ImportPlan(
            rows=[],
            file_error=f"The file is not UTF-8 text (byte {exc.start}). Save it as "
            "“CSV UTF-8” and try again.",
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ImportPlan(rows=[], file_error="The file is empty.")
    except csv.Error as exc:
        return ImportPlan(rows=[], file_error=f"This is not a readable CSV file: {exc}.")
    missing = [h for h in IMPORT_HEADERS if h not in header]
    if missing:
        return ImportPlan(
            rows=[],
            file_error="The first line must name the columns "
            f"{', '.join(IMPORT_HEADERS)}; missing: {', '.join(missing)}.",
        )
    index = {h: header.index(h) for h in IMPORT_HEADERS}
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line += 1
            rows.append(ImportRow(line=line, errors=[f"Unreadable line: {exc}."]))
            continue
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        row = ImportRow(line=line)
        rows.append(row)
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))

        def cell(name: str, cells=cells) -> str:
            return cells[index[name]].strip()

        row.sku, row.title, row.category = cell("sku"), cell("title"), cell("category")
        if not row.sku:
            row.errors.append("SKU is empty.")
        elif len(row.sku) > 64:
            row.errors.append("SKU is longer than 64 characters.")
        elif row.sku in seen:
            row.errors.append(f"SKU {row.sku} is also on line {seen[row.sku]}.")
        else:
            seen[row.sku] = line
        if not row.title:
            row.errors.append("Title is empty.")
        elif len(row.title) > 200:
            row.errors.append("Title is longer than 200 characters.")
        if not row.category:
            row.errors.append("Category is empty.")
        elif len(row.category) > 80:
            row.errors.append("Category is longer than 80 characters.")
        try:
            row.price_cents = _cents(cell("price"))
        except (InvalidOperation, ValueError):
            row.errors.append(f"Price “{cell('price')}” is not an amount like 12.99.")
        try:
            row.quantity = int(cell("quantity"))
            if row.quantity < 0:
                raise ValueError
        except ValueError:
            row.errors.append(f"Quantity “{cell('quantity')}” is not a whole number ≥ 0.")
    if not rows:
        return ImportPlan(rows=[], file_error="The file has a header but no rows.")
    return ImportPlan(rows=rows)


def catalog_import_preview(*, store: Store, plan: ImportPlan) -> ImportPlan:
    """Dry run: say what each good row would do, and find rows the database would refuse
    (a quantity below what open orders already hold). Writes nothing."""
    _classify(store, plan, locked=False)
    return plan


def products_by_sku(retailer_id: int, skus: list[str]) -> dict[str, Product]:
    """The retailer's products with these SKUs, in chunks (SQLite's limit on parameters)."""
    products = {}
    for i in range(0, len(skus), 900):
        products.update(
            (p.sku, p)
            for p in Product.objects.filter(retailer_id=retailer_id, sku__in=skus[i : i + 900])
        )
    return products


def _classify(store: Store, plan: ImportPlan, *, locked: bool):
    products = products_by_sku(store.retailer_id, [r.sku for r in plan.good_rows])
    stock_qs = Stock.objects.filter(store=store)
    if locked:
        stock_qs = stock_qs.select_for_update()
    stocks = {s.product_id: s for s in stock_qs}
    for row in plan.good_rows:
        product = products.get(row.sku)
        stock = stocks.get(product.pk) if product else None
        if stock is not None and row.quantity < stock.reserved:
            row.errors.append(
                f"Quantity {row.quantity} is below the {stock.reserved} promised to open orders."
            )
            continue
        if product is None:
            row.action = "new"
        elif (
            product.title == row.title
            and product.price_cents == row.price_cents
            and product.category == row.category
            and stock is not None
            and stock.on_hand == row.quantity
        ):
            row.action = "unchanged"
        else:
            row.action = "update"
    return products, stocks


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: int


def catalog_import_apply(
    *, store: Store, actor: Actor, plan: ImportPlan, skip_bad_rows: bool = False
) -> ImportResult:
    """Upsert the store's catalog by SKU and set its quantities on hand, all or nothing.

    Guarantees: with any bad row nothing is written unless `skip_bad_rows` (then exactly the
    good rows are); the store's stock rows are locked while it runs, so a quantity is never
    set below what an order reserved meanwhile; each quantity change is a StockAdjustment.
    Bulk statements keep 5 000 rows to a handful of queries.
    """
    check_store_manager(actor, store)
    if plan.file_error:
        raise StoreError(plan.file_error)
    now = clock.now()
    with transaction.atomic():
        products, stocks = _classify(store, plan, locked=True)
        if plan.bad_rows and not skip_bad_rows:
            raise StoreError(
                f"{len(plan.bad_rows)} row(s) have errors; nothing was imported. Fix them, "
                "or choose to skip the bad rows."
            )
        good = [r for r in plan.good_rows if r.action in ("new", "update")]
        new = [
            Product(
                retailer_id=store.retailer_id,
                sku=r.sku,
                title=r.title,
                price_cents=r.price_cents,
                category=r.category,
            )
            for r in good
            if r.action == "new"
        ]
        Product.objects.bulk_create(new, batch_size=500)
        if new:
            # Some backends don't return ids from bulk_create: read them back by SKU.
            new_skus = [p.sku for p in new]
            for i in range(0, len(new_skus), 900):
                products.update(
                    (p.sku, p)
                    for p in Product.objects.filter(
                        retailer_id=store.retailer_id, sku__in=new_skus[i : i + 900]
                    )
                )
        changed = []
        for r in good:
            if r.action != "update":
                continue
            p = products[r.sku]
            p.title, p.price_cents, p.category = r.title, r.price_cents, r.category
            changed.append(p)
        Product.objects.bulk_update(changed, ["title", "price_cents", "category"], batch_size=500)
        create_stock, update_stock, history = [], [], []
        for r in good:
            product = products[r.sku]
            row = stocks.get(product.pk)
            before = row.on_hand if row else 0
            if row is None:
                row = Stock(store=store, product=product, on_hand=r.quantity)
                create_stock.append(row)
            elif row.on_hand != r.quantity:
                row.on_hand, row.updated_at = r.quantity, now
                update_stock.append(row)
            if r.quantity != before:
                history.append((row, r.quantity - before, r.quantity))
        Stock.objects.bulk_create(create_stock, batch_size=500)
        Stock.objects.bulk_update(update_stock, ["on_hand", "updated_at"], batch_size=500)
        if any(row.pk is None for row, _, _ in history):
            ids = dict(Stock.objects.filter(store=store).values_list("product_id", "pk"))
            for row, _, _ in history:
                row.pk = row.pk or ids[row.product_id]
        StockAdjustment.objects.bulk_create(
            [
                StockAdjustment(
                    stock_id=row.pk,
                    delta=delta,
                    on_hand_after=after,
                    reason=StockAdjustment.Reason.IMPORT,
                    created_at=now,
                    **_actor_fields(actor),
                )
                for row, delta, after in history
            ],
            batch_size=500,
        )
        return ImportResult(
            created=len(new),
            updated=len(changed),
            unchanged=plan.count("unchanged"),
            skipped=len(plan.bad_rows),
        )


def catalog_export_rows(store: Store):
    """The store's catalog as CSV rows, in the import's own format (round-trips)."""
    yield list(IMPORT_HEADERS)
    rows = (
        Stock.objects.filter(store=store)
        .select_related("product")
        .order_by("product__sku")
        .iterator(chunk_size=1000)
    )
    for s in rows:
        p = s.product
        yield [p.sku, p.title, f"{p.price_cents / 100:.2f}", p.category, s.on_hand]


# --- Settings, pausing, closures ------------------------------------------------------------


@dataclass(frozen=True)
class DayHours:
    weekday: int
    opens_at: dt.time | None  # None: closed that day
    closes_at: dt.time | None


def store_settings_update(
    *,
    store: Store,
    actor: Actor,
    prep_minutes: int,
    acceptance_minutes: int,
    pickup_instructions: str,
    hours: Sequence[DayHours],
) -> Store:
    """Prep time, acceptance window, driver instructions and the week's hours, together."""
    check_store_manager(actor, store)
    if not 1 <= prep_minutes <= 240:
        raise StoreError("Prep time must be between 1 and 240 minutes.")
    if not 1 <= acceptance_minutes <= 120:
        raise StoreError("The acceptance window must be between 1 and 120 minutes.")
    for day in hours:
        if day.opens_at is not None and (day.closes_at is None or day.closes_at <= day.opens_at):
            raise StoreError("A store must close after it opens.")
    settings_fields = ["prep_minutes", "acceptance_minutes", "pickup_instructions"]
    with transaction.atomic():
        before = {
            **snapshot(store, settings_fields),
            "hours": _hours_snapshot(store.hours.all()),
        }
        store.prep_minutes = prep_minutes
        store.acceptance_minutes = acceptance_minutes
        store.pickup_instructions = pickup_instructions.strip()
        store.save(update_fields=settings_fields)
        store.hours.all().delete()
        StoreHours.objects.bulk_create(
            StoreHours(store=store, weekday=d.weekday, opens_at=d.opens_at, closes_at=d.closes_at)
            for d in hours
            if d.opens_at is not None
        )
        after = {**snapshot(store, settings_fields), "hours": _hours_snapshot(hours)}
        audit_record(
            actor=actor,
            action="store.settings",
            obj=store,
            mall=store.mall_id,
            before=before,
            after=after,
        )
    return store


def _hours_snapshot(hours) -> list:
    return [
        [h.weekday, h.opens_at.isoformat(), h.closes_at.isoformat()]
        for h in sorted(hours, key=lambda h: h.weekday)
        if h.opens_at is not None and h.closes_at is not None
    ]


def store_pause(*, store: Store, actor: Actor, until: dt.datetime, reason: str = "") -> Store:
    """Stop taking orders until `until`; the storefront and quotes read it at once."""
    check_store_manager(actor, store)
    if until <= clock.now():
        raise StoreError("Pick a time in the future.")
    fields = ["paused_until", "pause_reason"]
    with transaction.atomic():
        before = snapshot(store, fields)
        store.paused_until = until
        store.pause_reason = reason.strip()[:200] or f"Paused by {actor.label or 'the store'}"
        store.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="store.pause",
            obj=store,
            mall=store.mall_id,
            reason=reason,
            before=before,
            after=snapshot(store, fields),
        )
    return store


def store_resume(*, store: Store, actor: Actor, reason: str = "") -> Store:
    check_store_manager(actor, store)
    fields = ["paused_until", "pause_reason"]
    with transaction.atomic():
        before = snapshot(store, fields)
        store.paused_until = None
        store.pause_reason = ""
        store.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="store.resume",
            obj=store,
            mall=store.mall_id,
            reason=reason,
            before=before,
            after=snapshot(store, fields),
        )
    return store


def store_closure_add(
    *, store: Store, actor: Actor, starts_on: dt.date, ends_on: dt.date, reason: str = ""
) -> StoreClosure:
    check_store_manager(actor, store)
    if ends_on < starts_on:
        raise StoreError("The last day can't be before the first.")
    return StoreClosure.objects.create(
        store=store, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()[:200]
    )


def store_closure_remove(*, closure: StoreClosure, actor: Actor) -> None:
    check_store_manager(actor, closure.store)
    closure.delete()


# --- Staff -------------------------------------------------------------------------------


def _is_last_manager(membership: StoreMembership) -> bool:
    """Lock every manager row of the store (in one order, so two changes queue up rather
    than deadlock) and answer whether `membership` is the only one left. Locking all of
    them means two managers demoting each other at once can't both succeed."""
    managers = list(
        StoreMembership.objects.select_for_update()
        .filter(store_id=membership.store_id, role=StoreMembership.Role.MANAGER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return managers == [membership.pk]


def staff_add(*, store: Store, actor: Actor, email: str, role: str) -> StoreMembership:
    """Give a person (found by email, or a new account for that email) a role at the store.

    A new account has no usable password: it is mailed a link to set one (after commit).
    """
    check_store_manager(actor, store)
    email = email.strip().lower()
    if role not in StoreMembership.Role.values:
        raise StoreError("Choose manager or associate.")
    User = get_user_model()
    with transaction.atomic():
        users = list(User.objects.filter(email__iexact=email)[:2])
        if len(users) > 1:
            raise StoreError("More than one account uses that email; ask ops to add them.")
        if users:
            user = users[0]
        else:
            if User.objects.filter(username__iexact=email).exists():
                raise StoreError("An account with that name exists; ask ops to add them.")
            user = User(username=email, email=email)
            user.set_unusable_password()
            user.save()
            transaction.on_commit(partial(_invite, user.pk, store.pk))
        if StoreMembership.objects.filter(store=store, user=user).exists():
            raise StoreError(f"{email} already works at this store.")
        return StoreMembership.objects.create(store=store, user=user, role=role)


def _invite(user_id: int, store_id: int) -> None:
    from django_q.tasks import async_task

    async_task("retailers.tasks.send_staff_invite", user_id, store_id)


def staff_change_role(*, membership: StoreMembership, actor: Actor, role: str) -> StoreMembership:
    """Change a member's role; the last manager can't step down."""
    check_store_manager(actor, membership.store)
    if role not in StoreMembership.Role.values:
        raise StoreError("Choose manager or associate.")
    with transaction.atomic():
        if role != StoreMembership.Role.MANAGER and _is_last_manager(membership):
            raise StoreError("A store needs at least one manager: make someone else manager first.")
        membership.role = role
        membership.save(update_fields=["role"])
        return membership


def staff_remove(*, membership: StoreMembership, actor: Actor) -> None:
    """Take a person off the store; the last manager can't be removed."""
    check_store_manager(actor, membership.store)
    with transaction.atomic():
        if _is_last_manager(membership):
            raise StoreError("A store needs at least one manager: make someone else manager first.")
        membership.delete()
