"""The delivery promise: every reason a store can't deliver, the fee, the promised time in the
mall's own time zone, the same-day cut-off, and how long a quote lives."""

import datetime as dt

import pytest

from drivers.models import BlockBooking, Route
from orders.models import Quote
from orders.quotes import (
    QUOTE_LIFETIME,
    Reason,
    fee_for,
    promise_text,
    promises_for_stores,
    quote_compute,
    quote_create,
    quote_is_live,
)
from retailers import clock
from retailers.geo import Leg
from retailers.models import DeliveryFeeTier, Store, StoreClosure, StoreHours
from tests import factories as f

# Wednesday 25 November 2026, 19:00 UTC: 11:00 am in Las Vegas, 2:00 pm in New York.
NOON_ISH = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
LV_POINT = (36.1272, -115.1711)  # the factory mall's own coordinates
NY_POINT = (40.7484, -73.9967)


@pytest.fixture(autouse=True)
def _promise_settings(settings):
    settings.MALLRUN_QUEUE_MINUTES_PER_ORDER = 3
    settings.MALLRUN_PROMISE_BUFFER_MINUTES = 15
    settings.MALLRUN_DRIVER_TO_COUNTER_MINUTES = 5
    settings.MALLRUN_AVERAGE_ROUTE_MINUTES = 40
    settings.MALLRUN_ROAD_FACTOR = 1.3
    settings.MALLRUN_SPEED_KMH = 25
    settings.MALLRUN_TRAVEL_PROVIDER = "retailers.geo.StraightLineProvider"


@pytest.fixture
def frozen():
    with clock.frozen_at(NOON_ISH):
        yield NOON_ISH


@pytest.fixture
def twelve_minutes_away(monkeypatch):
    """Every leg takes 12 minutes, so the arithmetic is the only thing under test."""
    monkeypatch.setattr("orders.quotes.travel", lambda *a: Leg(km=4.0, minutes=12.0))


def online_driver_at(mall, username):
    from drivers.services import driver_go_online

    return driver_go_online(
        driver=f.DriverFactory(user=f.UserFactory(username=username)), mall=mall
    )


def quote(store, point=LV_POINT, items=()):
    store = Store.objects.get(pk=store.pk)  # as a page would load it
    return quote_compute(store=store, latitude=point[0], longitude=point[1], items=items)


def codes(promise):
    return [r["code"] for r in promise.reasons]


def hours(store, opens, closes):
    StoreHours.objects.bulk_create(
        StoreHours(store=store, weekday=d, opens_at=opens, closes_at=closes) for d in range(7)
    )


# --- Eligible -------------------------------------------------------------------------------


def test_an_eligible_quote_has_a_promise_and_a_ready_time(store, driver, frozen):
    promise = quote(store)

    assert promise.eligible
    assert promise.reasons == []
    assert promise.ready_by == frozen + dt.timedelta(minutes=store.prep_minutes)
    assert promise.promised_by > promise.ready_by
    assert promise.fee_cents == store.mall.delivery_fee_cents


# --- Each reason it can't ---------------------------------------------------------------------


def test_it_refuses_an_address_outside_the_malls_radius(store, driver, frozen):
    promise = quote(store, point=NY_POINT)

    assert codes(promise) == [Reason.OUTSIDE_RADIUS]
    message = promise.reasons[0]["message"]
    assert "from Fashion Show, outside its 15 km delivery area" in message
    assert promise.promised_by is None and promise.ready_by is None


def test_it_refuses_a_paused_store_and_says_when_it_is_back(store, driver, frozen):
    store.paused_until = frozen + dt.timedelta(hours=1)
    store.save()

    promise = quote(store)

    assert codes(promise) == [Reason.STORE_PAUSED]
    assert promise.reasons[0]["message"] == (
        f"{store.name} isn't taking orders right now (back at 12:00 pm)."
    )
    assert promise.promised_by is None


def test_a_pause_that_has_ended_does_not_count(store, driver, frozen):
    store.paused_until = frozen - dt.timedelta(minutes=1)
    store.save()

    assert quote(store).eligible


