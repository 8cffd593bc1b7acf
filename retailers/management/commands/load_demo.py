"""`manage.py load_demo`: real-looking data at three real malls, and the demo logins.

Malls, stores, catalogs, stock and people are plain rows (retailers/demo_data.py). Every
change that has a service goes through it: drivers are reviewed and go online, blocks are
booked, and each order is placed, accepted, packed, routed, offered, collected, delivered,
failed, returned, rejected or cancelled by the functions the portals call, so events,
stock and routes are exactly as consistent as in real use.

The whole load is one transaction: a failed run leaves nothing behind, and a second run
finds the demo and stops. The random choices use a fixed seed; order numbers, PINs and
hand-over codes stay random, and every timestamp is "now".
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter, defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from drivers.models import Block, BlockBooking, Driver, Offer, Route
from drivers.services import (
    block_book,
    driver_go_online,
    driver_review,
    offer_accept,
    offer_decline,
    route_bags,
    route_offer,
    route_plan,
)
from orders.models import Address, Order, Shopper
from orders.permissions import Actor, home_url_for
from orders.services import (
    CartItem,
    checkout_place,
    order_accept,
    order_cancel,
    order_deliver,
    order_fail_delivery,
    order_mark_ready,
    order_pick_up,
    order_reject,
    order_return,
)
from orders.tasks import side_effects_muted
from retailers import demo_data as data
from retailers.models import (
    Mall,
    Product,
    Retailer,
    Stock,
    Store,
    StoreHours,
    StoreMembership,
)

User = get_user_model()
Status = Order.Status


class Command(BaseCommand):
    help = "Load real-looking demo data (malls in Las Vegas, Virginia and Texas) and logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even with DEBUG off. The demo logins share a published password.",
        )

    def handle(self, *args, force: bool = False, **options):
        if not (settings.DEBUG or getattr(settings, "TESTING", False) or force):
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo logins (including a "
                "superuser) have the published password 'mallrun'. Use --force if you mean it."
            )
        from retailers.sandbox import ensure_sandbox

        if _demo_present():
            ensure_sandbox()  # demo databases loaded before the sandbox mall existed
            self.stdout.write("Demo data already loaded.")
            return
        started = time.perf_counter()
        # History, not news: the demo's order events must not message anyone when the
        # worker starts (on_commit callbacks run inside the muted block).
        with side_effects_muted(), transaction.atomic():
            loader = _Loader()
            loader.load()
            # The API sandbox for test-mode keys (a retailer's own sandbox store is made on
            # its test key's first call).
            ensure_sandbox()
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Loaded the Mallrun demo in {elapsed:.1f} s."))
        self.stdout.write(_summary(loader))


# --- Is it there already? ---------------------------------------------------------------


def _demo_present() -> bool:
    """True when a complete earlier load is there; refuse when only some of it is.

    The load is atomic, so "some of it" means rows someone else created with the demo's
    names (or deleted since): loading over them would fail halfway or mix data.
    """
    mall_slugs = [m["slug"] for m in data.MALLS]
    malls = set(Mall.objects.filter(slug__in=mall_slugs).values_list("slug", flat=True))
    logins = set(
        User.objects.filter(username__in=data.DEMO_USERS).values_list("username", flat=True)
    )
    if len(malls) == len(mall_slugs) and len(logins) == len(data.DEMO_USERS):
        return True
    clashes = sorted(malls) + sorted(logins)
    clashes += list(
        Retailer.objects.filter(slug__in=[r["slug"] for r in data.RETAILERS]).values_list(
            "slug", flat=True
        )
    )
    clashes += list(
        User.objects.filter(username__in=_all_demo_usernames())
        .exclude(username__in=logins)
        .values_list("username", flat=True)
    )
    if clashes:
        raise CommandError(
            "Some demo rows exist but not the whole demo, so loading would clash: "
            + ", ".join(clashes)
            + ". Load the demo into an empty database (e.g. after `manage.py flush`)."
        )
    return False


def _all_demo_usernames() -> list[str]:
    names = list(data.DEMO_USERS)
    names += [p.username for people in data.SHOPPERS.values() for p in people]
    names += [d.username for drivers in data.DRIVERS.values() for d in drivers]
    names += [_staff_username(first, last) for first, last in data.STAFF_NAMES]
    return names


def _staff_username(first: str, last: str) -> str:
    return f"{first}.{last}".lower()


# --- Building it ------------------------------------------------------------------------


class _Loader:
    def __init__(self):
        self.rng = random.Random(data.SEED)
        # One hash for every demo person: hashing is deliberately slow, and they all share
        # the published demo password anyway.
        self.password = make_password(data.PASSWORD)
        self.system = Actor.system("demo")
        self.users: dict[str, object] = {}
        self.malls: dict[str, Mall] = {}
        self.stores: dict[str, list[Store]] = {}
        self.staff: dict[int, object] = {}  # store id -> the user who runs its orders
        self.shoppers: dict[str, list[tuple[Shopper, Address]]] = {}
        self.drivers: dict[str, list[Driver]] = {}  # approved and online, dispatch order
        self.available: dict[tuple[int, int], int] = {}  # what the demo may still order
        self.products_by_store: dict[int, list[int]] = defaultdict(list)

    def load(self) -> None:
        self.ops = self._user("ops", is_staff=True, is_superuser=True, **data.DEMO_USERS["ops"])
        self.ops_actor = Actor.ops(self.ops)
        self._malls()
        products = self._retailers_and_products()
        self._stores()
        self._stock(products)
        self._staff()
        self._shoppers()
        self._drivers()
        self._blocks()
        for mall_spec in data.MALLS:
            _MallStory(self, self.malls[mall_spec["slug"]]).play()

    def _user(self, username: str, *, first_name: str, last_name: str, **extra):
        user = User.objects.create(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=f"{username}@example.com",
            password=self.password,
            **extra,
        )
        self.users[username] = user
        return user

    def _malls(self) -> None:
        for spec in data.MALLS:
            fields = {k: v for k, v in spec.items() if k not in ("short", "label")}
            self.malls[spec["slug"]] = Mall.objects.create(**fields)

    def _retailers_and_products(self) -> dict[str, list[Product]]:
        products: list[Product] = []
        self.retailers: dict[str, Retailer] = {}
        for spec in data.RETAILERS:
            retailer = Retailer.objects.create(
                name=spec["name"],
                slug=spec["slug"],
                website=spec["website"],
                support_email=f"orders@{spec['slug']}.example.com",
            )
            self.retailers[spec["slug"]] = retailer
            products += [Product(retailer=retailer, **fields) for fields in data.catalog(spec)]
        Product.objects.bulk_create(products, batch_size=500)
        by_retailer: dict[str, list[Product]] = defaultdict(list)
        # Read back rather than trust bulk_create to have set primary keys on every backend.
        for product in Product.objects.select_related("retailer").order_by("pk"):
            by_retailer[product.retailer.slug].append(product)
        return by_retailer

    def _stores(self) -> None:
        hours: list[StoreHours] = []
        for spec in data.MALLS:
            mall = self.malls[spec["slug"]]
            self.stores[mall.slug] = []
            for s in data.STORES[mall.slug]:
                retailer = self.retailers[s.retailer]
                store = Store.objects.create(
                    mall=mall,
                    retailer=retailer,
                    name=f"{retailer.name} {spec['label']}",
                    slug=f"{retailer.slug}-{spec['short']}",
                    location_in_mall=s.location,
                    phone=s.phone,
                    prep_minutes=s.prep_minutes,
                )
                self.stores[mall.slug].append(store)
                week = (
                    data.DEPARTMENT_HOURS
                    if s.retailer in data.DEPARTMENT_STORES
                    else data.MALL_HOURS
                )
                hours += [
                    StoreHours(store=store, weekday=day, opens_at=opens, closes_at=closes)
                    for day, (opens, closes) in week.items()
                ]
        StoreHours.objects.bulk_create(hours)

    def _stock(self, products: dict[str, list[Product]]) -> None:
        rows: list[Stock] = []
        for stores in self.stores.values():
            for store in stores:
                for product in products[store.retailer.slug]:
                    if self.rng.random() < 0.08:
                        continue  # not every store carries the whole catalog
                    roll = self.rng.random()
                    if roll < 0.06:
                        on_hand = 0
                    elif roll < 0.16:
                        on_hand = self.rng.randint(1, 3)
                    elif product.price_cents >= 50_000:
                        on_hand = self.rng.randint(4, 12)
                    else:
                        on_hand = self.rng.randint(4, 40)
                    rows.append(Stock(store=store, product=product, on_hand=on_hand))
                    if on_hand >= 4:
                        self.available[(store.pk, product.pk)] = on_hand
                        self.products_by_store[store.pk].append(product.pk)
        Stock.objects.bulk_create(rows, batch_size=500)

    def _staff(self) -> None:
        store_user = self._user("store", **data.DEMO_USERS["store"])
        names = iter(data.STAFF_NAMES)
        managed_by_demo = {"sephora-fashion-show", "sephora-tysons-corner"}
        memberships: list[StoreMembership] = []
        for stores in self.stores.values():
            for store in stores:
                if store.slug in managed_by_demo:
                    user = store_user
                else:
                    first, last = next(names)
                    user = self._user(
                        _staff_username(first, last), first_name=first, last_name=last
                    )
                self.staff[store.pk] = user
                memberships.append(
                    StoreMembership(user=user, store=store, role=StoreMembership.Role.MANAGER)
                )
        first, last = next(names)
        associate = self._user(_staff_username(first, last), first_name=first, last_name=last)
        memberships.append(
            StoreMembership(
                user=associate,
                store=self.stores[data.LV][0],
                role=StoreMembership.Role.ASSOCIATE,
            )
        )
        StoreMembership.objects.bulk_create(memberships)

    def _shoppers(self) -> None:
        for mall_slug, people in data.SHOPPERS.items():
            self.shoppers[mall_slug] = []
            for person in people:
                user = self._user(
                    person.username, first_name=person.first_name, last_name=person.last_name
                )
                shopper = Shopper.objects.create(user=user, phone=person.phone)
                addresses = [
                    Address.objects.create(shopper=shopper, **a._asdict()) for a in person.addresses
                ]
                self.shoppers[mall_slug].append((shopper, addresses[0]))

    def _drivers(self) -> None:
        for mall_slug, people in data.DRIVERS.items():
            mall = self.malls[mall_slug]
            self.drivers[mall_slug] = []
            for d in people:
                user = self._user(d.username, first_name=d.first_name, last_name=d.last_name)
                driver = Driver.objects.create(
                    user=user,
                    phone=d.phone,
                    vehicle_type=d.vehicle,
                    capacity_bags=d.capacity_bags,
                    plate=d.plate,
                    home_mall=mall,
                )
                if d.status == "pending":
                    continue
                if d.status == "rejected":
                    driver_review(
                        driver=driver, actor=self.ops_actor, status=d.status, reason=d.reason
                    )
                    continue
                driver = driver_review(
                    driver=driver, actor=self.ops_actor, status=Driver.Status.APPROVED
                )
                if d.status == "suspended":
                    driver_review(
                        driver=driver, actor=self.ops_actor, status=d.status, reason=d.reason
                    )
                    continue
                if d.online:
                    driver = driver_go_online(
                        driver=driver,
                        mall=mall,
                        latitude=round(mall.latitude + self.rng.uniform(-0.02, 0.02), 5),
                        longitude=round(mall.longitude + self.rng.uniform(-0.02, 0.02), 5),
                    )
                    self.drivers[mall_slug].append(driver)

    def _blocks(self) -> None:
        """Shifts for the coming days, each approved driver booked on two of them."""
        for mall in self.malls.values():
            today = mall.local_now().date()
            Block.objects.bulk_create(
                Block(
                    mall=mall,
                    starts_at=dt.datetime.combine(today + dt.timedelta(days=day), start, mall.tz),
                    ends_at=dt.datetime.combine(today + dt.timedelta(days=day), end, mall.tz),
                    slots=slots,
                    guaranteed_pay_cents=pay,
                )
                for day in range(1, data.BLOCK_DAYS + 1)
                for start, end, slots, pay in data.BLOCK_SHIFTS
            )
            blocks = list(Block.objects.filter(mall=mall).order_by("starts_at", "pk"))
            approved = Driver.objects.filter(
                home_mall=mall, status=Driver.Status.APPROVED
            ).order_by("pk")
            for i, driver in enumerate(approved):
                # Four shifts apart lands on another day, so a driver's two never overlap.
                for index in (i % len(blocks), (i + 4) % len(blocks)):
                    block_book(block=blocks[index], driver=driver)


class _MallStory:
    """One mall's day so far: orders in every state, routes in every stage, open offers.

    A driver holds one live route at a time, so each route is finished before its driver
    gets the next, and the routes left open at the end (out for delivery, failed at the
    door, accepted) belong to different drivers.
    """

    def __init__(self, loader: _Loader, mall: Mall):
        self.loader = loader
        self.rng = loader.rng
        self.mall = mall
        self.stores = loader.stores[mall.slug]
        self.featured = self.stores[0]  # the demo store's board gets every open column
        self.shoppers = loader.shoppers[mall.slug]
        self.drivers = loader.drivers[mall.slug]
        self.system = loader.system

    # -- building blocks --

    def store(self, *, exclude: Store | None = None) -> Store:
        return self.rng.choice([s for s in self.stores if s != exclude])

    def place(self, shopper_index: int, *stores: Store) -> list[Order]:
        shopper, address = self.shoppers[shopper_index]
        items: list[CartItem] = []
        for store in stores:
            choices = [
                pk for pk in self.loader.products_by_store[store.pk]
                if self.loader.available[(store.pk, pk)] >= 3
            ]  # fmt: skip
            for product_id in self.rng.sample(choices, k=min(len(choices), self.rng.randint(1, 2))):
                quantity = 1 if self.rng.random() < 0.8 else 2
                self.loader.available[(store.pk, product_id)] -= quantity
                items.append(CartItem(store.pk, product_id, quantity))
        user = shopper.user
        return checkout_place(
            actor=Actor.shopper(user),
            shopper=shopper,
            address=address,
            items=items,
            recipient_name=user.get_full_name(),
            recipient_phone=shopper.phone,
            recipient_email=user.email,
            tips_cents={s.pk: self.rng.choice([0, 0, 200, 300, 500]) for s in stores},
        )

    def one(self, shopper_index: int, store: Store | None = None) -> Order:
        (order,) = self.place(shopper_index, store or self.store())
        return order

    def staff(self, order: Order) -> Actor:
        return Actor.store_staff(self.loader.staff[order.store_id])

    def accept(self, *orders: Order) -> None:
        for order in orders:
            order_accept(order=order, actor=self.staff(order))

    def pack(self, *orders: Order) -> None:
        """The store accepts each order and packs it: ready for a driver."""
        for order in orders:
            order_accept(order=order, actor=self.staff(order))
            order_mark_ready(order=order, actor=self.staff(order))

    def route(self, orders: list[Order]) -> Route:
        return route_plan(mall=self.mall, orders=orders, actor=self.system, policy="demo")

    def dispatch(
        self, orders: list[Order], driver: Driver, *, decliner: Driver | None = None
    ) -> Route:
        """Pack the orders, route them and have `driver` take the route."""
        self.pack(*orders)
        route = self.route(orders)
        if decliner is not None:
            offer = route_offer(route=route, driver=decliner, actor=self.system)
            offer_decline(
                offer=offer, actor=Actor.driver(decliner.user), reason=data.DECLINE_REASON
            )
        offer = route_offer(route=route, driver=driver, actor=self.system)
        return offer_accept(offer=offer, actor=Actor.driver(driver.user))

    def collect(self, route: Route, orders: list[Order]) -> None:
        for order in orders:
            order_pick_up(order=order, actor=self.staff(order), handover_code=route.handover_code)

    def deliver(self, order: Order, driver: Driver) -> None:
        order_deliver(
            order=order,
            actor=Actor.driver(driver.user),
            pin=order.delivery_pin,
            latitude=order.address.latitude,
            longitude=order.address.longitude,
            recipient_name=order.recipient_name,
        )

    def fail(self, order: Order, driver: Driver) -> None:
        order_fail_delivery(
            order=order, actor=Actor.driver(driver.user), reason=self.rng.choice(data.FAIL_REASONS)
        )

    def offer_open(self, route: Route, drivers: list[Driver]) -> None:
        bags = route_bags(route)
        for driver in drivers:
            if driver.capacity_bags >= bags:
                route_offer(
                    route=route,
                    driver=driver,
                    actor=self.system,
                    expires_in_seconds=data.OFFER_HOURS * 3600,
                )

    # -- the story --

    def play(self) -> None:
        lead, a, b, c = self.drivers[:4]
        extra = self.drivers[4:]
        featured = self.featured

        # Delivered: a two-store checkout (one driver declined before another took it),
        # then single and paired drops.
        orders = self.place(0, featured, self.store(exclude=featured))
        route = self.dispatch(orders, lead, decliner=a)
        self.collect(route, orders)
        for order in orders:
            self.deliver(order, lead)
        for driver, shopper_indexes in ((a, [1]), (b, [2, 3]), (lead, [4])):
            orders = [self.one(i) for i in shopper_indexes]
            route = self.dispatch(orders, driver)
            self.collect(route, orders)
            for order in orders:
                self.deliver(order, driver)

        # Returned: nobody home at the second door; the store takes it back.
        orders = [self.one(1), self.one(2)]
        route = self.dispatch(orders, c)
        self.collect(route, orders)
        self.deliver(orders[0], c)
        self.fail(orders[1], c)
        order_return(order=orders[1], actor=self.staff(orders[1]), note=data.RETURN_NOTE)

        # Out for delivery, and failed at the door (the driver still holds the route).
        orders = [self.one(0, featured), self.one(3)]
        route = self.dispatch(orders, a)
        self.collect(route, orders)
        orders = [self.one(4)]
        route = self.dispatch(orders, b)
        self.collect(route, orders)
        self.fail(orders[0], b)

        # A driver accepted a route and is on the way to the mall: one order packed, one
        # still being picked.
        packed, picking = self.one(2), self.one(1)
        self.pack(packed)
        self.accept(picking)
        route = self.route([packed, picking])
        offer = route_offer(route=route, driver=c, actor=self.system)
        offer_accept(offer=offer, actor=Actor.driver(c.user))

        # Packed and offered: the lead driver's phone shows these offers.
        waiting = [self.one(3), self.one(4)]
        self.pack(*waiting)
        self.offer_open(self.route(waiting), [lead, *extra])
        waiting = [self.one(1, featured)]
        self.pack(*waiting)
        self.offer_open(self.route(waiting), [lead])

        # Packed, waiting for dispatch; accepted and being picked; just placed.
        self.pack(self.one(2))
        self.accept(self.one(3, featured), self.one(0))
        self.one(0, featured)
        self.one(1)
        self.one(4)

        # Rejected by the store; cancelled by the shopper, the store and ops.
        order = self.one(2)
        order_reject(
            order=order, actor=self.staff(order), reason=self.rng.choice(data.REJECT_REASONS)
        )
        order = self.one(0)
        shopper_user = self.shoppers[0][0].user
        order_cancel(
            order=order,
            actor=Actor.shopper(shopper_user),
            reason=self.rng.choice(data.CANCEL_REASONS_SHOPPER),
        )
        order = self.one(3)
        self.accept(order)
        order_cancel(order=order, actor=self.staff(order), reason=data.CANCEL_REASON_STORE)
        order = self.one(4)
        self.pack(order)
        order_cancel(order=order, actor=self.loader.ops_actor, reason=data.CANCEL_REASON_OPS)


# --- Saying what was loaded -------------------------------------------------------------


def _summary(loader: _Loader) -> str:
    orders = Counter(dict(Order.objects.values_list("status").annotate(n=Count("id"))))
    routes = Counter(dict(Route.objects.values_list("status").annotate(n=Count("id"))))
    drivers = Counter(dict(Driver.objects.values_list("status").annotate(n=Count("id"))))
    stock = Stock.objects.count()
    sold_out = Stock.objects.filter(on_hand=0).count()
    lines = [
        f"  Malls    {Mall.objects.count()}: "
        + "; ".join(f"{m.name} ({m.city}, {m.state}, {m.timezone})" for m in loader.malls.values()),
        f"  Stores   {Store.objects.count()}, products {Product.objects.count()}, "
        f"stock rows {stock} ({sold_out} sold out)",
        f"  People   {Shopper.objects.count()} shoppers, {Driver.objects.count()} drivers ("
        + ", ".join(f"{drivers[s]} {s}" for s in Driver.Status.values)
        + f"; {Driver.objects.filter(is_online=True).count()} online)",
        f"  Blocks   {Block.objects.count()} in the next {data.BLOCK_DAYS} days, "
        f"{BlockBooking.objects.count()} bookings",
        f"  Routes   {sum(routes.values())}: "
        + ", ".join(f"{routes[s]} {s}" for s in Route.Status.values if routes[s]),
        f"  Orders   {sum(orders.values())}: "
        + ", ".join(f"{orders[s]} {s}" for s in Status.values),
        "",
        f"Demo logins (password: {data.PASSWORD}):",
    ]
    users = loader.users
    store_names = " and ".join(
        s.name for s in Store.objects.filter(memberships__user=users["store"]).order_by("mall")
    )
    offers = Offer.objects.filter(driver__user=users["driver"], status=Offer.Status.PENDING).count()
    las_vegas = loader.malls[data.LV].name
    logins = [
        ("shopper", f"{users['shopper'].get_full_name()}, lives near {las_vegas}"),
        ("store", f"{users['store'].get_full_name()}, manager of {store_names}"),
        ("driver", f"{users['driver'].get_full_name()}, online at {las_vegas}, {offers} offers"),
        ("ops", f"{users['ops'].get_full_name()}, operations staff (superuser)"),
    ]
    width = max(len(text) for _, text in logins)
    lines += [f"  {name:<8} {text:<{width}}  {home_url_for(users[name])}" for name, text in logins]
    lines.append(
        f"Everyone else in the demo (store staff, shoppers, drivers) uses {data.PASSWORD} too."
    )
    return "\n".join(lines)
