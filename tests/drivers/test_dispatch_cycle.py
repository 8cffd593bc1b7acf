"""The dispatch cycle against the database: planning pending orders into routes, the offer
cascade (decline, expiry, boost, nobody available) with time held by clock.frozen_at, the
per-mall lock, re-planning on cancellation, triggers, and the log ops read in admin."""

import datetime as dt

import pytest
from django.conf import settings
from django_q.models import Schedule

from drivers.dispatch.cycle import dispatch_cycle, eligible_drivers
from drivers.dispatch.lock import lock_claim, lock_release
from drivers.models import (
    DispatchDecision,
    DispatchLock,
    DispatchRun,
    Offer,
    PayLine,
    Route,
    RouteStop,
)
from drivers.services import (
    driver_go_offline,
    driver_go_online,
    offer_accept,
    offer_decline,
    route_orders,
    route_release,
)
from drivers.tasks import dispatch_all_malls
from orders.models import Order
from orders.permissions import Actor
from orders.services import order_cancel
from orders.tasks import side_effects_muted
from retailers import clock
from tests import factories as f

RS = Route.Status
OFS = Offer.Status
D = DispatchDecision.Kind
FAST = 0.2


@pytest.fixture(autouse=True)
def _fast_solver(settings):
    settings.MALLRUN_DISPATCH_TIME_LIMIT_MS = 200


@pytest.fixture
def ready_orders(place_order, advance, stock):
    def _make(count=1):
        return [advance(place_order(stock), Order.Status.READY) for _ in range(count)]

    return _make


def cycle(mall, **kwargs):
    return dispatch_cycle(mall=mall, trigger="test", time_limit=FAST, **kwargs)


def live_routes(mall):
    return Route.objects.filter(mall=mall, status__in=Route.ACTIVE_STATUSES)


def kinds(run):
    return list(run.decisions.values_list("kind", flat=True))


# --- Planning and the first offer -------------------------------------------------------------


def test_a_cycle_batches_ready_orders_and_offers_the_route_to_one_driver(
    mall, ready_orders, driver, other_driver
):
    orders = ready_orders(3)

    run = cycle(mall)

    assert run.outcome == DispatchRun.Outcome.DONE
    assert (run.orders_considered, run.routes_planned, run.offers_made) == (3, 1, 1)
    assert run.method == "pyvrp"
    route = live_routes(mall).get()
    assert sorted(o.pk for o in route_orders(route)) == sorted(o.pk for o in orders)
    assert route.policy == "solver"
    assert route.status == RS.OFFERED
    assert route.offers.filter(status=OFS.PENDING).count() == 1  # one driver at a time
    assert all(s.planned_arrival for s in route.stops.filter(kind="dropoff"))
    assert kinds(run) == [D.PLANNED, D.OFFERED]


def test_the_offered_pay_is_base_per_drop_off_per_km_and_tips(
    mall, place_order, advance, stock, driver
):
    tipped = advance(place_order(stock, tips_cents={stock.store_id: 350}), Order.Status.READY)
    advance(place_order(stock), Order.Status.READY)

    cycle(mall)

    route = live_routes(mall).get()
    lines = {line.kind: line for line in route.pay_lines.all()}
    assert set(lines) == {"base", "per_stop", "per_km", "tip"}
    assert (lines["tip"].order, lines["tip"].amount_cents) == (tipped, 350)
    assert lines["per_stop"].amount_cents == 2 * mall.pay_per_stop_cents
    assert Offer.objects.get(status=OFS.PENDING).pay_cents == route.pay_cents
    assert route.pay_cents == sum(line.amount_cents for line in lines.values())


def test_orders_not_ready_soon_wait_for_a_later_cycle(mall, place_order, advance, stock, driver):
    order = advance(place_order(stock), Order.Status.ACCEPTED)
    Order.objects.filter(pk=order.pk).update(ready_by=clock.now() + dt.timedelta(hours=1))

    run = cycle(mall)

    assert run.orders_considered == 0
    assert not live_routes(mall).exists()


def test_the_closest_then_longest_idle_driver_is_offered_first(mall, ready_orders):
    now = clock.now()
    far = driver_go_online(driver=f.DriverFactory(), mall=mall, latitude=36.30, longitude=-115.3)
    near_recent = driver_go_online(driver=f.DriverFactory(), mall=mall)
    near_idle_long = driver_go_online(driver=f.DriverFactory(), mall=mall)
    near_recent.idle_since = now
    near_recent.save(update_fields=["idle_since"])
    near_idle_long.idle_since = now - dt.timedelta(hours=1)
    near_idle_long.save(update_fields=["idle_since"])
    ready_orders(1)

    ranked = eligible_drivers(mall)  # also `driver`, online at the mall since the set-up
    assert ranked[0] == near_idle_long
    assert ranked[-1] == far
    assert ranked.index(near_recent) < ranked.index(far)
    cycle(mall)

    assert Offer.objects.get(status=OFS.PENDING).driver == near_idle_long