def test_it_refuses_a_store_that_is_closed_now_and_says_when_it_opens(mall, driver, frozen):
    store = f.StoreFactory(mall=mall, open_all_day=False)
    hours(store, dt.time(12, 0), dt.time(21, 0))  # it is 11:00 am in Las Vegas

    promise = quote(store)

    assert Reason.STORE_CLOSED in codes(promise)
    assert (
        promise.reasons[0]["message"] == f"{store.name} is closed now. It opens today at 12:00 pm."
    )
    assert not promise.eligible


def test_a_store_closed_for_the_day_says_it_opens_tomorrow(mall, driver, frozen):
    store = f.StoreFactory(mall=mall, open_all_day=False)
    hours(store, dt.time(9, 0), dt.time(10, 30))

    promise = quote(store)

    assert (
        promise.reasons[0]["message"]
        == f"{store.name} is closed now. It opens tomorrow at 9:00 am."
    )


def test_a_store_with_no_hours_today_is_closed(mall, driver, frozen):
    store = f.StoreFactory(mall=mall, open_all_day=False)

    assert codes(quote(store)) == [Reason.STORE_CLOSED]


def test_it_refuses_when_the_store_closes_too_soon_to_prepare_today(mall, driver, frozen):
    store = f.StoreFactory(mall=mall, open_all_day=False, prep_minutes=15)
    hours(store, dt.time(9, 0), dt.time(11, 10))  # open now, ready 11:15 am

    promise = quote(store)

    assert codes(promise) == [Reason.STORE_CLOSED]
    assert promise.reasons[0]["message"] == (
        f"{store.name} closes at 11:10 am, too soon to prepare your order today."
    )


def test_a_store_open_long_enough_is_eligible(mall, driver, frozen):
    store = f.StoreFactory(mall=mall, open_all_day=False, prep_minutes=15)
    hours(store, dt.time(9, 0), dt.time(11, 20))

    assert quote(store).eligible


def test_it_refuses_past_the_malls_same_day_cut_off(store, driver):
    # 18:30 in Las Vegas, cut-off 18:00.
    with clock.frozen_at(dt.datetime(2026, 11, 26, 2, 30, tzinfo=dt.UTC)):
        promise = quote(store)

    assert Reason.PAST_CUTOFF in codes(promise)
    message = next(r["message"] for r in promise.reasons if r["code"] == Reason.PAST_CUTOFF)
    assert message == "Same-day orders at Fashion Show close at 6:00 pm. Order tomorrow morning."
    assert promise.promised_by is None


def test_it_refuses_a_sold_out_item_and_says_how_many_are_left_of_another(store, driver, frozen):
    sold_out = f.StockFactory(store=store, on_hand=2, reserved=2, product__title="Lipstick")
    few = f.StockFactory(store=store, on_hand=3, product__title="Mascara")
    plenty = f.StockFactory(store=store, on_hand=30)

    promise = quote(
        store, items=[(sold_out.product_id, 1), (few.product_id, 5), (plenty.product_id, 2)]
    )

    assert codes(promise) == [Reason.OUT_OF_STOCK, Reason.OUT_OF_STOCK]
    assert [r["message"] for r in promise.reasons] == [
        f"Lipstick is sold out at {store.name}.",
        f"Only 3 of Mascara left at {store.name}.",
    ]
    assert [r["available"] for r in promise.reasons] == [0, 3]


def test_an_item_the_store_does_not_carry_or_no_longer_sells_is_sold_out(store, driver, frozen):
    inactive = f.StockFactory(store=store, on_hand=5, product__is_active=False)
    elsewhere = f.StockFactory(on_hand=5)

    promise = quote(store, items=[(inactive.product_id, 1), (elsewhere.product_id, 1)])

    assert codes(promise) == [Reason.OUT_OF_STOCK, Reason.OUT_OF_STOCK]


def test_enough_stock_is_eligible(store, driver, frozen):
    row = f.StockFactory(store=store, on_hand=3)

    assert quote(store, items=[(row.product_id, 3)]).eligible


def test_it_refuses_when_no_driver_is_online_or_booked_at_the_mall(store, frozen):
    # A driver online at another mall does not count.
    online_driver_at(f.MallFactory(), "elsewhere-driver")

    promise = quote(store)

    assert codes(promise) == [Reason.NO_DRIVERS]
    assert promise.reasons[0]["message"] == "No drivers are delivering from Fashion Show right now."


