"""Time a catalog CSV import of N rows (default 5 000) into a throw-away store.

Runs inside a transaction that is rolled back, so any database can be used:
`python manage.py bench_catalog_import --rows 5000 --limit 10`. Exits non-zero when the
import (parse + dry run + apply) takes longer than the limit.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orders.permissions import Actor
from retailers.models import Mall, Retailer, Store
from retailers.services import catalog_import_apply, catalog_import_parse, catalog_import_preview


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Measure a catalog CSV import (upsert by SKU) of many rows."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=5000)
        parser.add_argument("--limit", type=float, default=10.0, help="Seconds allowed.")
        parser.add_argument("--out", default="", help="Also write the results to this file.")

    def handle(self, *args, rows, limit, out, **options):
        lines = ["sku,title,price,category,quantity"]
        lines += [
            f"BENCH-{i:06d},Bench item {i},{(i % 9000) / 100 + 1:.2f},Aisle {i % 40},{i % 50}"
            for i in range(rows)
        ]
        data = ("\n".join(lines) + "\n").encode()
        timings = {}
        try:
            with transaction.atomic():
                mall = Mall.objects.create(
                    name="Bench Mall",
                    slug="bench-mall-x",
                    street="1 Bench St",
                    city="Austin",
                    state="TX",
                    zip_code="78701",
                    latitude=30.27,
                    longitude=-97.74,
                    timezone="America/Chicago",
                )
                retailer = Retailer.objects.create(name="Bench Retailer X", slug="bench-retailer-x")
                store = Store.objects.create(
                    mall=mall, retailer=retailer, name="Bench", slug="bench-store-x"
                )
                actor = Actor.system("bench")
                for label in ("first import (all new)", "second import (all updated)"):
                    started = time.perf_counter()
                    plan = catalog_import_parse(data)
                    catalog_import_preview(store=store, plan=plan)
                    result = catalog_import_apply(store=store, actor=actor, plan=plan)
                    timings[label] = time.perf_counter() - started
                    self.stdout.write(f"{label}: {rows} rows in {timings[label]:.2f} s {result}")
                    # the second round changes every price and quantity
                    data = data.replace(b",Aisle ", b",Shelf ")
                raise _Rollback
        except _Rollback:
            pass
        worst = max(timings.values())
        if out:
            from pathlib import Path

            from django.db import connection

            report = [
                "# Catalog CSV import benchmark",
                "",
                f"`bench_catalog_import --rows {rows}` on {connection.vendor}: parse, dry run "
                "and atomic apply (upsert by SKU, stock set, one history row per change).",
                "",
                "| run | rows | seconds |",
                "| --- | ---: | ---: |",
                *[f"| {label} | {rows} | {t:.2f} |" for label, t in timings.items()],
                "",
                f"Limit: {limit} s.",
                "",
            ]
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text("\n".join(report))
        if worst > limit:
            raise CommandError(
                f"Catalog import took {worst:.2f} s for {rows} rows (limit {limit} s)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"OK: worst {worst:.2f} s for {rows} rows (limit {limit} s).")
        )
