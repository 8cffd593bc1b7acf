"""Whole-stack benchmark: gunicorn + a load generator (wrk) in a second process on loopback.

Each page is measured in the same run as a trivial reference view (`/health/web/`, one
`SELECT 1`), and reported as requests per second, p99 latency and the ratio to the reference:
the storefront's availability page (and a search), a shopper's tracking page, the store
board, the ops board, and the API's `GET /api/v1/orders` and `POST /api/v1/orders` (a fresh
Idempotency-Key per request, so every POST really places an order).

It builds a throw-away database with the demo data: SQLite by default, or a PostgreSQL URL
with `--database` (created when missing, dropped afterwards; never the one in DATABASE_URL).
So that same-day orders are accepted whenever the benchmark runs, the bench database moves the
Las Vegas mall to a time zone where it is midday, opens its stores all day and gives the
benchmarked product a large stock; the API key's rate limit is lifted and the store queue's
minutes per order set to 0 for the run (thousands of unaccepted orders would otherwise push
the promise past the day).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from statistics import median

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

HTMX = {"HX-Request": "true"}

# (label, path or key of a prepared path, who is asking[, extra headers])
PAGES = [
    ("reference: /health/web/ (SELECT 1)", "/health/web/", None),
    ("availability (Las Vegas, demo catalog)", "/shop/", "location"),
    ("availability, search 'lip'", "/shop/?q=lip", "location"),
    ("tracking page (shopper)", "{tracking}", "shopper"),
    ("tracking page, its 10 s poll", "{tracking}", "shopper", HTMX),
    ("store board (manager)", "{store_board}", "store"),
    ("store board, its 10 s poll", "{store_board}", "store", HTMX),
    ("ops board (ops staff)", "{ops_board}", "ops"),
    ("ops board, its 10 s poll", "{ops_board}", "ops", HTMX),
    ("API POST /api/v1/orders (new order each)", "/api/v1/orders/", "api-post"),
    ("API GET /api/v1/orders (50 per page)", "/api/v1/orders/", "api"),
]

READING = [
    "## Reading the figures",
    "",
    "The reference answers from a process that reads no session and runs one `SELECT 1`. "
    "Each page is requested again and again by the same person, the way an open screen "
    "polls it; the `poll` rows are the partial an open screen actually fetches every 10 s. "
    "What keeps the pages near the reference:",
    "",
    "- **One query for the session and the person** (`config/sessions.py`: the session row "
    "carries the user id and is read with a join), and the reads every request makes "
    "(memberships, API key, counters, cart count, the ops board's malls) in hand-written "
    "SQL built once per process (`config/hot_reads.py`): through the ORM, building those "
    "queries cost more than running them.",
    "- **Prepared statements on PostgreSQL** (server-side binding, `prepare_threshold` 3): "
    "the database stops planning the same statements on every request.",
    "- **No write on a read.** The API throttle reserves a share of a key's window per "
    "process with one write (`orders/api/throttling.py`: 12 requests at a time for 600/min, "
    "exact for small budgets), and its counters, like the boards' versions, live in an "
    "UNLOGGED table on PostgreSQL, so a bump doesn't wait for a WAL flush.",
    "- **Nothing rendered twice for the same state.** The availability listing is kept per "
    "location cell and query, and the frame around it (header, search form, facets) per "
    "visitor, place and query; the tracking page's live part is kept under a fingerprint "
    "of what it shows (statuses, newest events, the driver's last fix), read in the one "
    "query that also checks the checkout is the viewer's; the boards' live parts are "
    "shared by a store's staff (an ops team) and dropped when an order changes; the frame "
    "around each (header, navigation) is kept per person, with their CSRF token and the "
    "CSP nonce put in per response. The API list reads its page's ids and stamps in one "
    "SELECT, reuses each unchanged order's JSON and, when no order of the page changed, "
    "the whole body.",
    "",
    "So these rows measure the steady state of a screen or an integration polling while "
    "little changes, which is most of their requests. A request that finds something "
    "changed renders that part again: measured in-process on the same data (`COLD` below, "
    "when given) it costs what the page cost before it was kept.",
    "",
    "`POST /api/v1/orders` is not a page and stays far from a third of a `SELECT 1`: it is "
    "a durable write — API key, idempotency claim, the quote (store, hours, closures, fee "
    "tiers, stock, drivers, queue), the placement under row locks (address, stock, order, "
    "line, event), the queued task, the board versions and the stored response: 23 "
    "statements in 5 transactions, the order durable on disk before it is confirmed. What "
    "scales it is more web processes and the database, not a cache (an order must never be "
    "answered from one).",
    "",
    "Query counts per page don't grow with the data (tests/queries). docs/deploy.md has how "
    "to scale out: more web processes behind the balancer, read replicas for the read-heavy "
    "pages, Redis for the cache and broker.",
]

POST_SCRIPT = """
-- setup() runs in the main state; thread:set() makes `thread_id` a global in each thread.
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  run = args[1] or "run"
end
request = function()
  counter = counter + 1
  local key = string.format("bench-%s-%d-%d", run, thread_id or 0, counter)
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. os.getenv("MALLRUN_BENCH_KEY"),
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, os.getenv("MALLRUN_BENCH_BODY"))
end
"""

PREPARE = """
import datetime as dt, json, zoneinfo
from django.contrib.auth.models import User
from orders.api.auth import api_key_create
from orders.models import Order
from orders.permissions import Actor
from retailers.models import Mall, Stock, StoreHours, StoreMembership