def test_a_driver_on_a_booked_block_at_the_mall_counts_as_supply(store, frozen):
    block = f.BlockFactory(
        mall=store.mall,
        starts_at=frozen - dt.timedelta(hours=1),
        ends_at=frozen + dt.timedelta(hours=2),
    )
    booked = f.DriverFactory()
    BlockBooking.objects.create(block=block, driver=booked, booked_at=frozen)

    assert quote(store).eligible


def test_a_forfeited_or_finished_block_does_not_count(store, frozen):
    ended = f.BlockFactory(
        mall=store.mall,
        starts_at=frozen - dt.timedelta(hours=3),
        ends_at=frozen - dt.timedelta(minutes=1),
    )
    now = f.BlockFactory(
        mall=store.mall,
        starts_at=frozen - dt.timedelta(hours=1),
        ends_at=frozen + dt.timedelta(hours=1),
    )
    BlockBooking.objects.create(block=ended, driver=f.DriverFactory(), booked_at=frozen)
    BlockBooking.objects.create(
        block=now,
        driver=f.DriverFactory(),
        booked_at=frozen,
        status=BlockBooking.Status.FORFEITED,
    )

    assert codes(quote(store)) == [Reason.NO_DRIVERS]


def test_every_reason_that_applies_is_given_at_once(store, frozen):
    store.paused_until = frozen + dt.timedelta(hours=1)
    store.save()

    assert codes(quote(store, point=NY_POINT)) == [
        Reason.OUTSIDE_RADIUS,
        Reason.STORE_PAUSED,
        Reason.NO_DRIVERS,
    ]


# --- Fee ------------------------------------------------------------------------------------


@pytest.fixture
def tiered_mall(mall):
    mall.delivery_fee_cents = 500
    mall.save()
    for up_to, extra in [("3.0", 0), ("8.0", 200), ("12.0", 400)]:
        DeliveryFeeTier.objects.create(mall=mall, up_to_km=up_to, extra_cents=extra)
    return mall


@pytest.mark.parametrize(
    ("km", "fee"),
    [(0.0, 500), (2.99, 500), (3.0, 500), (3.01, 700), (8.0, 700), (11.9, 900), (14.5, 900)],
)
def test_the_fee_is_the_base_plus_the_first_tier_that_reaches_the_distance(
    tiered_mall, store, km, fee
):
    assert fee_for(Store.objects.get(pk=store.pk), km) == fee


def test_without_tiers_the_fee_is_the_base_fee(store):
    store.mall.delivery_fee_cents = 649
    store.mall.save()

    assert fee_for(Store.objects.get(pk=store.pk), 9.0) == 649


def test_the_quote_charges_the_tier_of_the_addresss_distance(tiered_mall, store, driver, frozen):
    # About 5.6 km north of the mall.
    promise = quote(store, point=(LV_POINT[0] + 0.05, LV_POINT[1]))

    assert 5 < promise.distance_km < 6
    assert promise.fee_cents == 700


# --- Promise arithmetic -----------------------------------------------------------------------


def test_the_promise_adds_prep_travel_and_buffer_rounded_up_to_five_minutes(
    store, driver, frozen, twelve_minutes_away
):
    promise = quote(store)

    # ready 15 (prep) vs driver 5: 15 + 12 travel + 15 buffer = 42 → 11:45 am.
    assert promise.ready_by == frozen + dt.timedelta(minutes=15)
    assert promise.promised_by == frozen + dt.timedelta(minutes=45)
    assert promise.minutes == {"queue": 0, "prep": 15, "driver_wait": 5, "travel": 12, "buffer": 15}
    assert promise_text(store, promise.promised_by) == "arrives today by 11:45 am"


def test_a_promise_landing_on_five_minutes_is_not_pushed_further(
    store, driver, frozen, monkeypatch
):
    monkeypatch.setattr("orders.quotes.travel", lambda *a: Leg(km=4.0, minutes=15.0))

    # 15 prep + 15 travel + 15 buffer = 45 minutes exactly.
    assert quote(store).promised_by == frozen + dt.timedelta(minutes=45)