def test_a_vehicle_too_small_for_the_route_is_skipped(mall, ready_orders, driver, other_driver):
    driver.capacity_bags = 1
    driver.save(update_fields=["capacity_bags"])
    (order,) = ready_orders(1)
    Order.objects.filter(pk=order.pk).update(bags=3)

    cycle(mall)

    assert Offer.objects.get(status=OFS.PENDING).driver == other_driver


# --- The cascade ----------------------------------------------------------------------------


def test_a_decline_sends_the_route_to_the_next_driver(mall, ready_orders, driver, other_driver):
    ready_orders(1)
    cycle(mall)
    first = Offer.objects.get(status=OFS.PENDING)

    offer_decline(offer=first, actor=Actor.driver(first.driver.user), reason="Too far")
    run = cycle(mall)

    second = Offer.objects.get(status=OFS.PENDING)
    assert second.route_id == first.route_id
    assert second.driver != first.driver
    assert kinds(run) == [D.OFFERED]


def test_an_expired_offer_is_swept_by_the_cycle_and_the_next_driver_asked(
    mall, ready_orders, driver, other_driver
):
    start = clock.now()
    ready_orders(1)
    with clock.frozen_at(start):
        cycle(mall)
    first = Offer.objects.get(status=OFS.PENDING)
    assert first.expires_at == start + dt.timedelta(seconds=settings.MALLRUN_OFFER_SECONDS)

    with clock.frozen_at(start + dt.timedelta(seconds=settings.MALLRUN_OFFER_SECONDS - 1)):
        run = cycle(mall)
    assert run.offers_expired == 0
    assert Offer.objects.get(status=OFS.PENDING) == first

    with clock.frozen_at(start + dt.timedelta(seconds=settings.MALLRUN_OFFER_SECONDS)):
        run = cycle(mall)

    first.refresh_from_db()
    assert first.status == OFS.EXPIRED
    assert run.offers_expired == 1
    assert kinds(run) == [D.EXPIRED, D.OFFERED]
    assert Offer.objects.get(status=OFS.PENDING).driver != first.driver


def test_repeated_misses_boost_the_pay_and_ask_everyone_again(
    mall, ready_orders, driver, other_driver, settings
):
    settings.MALLRUN_DISPATCH_BOOST_AFTER_MISSES = 2
    settings.MALLRUN_DISPATCH_BOOST_CENTS = 300
    ready_orders(1)
    cycle(mall)
    route = live_routes(mall).get()
    base_pay = route.pay_cents
    for _ in range(2):
        offer = Offer.objects.get(status=OFS.PENDING)
        offer_decline(offer=offer, actor=Actor.system("tests"), reason="No")
        run = cycle(mall)

    boost = PayLine.objects.get(route=route, kind=PayLine.Kind.BOOST)
    assert boost.amount_cents == 300
    assert kinds(run) == [D.BOOSTED, D.OFFERED]
    third = Offer.objects.get(status=OFS.PENDING)
    assert third.pay_cents == base_pay + 300
    assert third.driver in (driver, other_driver)  # both passed before the boost


def test_with_nobody_available_the_route_waits_and_orders_are_flagged(mall, ready_orders, driver):
    driver_go_offline(driver=driver)
    (order,) = ready_orders(1)

    run = cycle(mall)

    route = live_routes(mall).get()
    assert route.status == RS.PLANNED
    assert run.routes_waiting == 1
    assert kinds(run) == [D.PLANNED, D.WAITING, D.AT_RISK]
    order.refresh_from_db()
    assert order.attention.startswith("No driver available")
    assert order.attention_since is not None

    # A driver comes online: the next cycle offers the same route (no churn without news).
    driver_go_online(driver=driver, mall=mall)
    run = cycle(mall)
    assert kinds(run) == [D.OFFERED]
    assert Offer.objects.get(status=OFS.PENDING).route == route


def test_a_dropped_route_goes_back_to_offering(mall, ready_orders, driver, other_driver):
    ready_orders(1)
    cycle(mall)
    offer = Offer.objects.get(status=OFS.PENDING)
    route = offer_accept(offer=offer, actor=Actor.driver(offer.driver.user))

    route_release(route=route, actor=Actor.driver(offer.driver.user), reason="Flat tyre")
    cycle(mall)

    again = Offer.objects.get(status=OFS.PENDING)
    assert again.route == route
    assert again.driver != offer.driver