now = dt.datetime.now(dt.UTC)
zone = next(
    z for z in sorted(zoneinfo.available_timezones())
    if "/" in z and not z.startswith(("Etc", "SystemV"))
    and 11 <= now.astimezone(zoneinfo.ZoneInfo(z)).hour <= 13
)
mall = Mall.objects.get(slug="fashion-show-las-vegas")
mall.timezone = zone
mall.same_day_cutoff = dt.time(23, 0)
mall.save()
for hours in StoreHours.objects.filter(store__mall=mall):
    hours.opens_at, hours.closes_at = dt.time(0, 0), dt.time(23, 59)
    hours.save()
manager = User.objects.get(username="store")
store = (
    StoreMembership.objects.filter(user=manager, store__mall=mall).select_related("store")
    .first().store
)
stock = Stock.objects.filter(store=store, product__is_active=True).order_by("pk").first()
stock.on_hand = stock.reserved + 1_000_000
stock.save()
# An order on its way (driver, live ETA: the fullest page, and one an open screen polls).
mine = Order.objects.filter(shopper__user__username="shopper").order_by("-pk")
order = (
    mine.filter(status=Order.Status.PICKED_UP).first()
    or mine.filter(status__in=Order.OPEN_STATUSES).first()
    or mine.first()
)
key, raw = api_key_create(
    name="bench", scopes=["orders:read", "orders:write"], partner="Bench Market",
    retailer=None, test_mode=False, actor=Actor.system("bench"),
)
body = {
    "store_id": store.pk,
    "items": [{"product_id": stock.product_id, "quantity": 1}],
    "address": {"line1": "3200 S Las Vegas Blvd", "city": "Las Vegas", "state": "NV",
                "zip_code": "89109", "latitude": mall.latitude + 0.02,
                "longitude": mall.longitude + 0.01},
    "recipient": {"name": "Bench Shopper", "phone": "+17025550100"},
}
print(json.dumps({
    "tracking": f"/track/{order.group}/",
    "store_board": f"/store/{store.slug}/",
    "ops_board": f"/ops/m/{mall.slug}/",
    "key": raw,
    "body": json.dumps(body),
    "zone": zone,
}))
"""


# In-process, on the bench data: a page kept (as wrk saw it) and rendered again every time
# (what a request that finds something changed costs). Prints JSON {label: [kept, again]}.
COLD = """
import json, os, time
from django.contrib.auth.models import User
from django.test import Client
from orders import board_cache
from orders.api import representations
import orders.views

prepared = json.loads(os.environ["MALLRUN_BENCH_PREPARED"])
which = os.environ["MALLRUN_BENCH_COLD"].split(",")
kept_render = board_cache.cached_render

def render_always(key, *, stamp, seconds, render, **_):
    return render()

def client(who=None):
    browser = Client(HTTP_HOST="127.0.0.1")
    if who:
        browser.force_login(User.objects.get(username=who))
    return browser

