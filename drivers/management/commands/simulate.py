"""Play a whole day at the demo malls in simulated time and compare dispatch policies.

Runs in a database of its own (a temporary SQLite file unless --database is given), never
the real one; see docs/simulator.md.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from drivers.dispatch.policies import POLICIES

DEFAULT_DAY = dt.date(2026, 6, 13)  # a Saturday, well after the demo's own blocks
DEMO_ANCHOR = dt.datetime(2026, 6, 1, 16, 0, tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Simulate a day of orders, stores, drivers and dispatch; report per policy."

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--mall", default="fashion-show-las-vegas", help="demo mall slug")
        where.add_argument("--all", action="store_true", help="every demo mall")
        parser.add_argument("--policy", default="single,greedy,solver")
        parser.add_argument("--orders", type=int, default=600, help="checkouts tried per mall")
        parser.add_argument("--drivers", type=int, default=80, help="drivers per mall")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", default="simulation-report")
        parser.add_argument("--database", default="", help="scratch database URL (emptied)")
        parser.add_argument("--time-limit", type=float, default=0.5, help="solver s per cycle")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--bench", default="", help="also write timings as Markdown here")

    def handle(self, *args, **o):
        from drivers.simulation.engine import Settings, simulate_day
        from drivers.simulation.report import table_text, write_report
        from drivers.simulation.scratch import ScratchError, scratch_database
        from retailers.demo_data import MALLS

        policies = [p.strip() for p in o["policy"].split(",") if p.strip()]
        unknown = [p for p in policies if p not in POLICIES]
        if unknown or not policies:
            raise CommandError(f"Unknown policy {unknown}; choose from {', '.join(POLICIES)}.")
        slugs = [m["slug"] for m in MALLS]
        if not o["all"] and o["mall"] not in slugs:
            raise CommandError(f"Unknown mall {o['mall']!r}; demo malls: {', '.join(slugs)}.")
        if o["orders"] < 1 or o["drivers"] < 1:
            raise CommandError("--orders and --drivers must be at least 1.")
        malls = slugs if o["all"] else [o["mall"]]
        results: dict[str, dict] = {}
        timings: dict[str, dict] = {}
        started = time.perf_counter()
        try:
            with scratch_database(o["database"] or None, anchor=DEMO_ANCHOR) as where:
                from retailers.models import Mall

                for slug in malls:
                    mall = Mall.objects.get(slug=slug)
                    results[mall.name] = {}
                    timings[mall.name] = {}
                    for policy in policies:
                        settings = Settings(
                            orders=o["orders"],
                            drivers=o["drivers"],
                            seed=o["seed"],
                            policy=policy,
                            time_limit=o["time_limit"],
                            day=DEFAULT_DAY,
                        )
                        bar = None if o["no_progress"] else _Bar(f"{mall.name[:24]} {policy}")
                        t0 = time.perf_counter()
                        run = simulate_day(mall=mall, settings=settings, progress=bar)
                        timings[mall.name][policy] = round(time.perf_counter() - t0, 1)
                        if bar:
                            bar.done(timings[mall.name][policy])
                        results[mall.name][policy] = run
        except ScratchError as exc:
            raise CommandError(str(exc)) from exc
        meta = {
            "seed": o["seed"],
            "orders": o["orders"],
            "drivers": o["drivers"],
            "policies": policies,
            "day": DEFAULT_DAY.isoformat(),
            "database": where,
            "solver_time_limit_s": o["time_limit"],
        }
        for mall, runs in results.items():
            for policy, run in runs.items():
                run["wall_seconds"] = timings[mall][policy]
        page = write_report(out=Path(o["out"]), results=results, meta=meta)
        if o["bench"]:
            _write_bench(Path(o["bench"]), results, meta, total=time.perf_counter() - started)
        self.stdout.write(table_text(results))
        self.stdout.write(f"\nWall time {time.perf_counter() - started:.1f} s; report: {page}")


def _write_bench(path: Path, results: dict, meta: dict, *, total: float) -> None:
    import os
    import platform

    from drivers.simulation.report import table_text

    now = dt.datetime.now(dt.UTC)
    lines = [
        "# Day simulator benchmark",
        "",
        f"Written by `python manage.py simulate --bench` on {now:%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()} ({os.cpu_count()} cores), Python {platform.python_version()}; "
        f"seed {meta['seed']}, {meta['orders']} checkouts tried, {meta['drivers']} drivers, "
        f"solver limit {meta['solver_time_limit_s']} s per cycle, {meta['database']}.",
        "",
        "| mall | policy | wall time (s) | dispatch cycles (run / skipped) |",
        "| --- | --- | ---: | ---: |",
    ]
    for mall, runs in results.items():
        for policy, run in runs.items():
            m = run["metrics"]
            lines.append(
                f"| {mall} | {policy} | {run['wall_seconds']:.1f} | "
                f"{m['dispatch_cycles']} / {m['dispatch_cycles_skipped']} |"
            )
    lines += [
        "",
        f"Whole command (scratch database, demo load, every day, report): {total:.1f} s.",
        "",
        "```",
        table_text(results),
        "```",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


class _Bar:
    def __init__(self, label: str, width: int = 30):
        self.label, self.width, self.shown = label, width, -1

    def __call__(self, fraction: float) -> None:
        filled = int(fraction * self.width)
        if filled != self.shown:
            self.shown = filled
            sys.stderr.write(f"\r{self.label:<32} [{'#' * filled}{'.' * (self.width - filled)}]")
            sys.stderr.flush()

    def done(self, seconds: float) -> None:
        sys.stderr.write(f" {seconds:.1f} s\n")