# --- Re-planning ----------------------------------------------------------------------------


def test_cancelling_an_order_replans_its_route(mall, ready_orders, driver):
    kept, gone = ready_orders(2)
    cycle(mall)
    old = live_routes(mall).get()
    assert old.status == RS.OFFERED

    order_cancel(order=gone, actor=Actor.system("tests"), reason="Changed my mind")
    run = cycle(mall)

    old.refresh_from_db()
    assert old.status == RS.CANCELLED
    new = live_routes(mall).get()
    assert [o.pk for o in route_orders(new)] == [kept.pk]
    assert kinds(run) == [D.REPLANNED, D.PLANNED, D.OFFERED]
    assert Offer.objects.get(status=OFS.PENDING).route == new


def test_new_orders_are_batched_with_a_route_nobody_was_offered(mall, ready_orders, driver):
    driver_go_offline(driver=driver)
    ready_orders(1)
    cycle(mall)
    waiting = live_routes(mall).get()

    ready_orders(1)
    run = cycle(mall)

    waiting.refresh_from_db()
    assert waiting.status == RS.CANCELLED
    merged = live_routes(mall).get()
    assert len(route_orders(merged)) == 2
    assert D.REPLANNED in kinds(run)


def test_a_route_still_waiting_after_its_planned_arrival_is_replanned(mall, ready_orders, driver):
    driver_go_offline(driver=driver)
    (order,) = ready_orders(1)
    start = clock.now()
    with clock.frozen_at(start):
        cycle(mall)
    waiting = live_routes(mall).get()

    with clock.frozen_at(start + dt.timedelta(hours=3)):
        run = cycle(mall)

    waiting.refresh_from_db()
    assert waiting.status == RS.CANCELLED
    assert "promise at risk" in run.decisions.get(kind=D.REPLANNED).detail
    fresh = live_routes(mall).get()
    assert fresh.stops.get(kind="dropoff").planned_arrival > start + dt.timedelta(hours=3)


def test_a_promise_no_plan_can_keep_is_flagged_for_ops(mall, ready_orders, driver):
    (order,) = ready_orders(1)
    Order.objects.filter(pk=order.pk).update(promised_by=clock.now() - dt.timedelta(minutes=5))

    run = cycle(mall)

    order.refresh_from_db()
    assert order.attention.startswith("Promise at risk")
    assert D.AT_RISK in kinds(run)
    assert live_routes(mall).get().status == RS.OFFERED  # still planned and offered, first


def test_an_accepted_route_is_never_replanned(mall, ready_orders, driver):
    ready_orders(1)
    cycle(mall)
    offer = Offer.objects.get(status=OFS.PENDING)
    route = offer_accept(offer=offer, actor=Actor.driver(driver.user))
    ready_orders(1)

    cycle(mall)

    route.refresh_from_db()
    assert route.status == RS.ACCEPTED
    assert live_routes(mall).count() == 2


# --- Lock -----------------------------------------------------------------------------------


def test_a_cycle_is_skipped_while_another_holds_the_mall(mall, ready_orders, driver):
    ready_orders(1)
    assert lock_claim(mall_id=mall.pk, token="other-worker")

    run = cycle(mall)

    assert run.outcome == DispatchRun.Outcome.SKIPPED
    assert not live_routes(mall).exists()
    assert DispatchLock.objects.get(mall=mall).rerun  # the holder will run again


def test_the_lock_is_claimed_by_exactly_one_and_reruns_for_the_loser(mall):
    assert lock_claim(mall_id=mall.pk, token="a")
    assert not lock_claim(mall_id=mall.pk, token="b")

    assert lock_release(mall_id=mall.pk, token="a") is True  # b's trigger: run again
    assert not lock_claim(mall_id=mall.pk, token="b")  # a still holds it for the re-run
    lock_release(mall_id=mall.pk, token="a")
    assert lock_release(mall_id=mall.pk, token="a") is False
    assert lock_claim(mall_id=mall.pk, token="b")


def test_a_crashed_holder_blocks_the_mall_only_until_its_lease_ends(mall, settings):
    start = clock.now()
    with clock.frozen_at(start):
        assert lock_claim(mall_id=mall.pk, token="crashed")
    lease = dt.timedelta(seconds=settings.MALLRUN_DISPATCH_LOCK_SECONDS)
    with clock.frozen_at(start + lease - dt.timedelta(seconds=1)):
        assert not lock_claim(mall_id=mall.pk, token="next")
    with clock.frozen_at(start + lease):
        assert lock_claim(mall_id=mall.pk, token="next")


