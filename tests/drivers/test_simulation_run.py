"""The simulate command: a tiny day, twice, in its own database."""

import datetime as dt
import io
import json
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from drivers.models import Route
from drivers.simulation.engine import DaySimulation, Settings, simulate_day
from drivers.simulation.scratch import scratch_database
from orders.models import Order
from retailers import clock
from retailers.geo import road_km
from retailers.models import Mall

pytestmark = pytest.mark.django_db

TINY = ["--orders", "8", "--drivers", "3", "--policy", "single,greedy", "--no-progress"]
ANCHOR = dt.datetime(2026, 6, 1, 16, tzinfo=dt.UTC)


def scratch_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("mallrun-sim-*")}


def test_it_reports_each_policy_and_leaves_the_real_database_alone(tmp_path, mall, monkeypatch):
    # A temp folder of this test's own, so another run on the machine can't look like a leak.
    own_tmp = tmp_path / "tmp"
    own_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own_tmp))
    users, before_dirs = get_user_model().objects.count(), scratch_dirs()
    out = io.StringIO()

    call_command("simulate", *TINY, "--seed", "7", "--out", str(tmp_path), stdout=out)

    report = json.loads((tmp_path / "report.json").read_text())
    runs = report["results"]["Fashion Show Las Vegas"]
    assert set(runs) == {"single", "greedy"}
    assert runs["greedy"]["metrics"]["orders_placed"] > 0
    assert runs["greedy"]["metrics"]["orders_delivered"] > 0
    assert {"day-1.png", "policies-1.png", "report.html"} <= {p.name for p in tmp_path.iterdir()}
    assert "on-time rate" in out.getvalue()
    assert str(tmp_path / "report.html") in out.getvalue()
    # The real (test) database: still only this test's mall, no orders, no new users.
    assert list(Mall.objects.values_list("slug", flat=True)) == ["fashion-show"]
    assert Order.objects.count() == 0
    assert get_user_model().objects.count() == users
    # The scratch file is gone and the clock is the real one again.
    assert scratch_dirs() <= before_dirs
    assert abs(clock.now() - timezone.now()) < dt.timedelta(seconds=5)


def test_same_seed_gives_the_same_day_and_another_seed_another():
    def day(seed: int) -> dict:
        settings = Settings(orders=8, drivers=3, seed=seed, policy="greedy")
        result = simulate_day(mall=mall, settings=settings)
        return {"metrics": result["metrics"], "hourly": result["hourly"]}

    with scratch_database(anchor=ANCHOR):
        mall = Mall.objects.get(slug="fashion-show-las-vegas")
        first, second, other = day(7), day(7), day(8)

    assert first == second
    assert first["metrics"]["orders_placed"] > 0
    assert other != first


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the SQLite test database is in memory: no URL for it"
)
def test_it_refuses_the_real_database_as_scratch(tmp_path):
    real = connection.settings_dict
    url = (
        f"postgres://{real['USER']}:{real['PASSWORD']}@{real['HOST']}:{real['PORT']}/{real['NAME']}"
    )

    with pytest.raises(CommandError, match="real database"):
        call_command("simulate", *TINY, "--out", str(tmp_path), "--database", url)


def test_km_and_on_time_match_what_happened_in_the_database():
    """One driver, everybody at home, every offer taken: the driven km are the route legs
    from the mall through the doors, and on time means delivered by the promise."""
    settings = Settings(
        orders=6,
        drivers=1,
        seed=3,
        policy="single",
        fail_rate=0,
        no_answer_rate=0,
        reject_rate=0,
        accept_pay_per_km=-100,
    )
    with scratch_database(anchor=ANCHOR):
        mall = Mall.objects.get(slug="fashion-show-las-vegas")
        with transaction.atomic():
            sim = DaySimulation(mall=mall, settings=settings)
            result = sim.run()
            orders = list(Order.objects.filter(pk__in=sim.order_ids).select_related("address"))
            delivered = [o for o in orders if o.status == Order.Status.DELIVERED]
            # The driver starts at the mall and comes back to it for each next route.
            km, lat, lng = 0.0, mall.latitude, mall.longitude
            for route in Route.objects.filter(pk__in=sim.routes).order_by("accepted_at", "pk"):
                km += road_km(lat, lng, mall.latitude, mall.longitude)
                lat, lng = mall.latitude, mall.longitude
                for stop in route.stops.filter(kind="dropoff").order_by("sequence"):
                    a = stop.order.address
                    km += road_km(lat, lng, a.latitude, a.longitude)
                    lat, lng = a.latitude, a.longitude
            transaction.set_rollback(True)
    m = result["metrics"]
    assert delivered and len(delivered) == m["orders_delivered"]
    assert m["km_per_order"] == round(km / len(delivered), 2)
    on_time = sum(o.delivered_at <= o.promised_by for o in delivered)
    assert m["on_time_rate"] == round(on_time / len(delivered), 4)
    assert m["failed_deliveries"] == 0