pages = {
    "tracking page (shopper)": (prepared["tracking"], "shopper", {}),
    "store board (manager)": (prepared["store_board"], "store", {}),
    "ops board (ops staff)": (prepared["ops_board"], "ops", {}),
    "API GET /api/v1/orders (50 per page)": (
        "/api/v1/orders/", None, {"HTTP_AUTHORIZATION": "Bearer " + prepared["key"]}
    ),
}
out = {}
for label in which:
    path, who, headers = pages[label]
    browser = client(who)
    times = []
    for again in (False, True):
        render = render_always if again else kept_render
        board_cache.cached_render = orders.views.cached_render = render

        def hit():
            if again:
                representations.forget_all()
            assert browser.get(path, **headers).status_code == 200

        for _ in range(5):
            hit()
        started = time.perf_counter()
        for _ in range(100):
            hit()
        times.append((time.perf_counter() - started) * 10)
    out[label] = times
print(json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.3)
    raise CommandError(f"the server at {url} did not answer")


def _session_with_location(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/shop/?zip=89109", timeout=10).read()
    for cookie in jar:
        if cookie.name == "sessionid":
            return f"sessionid={cookie.value}"
    raise CommandError("no session cookie came back from /shop/?zip=89109")


def _session_of(base: str, username: str) -> str:
    """Log in through the login page like a person; returns the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/", timeout=10).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urllib.parse.urlencode(
        {"username": username, "password": "mallrun", "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(f"{base}/accounts/login/", data=data, timeout=10).read()
    for cookie in jar:
        if cookie.name == "sessionid":
            return f"sessionid={cookie.value}"
    raise CommandError(f"could not log in as {username}")


def _wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    script: str | None = None,
    script_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(match.group(1)), match.group(2)
    p99_ms = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise CommandError(f"{url}: {errors.group(1)} error responses\n{out}")
    return rps, p99_ms


class Command(BaseCommand):
    help = "Benchmark pages against a reference view with gunicorn and wrk; write docs/bench.md."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=5, help="Per run of wrk.")
        parser.add_argument(
            "--rounds",
            type=int,
            default=3,
            help="Runs of each page, each after a run of the reference; medians are reported.",
        )
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--out", default=str(settings.BASE_DIR / "docs" / "bench.md"))
        parser.add_argument("--database", default="", help="URL of an empty database to use.")
        parser.add_argument(
            "--redis",
            default="",
            help="Also run with this Redis (e.g. redis://127.0.0.1:6379/5) as cache, session "
            "store (cached_db) and task broker, as a second table.",
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated words: measure only the pages whose label contains one "
            "(the reference always runs), e.g. --only 'API GET'. For trying a change; "
            "docs/bench.md is written from a full run.",
        )

    def handle(
        self, *args, seconds, rounds, connections, workers, out, database, redis, only, **options
    ):
        words = [w.strip() for w in only.split(",") if w.strip()]
        self.pages = [
            page
            for index, page in enumerate(PAGES)
            if index == 0 or not words or any(w in page[0] for w in words)
        ]
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed: apt-get install -y wrk")
        is_postgres = database.startswith(("postgres://", "postgresql://"))
        setups = [("PostgreSQL only" if is_postgres else "SQLite (WAL)", {})]
        if redis:
            setups.append(
                (
                    "PostgreSQL + Redis (cache, sessions, task broker)",
                    {
                        "REDIS_URL": redis,
                        "DJANGO_CACHE_BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "DJANGO_CACHE_LOCATION": redis,
                        "DJANGO_SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",
                    },
                )
            )
        tables = []
        for name, extra in setups:
            self.stdout.write(f"== {name}")
            rows = self._run(extra, seconds, rounds, connections, workers, database, redis)
            tables.append((name, rows))
        lines = [
            "# Whole-stack benchmark",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
            f"({os.cpu_count()} cores, {platform.machine()}), Python {platform.python_version()}, "
            f"gunicorn {workers} sync workers, wrk 2 threads × {connections} "
            f"connections, demo data loaded (`make bench`, `manage.py bench_pages`). Each page "
            f"is measured in {rounds} runs of {seconds} s after a 2 s warm-up, each run just "
            "after a run of the reference; the table gives the medians, and the ratio is the "
            "median of each run's page ÷ the reference run before it (so the machine speeding "
            "up or slowing down moves both). Load generator, server, database (and Redis) "
            "share the machine's cores, so absolute figures are low; the ratios are what to "
            "compare.",
            "",
            "Target: every page at least a third of the reference view's throughput. Pages are "
            "fetched as the party that uses them (logged-in session cookie or API key). "
            "`POST /api/v1/orders` places a real order per request (fresh Idempotency-Key, "
            "stock locked and reserved, events and webhook/dispatch tasks queued).",
        ]
        for name, rows in tables:
            lines += [
                "",
                f"## {name}",
                "",
                "| page | path | req/s | p99 (ms) | vs reference | ≥ ⅓ |",
                "| --- | --- | ---: | ---: | ---: | :---: |",
            ]
            for label, path, rps, p99, ratio, _ in rows:
                met = "yes" if ratio * 3 >= 1 else "no"
                lines.append(
                    f"| {label} | `{path}` | {rps:.0f} | {p99:.1f} | {ratio:.2f} | {met} |"
                )
            cold = [(label, times) for label, _, _, _, _, times in rows if times]
            if cold:
                lines += [
                    "",
                    "COLD — in-process (Django's test client, same database, 100 requests), ms "
                    "per request:",
                    "",
                    "| page | kept (as above) | rendered again every time |",
                    "| --- | ---: | ---: |",
                    *(f"| {label} | {kept:.2f} | {again:.2f} |" for label, (kept, again) in cold),
                ]
        lines += ["", *READING, ""]
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text("\n".join(lines))
        self.stdout.write(f"Written to {out}")

    def _cold(self, env, prepared, labels):
        if not labels:
            return
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", COLD],
            env={
                **env,
                "MALLRUN_BENCH_PREPARED": json.dumps(prepared),
                "MALLRUN_BENCH_COLD": ",".join(labels),
            },
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise CommandError(f"the in-process timing failed:\n{result.stderr}")
        self.cold.update(json.loads(result.stdout.strip().splitlines()[-1]))

    def _run(self, extra, seconds, rounds, connections, workers, database, redis):
        work = Path(tempfile.mkdtemp(prefix="mallrun-bench-"))
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "DJANGO_STATIC_ROOT": str(work / "static"),
            "DJANGO_MAILER_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DJANGO_LOG_LEVEL": "WARNING",
            "MALLRUN_ACCESS_LOG": "0",
            "MALLRUN_API_RATE": "100000000/min",
            "MALLRUN_LOGIN_FAILURES_PER_IP": "100000",
            # Thousands of orders nobody accepts would otherwise queue the store past the
            # end of the day (3 min each), and the promise rule would refuse the rest.
            "MALLRUN_QUEUE_MINUTES_PER_ORDER": "0",
            **extra,
        }
        env.pop("Q_SYNC", None)
        if redis and extra:
            import redis as redis_client

            redis_client.Redis.from_url(redis).flushdb()
        database = database or f"sqlite:///{work / 'bench.sqlite3'}"
        is_postgres = database.startswith(("postgres://", "postgresql://"))
        if is_postgres:
            _create_postgres_database(database)
        env["DATABASE_URL"] = database
        manage = [sys.executable, "manage.py"]
        cwd = settings.BASE_DIR
        server = None
        try:
            for step in (
                ["migrate", "-v0"],
                ["createcachetable"],
                ["collectstatic", "-v0", "--noinput"],
            ):
                subprocess.run(manage + step, env=env, cwd=cwd, check=True)
            subprocess.run(
                manage + ["load_demo", "--force"],
                env=env,
                cwd=cwd,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            prepare = subprocess.run(
                manage + ["shell", "-c", PREPARE],
                env=env,
                cwd=cwd,
                capture_output=True,
                text=True,
            )
            if prepare.returncode:
                raise CommandError(f"preparing the bench data failed:\n{prepare.stderr}")
            prepared = json.loads(prepare.stdout.strip().splitlines()[-1])
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "-b",
                    f"127.0.0.1:{port}",
                    "-w",
                    str(workers),
                    "--log-level",
                    "warning",
                ],
                env=env,
                cwd=cwd,
            )
            _wait_until_up(f"{base}/health/web/")
            cookies = {
                "location": _session_with_location(base),
                "shopper": _session_of(base, "shopper"),
                "store": _session_of(base, "store"),
                "ops": _session_of(base, "ops"),
            }
            script = work / "post-orders.lua"
            script.write_text(POST_SCRIPT)
            rows = []
            self.cold = {}
            measured = {page[0] for page in self.pages}
            reference_label, reference_path, _ = PAGES[0]
            references = []

            def reference() -> float:
                rps, p99 = _wrk(
                    base + reference_path, seconds=seconds, connections=connections, headers={}
                )
                references.append((rps, p99))
                return rps

            _wrk(base + reference_path, seconds=2, connections=connections, headers={})
            for label, path, who, *extra_headers in self.pages[1:]:
                if who == "api-post":  # before the POSTs fill the store's board
                    self._cold(env, prepared, [c for c in COLD_BEFORE_POST if c in measured])
                path = path.format(**prepared)
                kwargs = {"headers": dict(*extra_headers)}
                if who in cookies:
                    kwargs["headers"]["Cookie"] = cookies[who]
                elif who == "api":
                    kwargs["headers"]["Authorization"] = f"Bearer {prepared['key']}"
                elif who == "api-post":
                    kwargs.update(
                        script=str(script),
                        env={
                            "MALLRUN_BENCH_KEY": prepared["key"],
                            "MALLRUN_BENCH_BODY": prepared["body"],
                        },
                    )
                _probe(base + path, kwargs["headers"], who, prepared)
                runs, ratios = [], []
                for run in ["warmup", *range(rounds)]:
                    if who == "api-post":
                        kwargs["script_args"] = (f"{run}-{os.getpid()}{len(extra)}",)
                    if run == "warmup":
                        _wrk(base + path, seconds=2, connections=connections, **kwargs)
                        continue
                    # Each round pairs the page with a reference run just before it, so a
                    # machine that speeds up or slows down moves both.
                    before = reference()
                    rps, p99 = _wrk(base + path, seconds=seconds, connections=connections, **kwargs)
                    runs.append((rps, p99))
                    ratios.append(rps / before)
                row = (
                    label,
                    path,
                    median(r for r, _ in runs),
                    median(p for _, p in runs),
                    median(ratios),
                )
                rows.append(row)
                self.stdout.write(
                    f"{label:45} {row[2]:8.0f} req/s  p99 {row[3]:6.1f} ms  {row[4]:.2f} × ref"
                )
            if not references:
                reference()
            rows.insert(
                0,
                (
                    reference_label,
                    reference_path,
                    median(r for r, _ in references),
                    median(p for _, p in references),
                    1.0,
                ),
            )
            if not any(page[2] == "api-post" for page in self.pages):
                self._cold(env, prepared, [c for c in COLD_BEFORE_POST if c in measured])
            self._cold(env, prepared, [c for c in COLD_AFTER_POST if c in measured])
            rows = [(*row, self.cold.get(row[0])) for row in rows]
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=20)
            shutil.rmtree(work, ignore_errors=True)
            if is_postgres:
                _drop_postgres_database(database)
        return rows


COLD_BEFORE_POST = ("tracking page (shopper)", "store board (manager)", "ops board (ops staff)")
COLD_AFTER_POST = ("API GET /api/v1/orders (50 per page)",)


def _probe(url: str, headers: dict, who: str | None, prepared: dict) -> None:
    """One request first, so a page that fails says why instead of wrk's bare error count."""
    data = None
    headers = dict(headers)
    if who == "api-post":
        data = prepared["body"].encode()
        headers.update(
            {
                "Authorization": f"Bearer {prepared['key']}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"probe-{os.getpid()}",
            }
        )
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except urllib.error.HTTPError as error:
        raise CommandError(f"{url} answered {error.code}: {error.read()[:2000]!r}") from None


def _admin_connection(url: str):
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise CommandError(f"unexpected database name {name!r}")
    if name == settings.DATABASES["default"].get("NAME"):
        raise CommandError("--database must not be the database in DATABASE_URL")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin_url, autocommit=True), name


def _create_postgres_database(url: str) -> None:
    connection, name = _admin_connection(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _drop_postgres_database(url: str) -> None:
    connection, name = _admin_connection(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