def test_a_finished_cycle_leaves_the_lock_free(mall, ready_orders, driver):
    ready_orders(1)
    cycle(mall)

    lock = DispatchLock.objects.get(mall=mall)
    assert (lock.holder, lock.locked_until) == ("", None)


def test_a_failing_cycle_is_logged_and_frees_the_lock(mall, ready_orders, monkeypatch):
    from drivers.dispatch import cycle as cycle_module

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(cycle_module, "_plan_pending", boom)
    ready_orders(1)

    run = cycle(mall)

    assert run.outcome == DispatchRun.Outcome.FAILED
    assert "database went away" in run.note
    assert DispatchLock.objects.get(mall=mall).holder == ""


# --- Solver failure inside a cycle ------------------------------------------------------------


def test_a_cycle_uses_the_greedy_plan_when_the_solver_fails(
    mall, ready_orders, driver, monkeypatch
):
    from drivers.dispatch import policies

    def broken(problem, **_):
        raise RuntimeError("no licence")

    monkeypatch.setattr(policies, "SOLVER", broken)
    ready_orders(2)

    run = cycle(mall)

    assert (run.policy, run.method) == ("solver", "greedy")
    assert "no licence" in run.fallback_reason
    assert live_routes(mall).get().policy == "solver→greedy"
    assert "fallback" in run.decisions.get(kind=D.PLANNED).detail


@pytest.mark.parametrize("policy", ["single", "greedy"])
def test_policies_are_chosen_by_name(mall, ready_orders, driver, policy):
    ready_orders(3)

    run = cycle(mall, policy=policy)

    assert run.method == policy
    assert live_routes(mall).count() == (3 if policy == "single" else 1)


# --- Triggers and the schedule ----------------------------------------------------------------


@pytest.fixture
def events_on(settings):
    settings.MALLRUN_DISPATCH_ON_EVENTS = True


def test_an_order_becoming_ready_starts_the_malls_cycle(
    events_on, mall, place_order, advance, stock, driver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = advance(place_order(stock), Order.Status.READY)

    assert DispatchRun.objects.filter(mall=mall, trigger__startswith="order ").exists()
    stop = RouteStop.objects.get(order=order)
    assert stop.route.status == RS.OFFERED


def test_a_decline_starts_the_cycle_that_asks_the_next_driver(
    events_on, mall, ready_orders, driver, other_driver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ready_orders(1)
    first = Offer.objects.get(status=OFS.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        offer_decline(offer=first, actor=Actor.driver(first.driver.user))

    assert DispatchRun.objects.filter(trigger="offer declined").exists()
    assert Offer.objects.get(status=OFS.PENDING).driver != first.driver


def test_muted_side_effects_start_no_dispatch(
    events_on, mall, place_order, advance, stock, driver, django_capture_on_commit_callbacks
):
    with side_effects_muted(), django_capture_on_commit_callbacks(execute=True):
        advance(place_order(stock), Order.Status.READY)

    assert not DispatchRun.objects.exists()


def test_the_periodic_schedule_exists_once_and_fans_out_per_busy_mall(mall, ready_orders, driver):
    assert Schedule.objects.filter(func="drivers.tasks.dispatch_all_malls").count() == 1
    f.MallFactory()  # a quiet mall: no task for it
    ready_orders(1)

    assert dispatch_all_malls() == [mall.pk]
    assert DispatchRun.objects.get().trigger == "periodic"


# --- Admin -----------------------------------------------------------------------------------


def test_ops_read_the_dispatch_log_in_admin(client, ops_user, mall, ready_orders, driver):
    ready_orders(2)
    run = cycle(mall)
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    client.force_login(ops_user)

    listing = client.get("/admin/drivers/dispatchrun/")
    detail = client.get(f"/admin/drivers/dispatchrun/{run.pk}/change/")

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert "Route planned" in detail.content.decode()
    assert "Offered" in detail.content.decode()


def test_a_no_driver_flag_comes_down_when_a_driver_takes_the_route(
    place_order, stock, mall, driver, advance
):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor
    from orders.services import NO_DRIVER, order_flag_attention

    order = advance(place_order(stock), "ready")
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    order_flag_attention(order=order, actor=Actor.system(), attention=f"{NO_DRIVER} for route 1")
    offer = route_offer(route=route, driver=driver, actor=Actor.system())
    offer_accept(offer=offer, actor=Actor.driver(driver.user))
    order.refresh_from_db()
    assert order.attention == ""
