"""A database of the simulator's own: the real data is never touched.

`scratch_database()` swaps the default connection for a temporary SQLite file (or a given
URL), migrates it and loads the demo catalog; on exit it closes it, puts the real connection
back and deletes the file. Every service keeps using `transaction.atomic()` and the default
alias, so nothing in production code needs to know.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
from django.core.management import call_command
from django.db import connections
from django.db.utils import load_backend

from retailers import clock


class ScratchError(Exception):
    pass


def _same_database(a: dict, b: dict) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(a.get(k) or "") == str(b.get(k) or "") for k in keys)


@contextlib.contextmanager
def scratch_database(url: str | None = None, *, anchor=None) -> Iterator[str]:
    """Yield a description of the scratch database, migrated and with the demo loaded (with
    the clock at `anchor`, so the demo's history is the same every time)."""
    real = connections["default"]
    if url and _same_database(dj_database_url.parse(url), real.settings_dict):
        raise ScratchError("--database must not be the real database.")
    tmpdir = None
    if not url:
        tmpdir = tempfile.mkdtemp(prefix="mallrun-sim-")
        url = f"sqlite:///{Path(tmpdir) / 'simulation.sqlite3'}"
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Rollbacks are needed (each policy's day is rolled back), durability is not.
        config["OPTIONS"] = {"init_command": "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;"}
    config = connections.configure_settings({"default": config})["default"]
    scratch = load_backend(config["ENGINE"]).DatabaseWrapper(config, "default")
    connections["default"] = scratch
    migrated = False
    try:
        if config["ENGINE"] != "django.db.backends.sqlite3":
            _refuse_if_used()
        call_command("migrate", verbosity=0, interactive=False)
        migrated = True
        call_command("createcachetable", verbosity=0)
        if anchor is not None:
            clock.set_source(lambda: anchor)
        try:
            call_command("load_demo", force=True, stdout=_Quiet())
        finally:
            clock.set_source(None)
        vendor = config["ENGINE"].rsplit(".", 1)[-1]
        yield "a temporary SQLite file" if tmpdir else f"{vendor} database {config['NAME']}"
    finally:
        try:
            if tmpdir is None and migrated:
                call_command("flush", verbosity=0, interactive=False)
        finally:
            scratch.close()
            connections["default"] = real
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)


def _refuse_if_used() -> None:
    """A --database URL must be empty (or hold only an earlier simulation's leftovers)."""
    from django.db import connection

    tables = set(connection.introspection.table_names())
    if "retailers_mall" in tables:
        from retailers.demo_data import MALLS
        from retailers.models import Mall
        from retailers.sandbox import SANDBOX_MALL_SLUG

        demo = [m["slug"] for m in MALLS] + [SANDBOX_MALL_SLUG]
        if Mall.objects.exclude(slug__in=demo).exists():
            raise ScratchError("--database holds data that isn't the demo: use an empty one.")
        if Mall.objects.exists():
            call_command("flush", verbosity=0, interactive=False)


class _Quiet:
    def write(self, *args, **kwargs) -> None:
        pass

    def flush(self) -> None:
        pass