def test_open_orders_at_the_store_queue_ahead(
    store, stock, driver, frozen, twelve_minutes_away, place_order, advance
):
    place_order(stock)
    advance(place_order(stock), "accepted")
    advance(place_order(stock), "ready")  # packed: no longer in the store's queue
    place_order(f.StockFactory(store=f.StoreFactory(mall=store.mall)))  # another store's

    promise = quote(store)

    # 2 orders × 3 min + 15 prep = 21; + 12 travel + 15 buffer = 48 → 11:50 am.
    assert promise.minutes["queue"] == 6
    assert promise.ready_by == frozen + dt.timedelta(minutes=21)
    assert promise.promised_by == frozen + dt.timedelta(minutes=50)


def test_a_backlog_of_routes_waiting_for_drivers_pushes_the_promise(
    store, driver, frozen, twelve_minutes_away
):
    for _ in range(3):
        Route.objects.create(mall=store.mall, status=Route.Status.PLANNED, created_at=frozen)

    promise = quote(store)

    # One driver, three routes waiting: 5 + ceil(3 × 40 / 1) = 125 minutes before a driver;
    # 125 + 12 + 15 = 152 → 1:35 pm.
    assert promise.minutes["driver_wait"] == 125
    assert promise.ready_by == frozen + dt.timedelta(minutes=15)
    assert promise.promised_by == frozen + dt.timedelta(minutes=155)
    assert promise_text(store, promise.promised_by) == "arrives today by 1:35 pm"


def test_free_drivers_beyond_the_waiting_routes_keep_the_short_wait(
    store, driver, other_driver, frozen, twelve_minutes_away
):
    Route.objects.create(mall=store.mall, status=Route.Status.OFFERED, created_at=frozen)

    assert quote(store).minutes["driver_wait"] == 5


def test_a_driver_on_a_route_is_not_free_for_the_waiting_ones(
    store, driver, other_driver, frozen, twelve_minutes_away
):
    Route.objects.create(
        mall=store.mall, status=Route.Status.ACCEPTED, driver=driver, created_at=frozen
    )
    Route.objects.create(mall=store.mall, status=Route.Status.PLANNED, created_at=frozen)

    # Two drivers, one busy: the free one takes the waiting route, the next order waits for
    # a route's length: 5 + ceil(1 × 40 / 2) = 25 minutes.
    assert quote(store).minutes["driver_wait"] == 25


def test_the_promise_is_told_in_each_malls_own_time(driver, frozen, twelve_minutes_away):
    vegas = f.StoreFactory(mall=driver.online_mall)
    new_york_mall = f.MallFactory(
        name="Hudson Yards",
        timezone="America/New_York",
        latitude=NY_POINT[0],
        longitude=NY_POINT[1],
        zip_code="10001",
    )
    online_driver_at(new_york_mall, "nina-driver")
    new_york = f.StoreFactory(mall=new_york_mall)

    in_vegas = quote(vegas, point=LV_POINT)
    in_new_york = quote(new_york, point=NY_POINT)

    # The same instant, 19:45 UTC, is a different hour in each mall.
    assert in_vegas.promised_by == in_new_york.promised_by == frozen + dt.timedelta(minutes=45)
    assert promise_text(vegas, in_vegas.promised_by) == "arrives today by 11:45 am"
    assert promise_text(new_york, in_new_york.promised_by) == "arrives today by 2:45 pm"


def test_the_cut_off_is_read_in_the_malls_local_time(driver):
    vegas = f.StoreFactory(mall=driver.online_mall)
    new_york_mall = f.MallFactory(
        timezone="America/New_York", latitude=NY_POINT[0], longitude=NY_POINT[1]
    )
    online_driver_at(new_york_mall, "nina-driver")
    new_york = f.StoreFactory(mall=new_york_mall)

    # 23:30 UTC: 6:30 pm in New York (past 6:00 pm), 3:30 pm in Las Vegas.
    with clock.frozen_at(dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.UTC)):
        in_vegas = quote(vegas, point=LV_POINT)
        in_new_york = quote(new_york, point=NY_POINT)

    assert in_vegas.eligible
    assert codes(in_new_york) == [Reason.PAST_CUTOFF]


