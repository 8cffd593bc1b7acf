"""The API sandbox: a mall of its own where test-mode API keys (`mr_test_…`) order.

"Mallrun Sandbox" is a mall marked `is_sandbox`: test-mode keys see and act on its stores
only, live keys never see it, and nothing real does either (storefront, dispatch, drivers,
the ops board and metrics, store portals: nobody has a membership there). It has
"Sandbox Outfitters" with a few products, and, for each retailer that uses a test key, a
sandbox store of that retailer stocked with (up to SANDBOX_RETAILER_PRODUCTS of) its own
active products. Stock is large so that orders left open don't run it out.

The mall sits in downtown Los Angeles, in America/Los_Angeles time, its stores open all
day every day and its same-day cut-off at 23:59: a quote is eligible from midnight until
the promised time would fall on the next local day (at the test address about 23:35
Pacific). Integrators far from California test outside those last minutes, like everyone.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from retailers.models import Mall, Product, Retailer, Stock, Store, StoreHours

SANDBOX_MALL_SLUG = "mallrun-sandbox"
OUTFITTERS_STORE_SLUG = "sandbox-outfitters"
SANDBOX_STOCK = 100_000
SANDBOX_RETAILER_PRODUCTS = 50

# The documented test address: inside the sandbox mall's delivery area (and nowhere near a
# real mall, so live keys asking about it find nothing).
TEST_ADDRESS = {
    "line1": "200 N Spring St",
    "city": "Los Angeles",
    "state": "CA",
    "zip_code": "90012",
    "latitude": 34.0537,
    "longitude": -118.2427,
}

MALL_FIELDS = {
    "name": "Mallrun Sandbox",
    "street": "100 Sandbox Way",
    "city": "Los Angeles",
    "state": "CA",
    "zip_code": "90012",
    "latitude": 34.0522,
    "longitude": -118.2437,
    "timezone": "America/Los_Angeles",
    "service_radius_km": 50,
    "same_day_cutoff": dt.time(23, 59),
    "pickup_instructions": "Sandbox: nobody picks anything up here.",
    "is_active": True,
    "is_sandbox": True,
}
OUTFITTERS = {"name": "Sandbox Outfitters", "slug": "sandbox-outfitters-retailer"}
OUTFITTERS_PRODUCTS = [
    # sku, title, price in cents, category
    ("SBX-TEE", "Sandbox T-Shirt", 1500, "Apparel"),
    ("SBX-HOOD", "Sandbox Hoodie", 4500, "Apparel"),
    ("SBX-MUG", "Sandbox Mug", 1200, "Home"),
    ("SBX-CAP", "Sandbox Cap", 2000, "Accessories"),
    ("SBX-BAG", "Sandbox Tote Bag", 1800, "Accessories"),
]
ALL_DAY = (dt.time(0, 0), dt.time(23, 59))


def retailer_store_slug(retailer: Retailer) -> str:
    """The slug of a retailer's sandbox store (the id keeps truncated slugs apart)."""
    return f"sandbox-{retailer.pk}-{retailer.slug}"[:50]


class SandboxSlugTaken(RuntimeError):
    """A real row holds a slug the sandbox uses: nothing real is ever given sandbox stock."""


def _only_sandbox(store: Store) -> Store:
    if not store.mall.is_sandbox:
        raise SandboxSlugTaken(
            f"The store slug {store.slug!r} belongs to a real store at {store.mall.name}; "
            "the sandbox won't touch it (rename one of them)."
        )
    return store


def ensure_sandbox(*, retailer: Retailer | None = None) -> Store:
    """The sandbox mall and Sandbox Outfitters, and with a retailer that retailer's sandbox
    store; returns the retailer's sandbox store, or Sandbox Outfitters.

    Idempotent and safe to race: each row is found by a unique slug or created
    (get_or_create retries the read when a concurrent call inserted first), and hours,
    products and stock are inserted ignoring rows that already exist. When the store is
    there already, this is one query.
    """
    slug = retailer_store_slug(retailer) if retailer is not None else OUTFITTERS_STORE_SLUG
    found = Store.objects.select_related("mall", "retailer").filter(slug=slug).first()
    if found is not None:
        return _only_sandbox(found)
    with transaction.atomic():
        mall, _ = Mall.objects.get_or_create(slug=SANDBOX_MALL_SLUG, defaults=MALL_FIELDS)
        if not mall.is_sandbox:
            raise SandboxSlugTaken(f"The mall slug {SANDBOX_MALL_SLUG!r} belongs to a real mall.")
        outfitters = _outfitters(mall)
        if retailer is None:
            return outfitters
        store, _ = Store.objects.get_or_create(
            slug=slug,
            defaults={
                "mall": mall,
                "retailer": retailer,
                "name": f"{retailer.name} (Sandbox)",
                "location_in_mall": "Sandbox",
                "prep_minutes": 5,
            },
        )
        _only_sandbox(store)
        _open_all_day(store)
        products = list(
            Product.objects.filter(retailer=retailer, is_active=True).order_by("pk")[
                :SANDBOX_RETAILER_PRODUCTS
            ]
        )
        _stock(store, products)
        return store


def _outfitters(mall: Mall) -> Store:
    retailer, _ = Retailer.objects.get_or_create(
        slug=OUTFITTERS["slug"], defaults={"name": OUTFITTERS["name"]}
    )
    store, _ = Store.objects.get_or_create(
        slug=OUTFITTERS_STORE_SLUG,
        defaults={
            "mall": mall,
            "retailer": retailer,
            "name": "Sandbox Outfitters",
            "location_in_mall": "Sandbox",
            "prep_minutes": 5,
        },
    )
    _only_sandbox(store)
    _open_all_day(store)
    Product.objects.bulk_create(
        [
            Product(retailer=retailer, sku=sku, title=title, price_cents=cents, category=cat)
            for sku, title, cents, cat in OUTFITTERS_PRODUCTS
        ],
        ignore_conflicts=True,
    )
    skus = [row[0] for row in OUTFITTERS_PRODUCTS]
    _stock(store, list(Product.objects.filter(retailer=retailer, sku__in=skus)))
    return store


def _open_all_day(store: Store) -> None:
    StoreHours.objects.bulk_create(
        [
            StoreHours(store=store, weekday=day, opens_at=ALL_DAY[0], closes_at=ALL_DAY[1])
            for day in range(7)
        ],
        ignore_conflicts=True,
    )


def _stock(store: Store, products: list[Product]) -> None:
    Stock.objects.bulk_create(
        [Stock(store=store, product=p, on_hand=SANDBOX_STOCK) for p in products],
        ignore_conflicts=True,
    )


def sandbox_catalog_errors(store: Store, plan) -> list[dict]:
    """Rows of an inventory upload to a sandbox store that would change the retailer's real
    catalog: products are shared by all of a retailer's stores, so in the sandbox only
    quantities of existing products may change (title, price and category as they are)."""
    from retailers.services import products_by_sku

    products = products_by_sku(store.retailer_id, [r.sku for r in plan.good_rows])
    errors = []
    for index, row in enumerate(plan.rows):
        if row.errors:
            continue
        product = products.get(row.sku)
        if product is None:
            message = (
                f"SKU {row.sku} is not in the catalog: the sandbox can't add products, "
                "only set quantities of existing ones."
            )
        elif (product.title, product.price_cents, product.category) != (
            row.title,
            row.price_cents,
            row.category,
        ):
            message = (
                f"SKU {row.sku}: the sandbox can't change a product's title, price or "
                "category (send them as they are), only its quantity."
            )
        else:
            continue
        errors.append({"field": f"items.{index}", "row": index, "sku": row.sku, "message": message})
    return errors