def test_a_promise_that_would_land_tomorrow_is_past_the_cut_off(store, driver, monkeypatch):
    store.mall.same_day_cutoff = dt.time(23, 59)
    store.mall.save()
    monkeypatch.setattr("orders.quotes.travel", lambda *a: Leg(km=40.0, minutes=90.0))

    # 10:00 pm in Las Vegas: 15 + 90 + 15 minutes is past midnight.
    with clock.frozen_at(dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)):
        promise = quote(store)

    assert codes(promise) == [Reason.PAST_CUTOFF]
    assert promise.reasons[0]["message"] == (
        "It's too late in the day for Fashion Show to deliver today."
    )


# --- Kept quotes --------------------------------------------------------------------------


def test_a_kept_quote_expires_after_fifteen_minutes(store, driver, frozen):
    kept = quote_create(store=store, latitude=LV_POINT[0], longitude=LV_POINT[1])

    kept = Quote.objects.get(pk=kept.pk)
    assert kept.eligible and kept.reasons == []
    assert kept.created_at == frozen
    assert kept.expires_at == frozen + dt.timedelta(minutes=15) == frozen + QUOTE_LIFETIME
    assert kept.promised_by is not None and kept.ready_by is not None
    assert quote_is_live(kept)
    assert quote_is_live(kept, at=frozen + dt.timedelta(minutes=14, seconds=59))
    assert not quote_is_live(kept, at=frozen + dt.timedelta(minutes=15))
    with clock.frozen_at(frozen + dt.timedelta(minutes=16)):
        assert not quote_is_live(kept)


def test_a_kept_ineligible_quote_keeps_its_reasons_and_no_promise(store, frozen):
    row = f.StockFactory(store=store, on_hand=1)

    kept = quote_create(
        store=store, latitude=LV_POINT[0], longitude=LV_POINT[1], items=[(row.product_id, 2)]
    )

    kept = Quote.objects.get(pk=kept.pk)
    assert not kept.eligible
    assert [r["code"] for r in kept.reasons] == [Reason.OUT_OF_STOCK, Reason.NO_DRIVERS]
    assert kept.promised_by is None
    assert kept.items == [[row.product_id, 2]]


# --- Many stores at once ------------------------------------------------------------------


def page_of_stores(mall):
    return list(
        Store.objects.filter(mall=mall)
        .select_related("mall")
        .prefetch_related("hours", "mall__fee_tiers")
        .order_by("pk")
    )


def make_stores(mall, plain):
    """A paused store, a closed one (with special closures) and `plain` open ones."""
    f.StoreFactory(mall=mall, paused_until=NOON_ISH + dt.timedelta(hours=2))
    closed = f.StoreFactory(mall=mall)
    StoreClosure.objects.create(
        store=closed, starts_on=dt.date(2026, 11, 24), ends_on=dt.date(2026, 11, 26)
    )
    for _ in range(plain):
        f.StoreFactory(mall=mall)


def test_promises_for_many_stores_match_one_quote_each(
    tiered_mall, store, stock, driver, frozen, place_order
):
    make_stores(tiered_mall, 3)
    place_order(stock)
    point = (LV_POINT[0] + 0.05, LV_POINT[1])

    promises = promises_for_stores(
        page_of_stores(tiered_mall), latitude=point[0], longitude=point[1]
    )

    assert len(promises) == 6
    for store_row in Store.objects.filter(mall=tiered_mall):
        one = quote(store_row, point=point)
        many = promises[store_row.pk]
        assert (many.reasons, many.fee_cents, many.promised_by, many.ready_by, many.minutes) == (
            one.reasons,
            one.fee_cents,
            one.promised_by,
            one.ready_by,
            one.minutes,
        )
    assert promises[store.pk].minutes["queue"] == 3


def test_promises_for_stores_take_as_many_queries_for_thirty_stores_as_for_three(
    mall, stock, driver, frozen, django_assert_max_num_queries
):
    make_stores(mall, 1)
    with django_assert_max_num_queries(8):
        few = promises_for_stores(page_of_stores(mall), latitude=LV_POINT[0], longitude=LV_POINT[1])
    assert len(few) == 4

    make_stores(mall, 25)
    with django_assert_max_num_queries(8):
        many = promises_for_stores(
            page_of_stores(mall), latitude=LV_POINT[0], longitude=LV_POINT[1]
        )
    assert len(many) == 31
